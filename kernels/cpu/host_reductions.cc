// host_reductions.cc — see host_reductions.h.
#include "kernels/cpu/host_reductions.h"

#include "core/multiversion.h"

namespace rumor {

// The loops get an AVX2 clone (RUMOR_MULTIVERSION): baseline x86-64's SSE2 handles two doubles
// at a time. Same operations in the same order (ISO C++ mode contracts nothing into FMAs), same
// results.

// 16 independent partial sums: a single running sum is bound by the latency of one add per
// element (~0.25 of memcpy bandwidth); this version is bound by memory.
RUMOR_MULTIVERSION
double host_sum_squares(const float* x, std::size_t n) {
  constexpr std::size_t kLanes = 16;
  double partial[kLanes] = {};
  std::size_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (std::size_t j = 0; j < kLanes; ++j) {
      partial[j] += static_cast<double>(x[i + j]) * static_cast<double>(x[i + j]);
    }
  }
  for (; i < n; ++i) partial[i % kLanes] += static_cast<double>(x[i]) * static_cast<double>(x[i]);
  for (std::size_t width = kLanes / 2; width > 0; width /= 2) {  // pairwise
    for (std::size_t j = 0; j < width; ++j) partial[j] += partial[j + width];
  }
  return partial[0];
}

RUMOR_MULTIVERSION
void host_accumulate(std::size_t n, double w, const float* __restrict x, double* __restrict acc,
                     bool assign) {
  if (assign) {
    for (std::size_t i = 0; i < n; ++i) acc[i] = w * static_cast<double>(x[i]);
  } else {
    for (std::size_t i = 0; i < n; ++i) acc[i] += w * static_cast<double>(x[i]);
  }
}

RUMOR_MULTIVERSION
void host_fold(std::size_t n, const double* __restrict acc, double scale, float b,
               float* __restrict y) {
  for (std::size_t i = 0; i < n; ++i) y[i] = static_cast<float>(acc[i] * scale) + b * y[i];
}

}  // namespace rumor
