#include "train/linear.h"

namespace rumor {

Linear::Linear(ArenaLayout& layout, const std::string& name, int in, int out)
    : in_(in),
      out_(out),
      weight_offset_(layout.slot(layout.add(name + ".weight", out, in)).offset),
      bias_offset_(layout.slot(layout.add(name + ".bias", 1, out)).offset) {}

void Linear::forward(Backend& backend, const float* params, const float* x, float* y,
                     int batch) const {
  // y[batch, out] = x[batch, in] · W[out, in]ᵀ
  backend.gemm(Transpose::kNo, Transpose::kYes, batch, out_, in_, 1.0f, x,
               params + weight_offset_, 0.0f, y);
  backend.add_bias(y, params + bias_offset_, batch, out_);
}

void Linear::backward(Backend& backend, const float* params, float* grads, const float* x,
                      const float* dy, float* dx, int batch) const {
  // dW[out, in] = dy[batch, out]ᵀ · x[batch, in]
  backend.gemm(Transpose::kYes, Transpose::kNo, out_, in_, batch, 1.0f, dy, x, 0.0f,
               grads + weight_offset_);
  backend.bias_grad(dy, batch, out_, grads + bias_offset_);
  if (dx != nullptr) {
    // dx[batch, in] = dy[batch, out] · W[out, in]
    backend.gemm(Transpose::kNo, Transpose::kNo, batch, in_, out_, 1.0f, dy,
                 params + weight_offset_, 0.0f, dx);
  }
}

}  // namespace rumor
