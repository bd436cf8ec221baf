// cpu_backend.cc — CpuBackend: OpenBLAS for GEMM, plain loops for everything else. The loops
// are written so GCC vectorises them at the baseline ISA (SSE2, no -march): memory-bound ops
// must run at memory bandwidth (tests/bench/bench_kernels measures them against memcpy).
#include "kernels/cpu/cpu_backend.h"

#include <cblas.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>
#include <thread>

#include "core/error.h"
#include "kernels/cpu/host_reductions.h"

namespace rumor {
namespace {

constexpr std::size_t kAlignment = 64;

CBLAS_TRANSPOSE to_cblas(Transpose t) { return t == Transpose::kYes ? CblasTrans : CblasNoTrans; }

}  // namespace

CpuBackend::CpuBackend(int threads) {
  if (threads < 0) {
    throw ConfigError("threads: must be >= 0 (0 = all cores), got " + std::to_string(threads));
  }
  threads_ = threads == 0 ? static_cast<int>(std::max(1u, std::thread::hardware_concurrency()))
                          : threads;
  openblas_set_num_threads(threads_);
}

void* CpuBackend::allocate(std::size_t bytes) {
  // aligned_alloc wants a multiple of the alignment; rounding up must not wrap around to a
  // tiny size for requests near SIZE_MAX.
  if (bytes > std::numeric_limits<std::size_t>::max() - kAlignment) {
    throw Error(detail::concat("cpu: cannot allocate ", bytes, " bytes"));
  }
  const std::size_t rounded = (std::max<std::size_t>(bytes, 1) + kAlignment - 1) / kAlignment *
                              kAlignment;
  void* ptr = std::aligned_alloc(kAlignment, rounded);
  if (ptr == nullptr) throw Error(detail::concat("cpu: out of memory allocating ", bytes, " bytes"));
  return ptr;
}

void CpuBackend::deallocate(void* ptr) noexcept { std::free(ptr); }

// Zero-byte copies return early: memcpy/memmove with a null pointer is undefined even for 0
// bytes, and an empty std::vector's data() may be null.
void CpuBackend::copy_from_host(void* dst, const void* host_src, std::size_t bytes) {
  if (bytes != 0) std::memcpy(dst, host_src, bytes);
}

void CpuBackend::copy_to_host(void* host_dst, const void* src, std::size_t bytes) {
  if (bytes != 0) std::memcpy(host_dst, src, bytes);
}

void CpuBackend::copy(void* dst, const void* src, std::size_t bytes) {
  if (bytes != 0) std::memmove(dst, src, bytes);
}

void CpuBackend::fill(float* x, std::size_t n, float value) { std::fill_n(x, n, value); }

// C[m,n] = alpha·op(A)·op(B) + beta·C, row-major; lda/ldb are the stored row lengths.
void CpuBackend::gemm(Transpose trans_a, Transpose trans_b, int m, int n, int k, float alpha,
                      const float* a, const float* b, float beta, float* c) {
  const int lda = trans_a == Transpose::kNo ? k : m;
  const int ldb = trans_b == Transpose::kNo ? n : k;
  cblas_sgemm(CblasRowMajor, to_cblas(trans_a), to_cblas(trans_b), m, n, k, alpha, a, lda, b,
              ldb, beta, c, n);
}

// y[rows, cols] += bias[cols]
void CpuBackend::add_bias(float* y, const float* bias, int rows, int cols) {
  for (int r = 0; r < rows; ++r) {
    float* row = y + static_cast<std::size_t>(r) * cols;
    for (int c = 0; c < cols; ++c) row[c] += bias[c];
  }
}

// dbias[cols] = column sums of dy[rows, cols]
void CpuBackend::bias_grad(const float* dy, int rows, int cols, float* dbias) {
  std::fill_n(dbias, cols, 0.0f);
  for (int r = 0; r < rows; ++r) {
    const float* row = dy + static_cast<std::size_t>(r) * cols;
    for (int c = 0; c < cols; ++c) dbias[c] += row[c];
  }
}

void CpuBackend::relu(const float* x, float* y, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

void CpuBackend::relu_backward(const float* y, const float* dy, float* dx, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
}

// Per row: numerically stable log-softmax; loss = lse - logit[label].
void CpuBackend::softmax_cross_entropy(const float* logits, const std::int32_t* labels,
                                       int rows, int classes, float grad_scale, float* losses,
                                       float* dlogits) {
  for (int r = 0; r < rows; ++r) {
    const float* z = logits + static_cast<std::size_t>(r) * classes;
    const int label = labels[r];
    float max_z = z[0];
    for (int c = 1; c < classes; ++c) max_z = std::max(max_z, z[c]);
    float sum = 0.0f;
    for (int c = 0; c < classes; ++c) sum += std::exp(z[c] - max_z);
    const float lse = max_z + std::log(sum);
    losses[r] = lse - z[label];
    if (dlogits != nullptr) {
      float* d = dlogits + static_cast<std::size_t>(r) * classes;
      const float inv_sum = 1.0f / sum;
      for (int c = 0; c < classes; ++c) {
        const float p = std::exp(z[c] - max_z) * inv_sum;
        d[c] = grad_scale * (p - (c == label ? 1.0f : 0.0f));
      }
    }
  }
}

void CpuBackend::argmax_rows(const float* x, int rows, int cols, std::int32_t* out) {
  for (int r = 0; r < rows; ++r) {
    const float* row = x + static_cast<std::size_t>(r) * cols;
    out[r] = static_cast<std::int32_t>(std::max_element(row, row + cols) - row);
  }
}

// y = a·x + b·y; memory-bound, one pass.
void CpuBackend::axpby(std::size_t n, float a, const float* x, float b, float* y) {
  for (std::size_t i = 0; i < n; ++i) y[i] = a * x[i] + b * y[i];
}

void CpuBackend::sgd_update(std::size_t n, const SgdConfig& config, float* __restrict params,
                            const float* __restrict grads, float* __restrict velocity) {
  const float lr = config.lr;
  const float mu = config.momentum;
  const float wd = config.weight_decay;
  if (config.nesterov) {
    for (std::size_t i = 0; i < n; ++i) {
      const float g = grads[i] + wd * params[i];
      const float v = mu * velocity[i] + g;
      velocity[i] = v;
      params[i] -= lr * (g + mu * v);
    }
  } else {
    for (std::size_t i = 0; i < n; ++i) {
      const float g = grads[i] + wd * params[i];
      const float v = mu * velocity[i] + g;
      velocity[i] = v;
      params[i] -= lr * v;
    }
  }
}

double CpuBackend::sum_squares(const float* x, std::size_t n) { return host_sum_squares(x, n); }

// NaN and ±Inf are exactly the floats whose exponent bits are all ones. Adding 1 to the
// exponent field of |x| carries into the sign bit only for those, so OR-ing that sum over all
// elements leaves the sign bit clear iff every element is finite. Integer ops only: the loop
// vectorises with SSE2 and runs at memory bandwidth.
bool CpuBackend::all_finite(const float* x, std::size_t n) {
  std::uint32_t acc = 0;
  for (std::size_t i = 0; i < n; ++i) {
    acc |= (std::bit_cast<std::uint32_t>(x[i]) & 0x7fffffffu) + 0x00800000u;
  }
  return (acc & 0x80000000u) == 0;
}

}  // namespace rumor
