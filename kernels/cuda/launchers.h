// launchers.h — host-callable launchers of rumor's CUDA kernels (implemented in the .cu files
// of this folder). Each one issues its kernel(s) on `stream`, returns without waiting, and
// checks cudaGetLastError() after every launch. Pointers are device memory; sizes in elements.
// Semantics are those of the same-named Backend op (kernels/backend.h).
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

#include "kernels/backend.h"

namespace rumor::cuda {

// --- elementwise.cu ---
void fill(cudaStream_t stream, float* x, std::size_t n, float value);
// y[rows, cols] += bias[cols]
void add_bias(cudaStream_t stream, float* y, const float* bias, int rows, int cols);
void relu(cudaStream_t stream, const float* x, float* y, std::size_t n);
void relu_backward(cudaStream_t stream, const float* y, const float* dy, float* dx,
                   std::size_t n);

// --- optimizer.cu ---
// y = a·x + b·y (x may alias y)
void axpby(cudaStream_t stream, std::size_t n, float a, const float* x, float b, float* y);
void sgd_update(cudaStream_t stream, std::size_t n, const SgdConfig& config, float* params,
                const float* grads, float* velocity);

// --- softmax_ce.cu ---
// One warp per row. A label outside [0, classes) gives a NaN loss and NaN gradients for
// that row (the CPU reference would read out of bounds), so all_finite() catches it.
void softmax_cross_entropy(cudaStream_t stream, const float* logits, const std::int32_t* labels,
                           int rows, int classes, float grad_scale, float* losses,
                           float* dlogits);
// First index of the row maximum. Rows holding NaN give an unspecified index in the row.
void argmax_rows(cudaStream_t stream, const float* x, int rows, int cols, std::int32_t* out);

// --- reductions.cu ---
// dbias[cols] = Σ_r dy[r, cols]; deterministic (fixed summation order).
void bias_grad(cudaStream_t stream, const float* dy, int rows, int cols, float* dbias);
// Device scratch that sum_squares() needs, in doubles.
inline constexpr std::size_t kSumSquaresScratch = 1025;
// *result = Σ x[i]^2 accumulated in double, in a summation order that depends only on n
// (deterministic). `scratch` holds kSumSquaresScratch doubles; result may point into it.
void sum_squares(cudaStream_t stream, const float* x, std::size_t n, double* scratch,
                 double* result);
// Sets *flag to 1 when some x[i] is NaN or ±Inf, else 0.
void any_nonfinite(cudaStream_t stream, const float* x, std::size_t n, int* flag);

}  // namespace rumor::cuda
