// linear.h — a fully connected layer as a view into a replica's parameter arena.
//
// Weight is stored [out, in] (as in PyTorch), bias [out]. The layer owns no memory: forward
// and backward receive the arena base pointers and the caller's activation buffers.
#pragma once

#include <cstddef>
#include <string>

#include "core/arena_layout.h"
#include "kernels/backend.h"

namespace rumor {

class Linear {
 public:
  // Registers "<name>.weight" [out, in] and "<name>.bias" [out] in the layout.
  Linear(ArenaLayout& layout, const std::string& name, int in, int out);

  int in() const { return in_; }
  int out() const { return out_; }
  std::size_t weight_offset() const { return weight_offset_; }
  std::size_t bias_offset() const { return bias_offset_; }

  // y[batch, out] = x[batch, in] · Wᵀ + b
  void forward(Backend& backend, const float* params, const float* x, float* y,
               int batch) const;
  // Given dy[batch, out]: writes dW = dyᵀ·x and db = Σ_rows dy into the gradient arena
  // (overwriting), and dx[batch, in] = dy · W unless dx is null (first layer).
  void backward(Backend& backend, const float* params, float* grads, const float* x,
                const float* dy, float* dx, int batch) const;

 private:
  int in_;
  int out_;
  std::size_t weight_offset_;
  std::size_t bias_offset_;
};

}  // namespace rumor
