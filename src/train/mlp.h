// mlp.h — a multi-layer perceptron (Linear → ReLU → … → Linear) over one parameter arena.
//
// The model owns its parameter and gradient arenas (same layout) and the activation
// workspace for up to `max_batch` rows, all in the backend's memory. The softmax
// cross-entropy loss is part of the model's backward pass.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/arena_layout.h"
#include "kernels/backend.h"
#include "train/linear.h"

namespace rumor {

// Layer widths such as 784-256-128-10: input, hidden layers…, classes.
struct MlpSpec {
  std::vector<int> widths;

  // Parses "784-256-128-10"; throws ConfigError saying what is valid (at least two positive
  // widths, each at most 65536).
  static MlpSpec parse(std::string_view text);
  std::string to_string() const;
  int inputs() const { return widths.front(); }
  int classes() const { return widths.back(); }
};

class Mlp {
 public:
  Mlp(Backend& backend, MlpSpec spec, int max_batch);

  const MlpSpec& spec() const { return spec_; }
  const ArenaLayout& layout() const { return layout_; }
  // Floats in the parameter arena (with alignment padding, which stays zero).
  std::size_t parameter_count() const { return layout_.total(); }
  int max_batch() const { return max_batch_; }
  Backend& backend() const { return *backend_; }

  DeviceArray<float>& params() { return params_; }
  const DeviceArray<float>& params() const { return params_; }
  DeviceArray<float>& grads() { return grads_; }

  // He (Kaiming-normal, fan-in) weights from `seed`, zero biases and padding.
  void init_he(std::uint64_t seed);

  // Runs the network on x[batch, inputs] (backend memory); returns logits[batch, classes],
  // valid until the next forward.
  const float* forward(const float* x, int batch);

  // Forward + softmax cross-entropy (mean over the batch) + backward. Writes per-example
  // losses to losses()[0..batch) and the gradient of the mean loss into grads().
  void forward_backward(const float* x, const std::int32_t* labels, int batch);
  // Per-example losses of the last forward_backward() or loss_only() (backend memory).
  const float* losses() const { return losses_.data(); }
  // Forward + per-example losses, no gradients; returns the logits (as forward()).
  const float* loss_only(const float* x, const std::int32_t* labels, int batch);

 private:
  Backend* backend_;
  MlpSpec spec_;
  int max_batch_;
  ArenaLayout layout_;
  std::vector<Linear> layers_;
  DeviceArray<float> params_;
  DeviceArray<float> grads_;
  // activations_[i] is layer i's output [max_batch, width]; the last one holds logits.
  std::vector<DeviceArray<float>> activations_;
  // Gradient buffers for layer outputs (two, used alternately) of the widest layer.
  DeviceArray<float> delta_a_;
  DeviceArray<float> delta_b_;
  DeviceArray<float> losses_;
};

}  // namespace rumor
