// host_reductions.h — reductions over float arrays in host memory, for any code that holds
// host data (CpuBackend, and the gossip engine's plausibility check on wire payloads and
// snapshots, whatever the backend). Built with the kernels' -O3 so the loops vectorise.
#pragma once

#include <cstddef>

namespace rumor {

// Σ x², in double.
double host_sum_squares(const float* x, std::size_t n);

}  // namespace rumor
