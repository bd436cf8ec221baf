// host_reductions.h — reductions and accumulations over arrays in host memory, for any code
// that holds host data (CpuBackend; the gossip engine's plausibility check on wire payloads and
// snapshots, whatever the backend; the mixing rules' double-precision accumulators). Built with
// the kernels' -O3 so the loops vectorise.
#pragma once

#include <cstddef>

namespace rumor {

// Σ x², in double.
double host_sum_squares(const float* x, std::size_t n);

// acc[i] = w·x[i] (assign) or acc[i] += w·x[i], in double: n elements.
void host_accumulate(std::size_t n, double w, const float* x, double* acc, bool assign);

// y[i] = float(acc[i]·scale) + b·y[i]: folds a double accumulator into float32 values in one
// pass (what staging float(acc·scale) and an axpby with a = 1 compute, without the staging).
void host_fold(std::size_t n, const double* acc, double scale, float b, float* y);

}  // namespace rumor
