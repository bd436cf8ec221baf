#include "train/optimizer.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "core/error.h"

namespace rumor {

LrSchedule::LrSchedule(float base_lr, std::int64_t warmup_steps, std::int64_t total_steps)
    : base_lr_(base_lr), warmup_steps_(warmup_steps), total_steps_(total_steps) {
  RUMOR_CHECK(warmup_steps >= 0 && total_steps > 0, "bad schedule: warmup ", warmup_steps,
              ", total ", total_steps);
}

float LrSchedule::at(std::int64_t step) const {
  if (step < warmup_steps_) {
    return base_lr_ * static_cast<float>(step + 1) / static_cast<float>(warmup_steps_);
  }
  const std::int64_t decay_steps = std::max<std::int64_t>(1, total_steps_ - warmup_steps_);
  const double progress =
      std::clamp(static_cast<double>(step - warmup_steps_) / decay_steps, 0.0, 1.0);
  return static_cast<float>(base_lr_ * 0.5 * (1.0 + std::cos(std::numbers::pi * progress)));
}

Sgd::Sgd(Backend& backend, std::size_t parameter_count, SgdConfig config)
    : backend_(&backend), config_(config), velocity_(backend, parameter_count) {
  backend.fill(velocity_.data(), velocity_.size(), 0.0f);
}

void Sgd::step(float* params, const float* grads, float lr) {
  SgdConfig config = config_;
  config.lr = lr;
  backend_->sgd_update(velocity_.size(), config, params, grads, velocity_.data());
}

}  // namespace rumor
