// optimizer.h — SGD with momentum over a whole parameter arena, and the learning-rate
// schedule (linear warm-up, then cosine decay to zero).
#pragma once

#include <cstdint>

#include "kernels/backend.h"

namespace rumor {

// lr(step) for 0-based step < total_steps: warm-up from lr/warmup to lr over `warmup_steps`
// steps, then cosine decay from lr towards 0 at total_steps.
class LrSchedule {
 public:
  LrSchedule(float base_lr, std::int64_t warmup_steps, std::int64_t total_steps);
  float at(std::int64_t step) const;
  float base_lr() const { return base_lr_; }

 private:
  float base_lr_;
  std::int64_t warmup_steps_;
  std::int64_t total_steps_;
};

// SGD (momentum, optional Nesterov, L2 weight decay) whose velocity lives on the backend.
class Sgd {
 public:
  // `config.lr` is ignored: each step takes its learning rate.
  Sgd(Backend& backend, std::size_t parameter_count, SgdConfig config);

  // params -= update(grads) with learning rate `lr`; n = parameter_count.
  void step(float* params, const float* grads, float lr);

  const SgdConfig& config() const { return config_; }
  DeviceArray<float>& velocity() { return velocity_; }
  const DeviceArray<float>& velocity() const { return velocity_; }

 private:
  Backend* backend_;
  SgdConfig config_;
  DeviceArray<float> velocity_;
};

}  // namespace rumor
