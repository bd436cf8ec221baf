// warp_reduce.cuh — butterfly reductions across the 32 lanes of a warp (every lane ends with
// the result) and a block-wide sum; the order of operations is fixed, so results are
// deterministic.
#pragma once

#include <cuda_runtime.h>

namespace rumor::cuda {

inline constexpr int kWarpSize = 32;
inline constexpr unsigned kFullMask = 0xffffffffu;

template <class T>
__device__ __forceinline__ T warp_sum(T v) {
#pragma unroll
  for (int offset = kWarpSize / 2; offset > 0; offset /= 2) v += __shfl_xor_sync(kFullMask, v, offset);
  return v;
}

__device__ __forceinline__ float warp_max(float v) {
#pragma unroll
  for (int offset = kWarpSize / 2; offset > 0; offset /= 2) {
    v = fmaxf(v, __shfl_xor_sync(kFullMask, v, offset));
  }
  return v;
}

// Sum over all threads of a 1-D block whose size is a multiple of 32 (at most 1024); the
// result is valid in thread 0. Every thread of the block must call it.
template <class T>
__device__ T block_sum(T v) {
  __shared__ T warp_totals[kWarpSize];
  const int lane = threadIdx.x % kWarpSize;
  const int warp = threadIdx.x / kWarpSize;
  v = warp_sum(v);
  if (lane == 0) warp_totals[warp] = v;
  __syncthreads();
  const int warps = blockDim.x / kWarpSize;
  if (warp == 0) {
    v = lane < warps ? warp_totals[lane] : T{0};
    v = warp_sum(v);
  }
  return v;
}

}  // namespace rumor::cuda
