// vector_map.cuh — the grid-stride elementwise engine shared by the .cu files: a functor is
// applied to every index of [0, n), four elements at a time through 16-byte loads where all
// its pointers are 16-byte aligned, and one at a time for the unaligned head and the tail.
//
// A functor `Op` provides
//   __device__ void one(std::size_t i) const;    // element i
//   __device__ void four(std::size_t i) const;   // elements i..i+3, i 16-byte aligned
// and must be correct when its pointers alias element by element (y = f(x) with y == x).
#pragma once

#include <cuda_runtime.h>

#include <algorithm>
#include <cstddef>

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/vec_split.h"

namespace rumor::cuda {

inline constexpr int kMapThreads = 256;
inline constexpr std::size_t kMapMaxBlocks = std::size_t{1} << 16;

__device__ __forceinline__ float4 load4(const float* p) {
  return *reinterpret_cast<const float4*>(p);
}
__device__ __forceinline__ void store4(float* p, float4 v) { *reinterpret_cast<float4*>(p) = v; }

template <class Op>
__global__ void map_kernel(Op op, std::size_t n, VecSplit split) {
  const std::size_t stride = static_cast<std::size_t>(blockDim.x) * gridDim.x;
  const std::size_t tid = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  for (std::size_t q = tid; q < split.quads; q += stride) op.four(split.head + 4 * q);
  for (std::size_t i = tid; i < split.head; i += stride) op.one(i);
  for (std::size_t i = split.head + 4 * split.quads + tid; i < n; i += stride) op.one(i);
}

// Launches `op` over n elements on `stream` (one thread per float4 up to 2^24 threads, then
// grid-stride). No-op for n == 0.
template <class Op>
void launch_map(cudaStream_t stream, std::size_t n, VecSplit split, const Op& op) {
  if (n == 0) return;
  const std::size_t scalar = n - 4 * split.quads;
  const std::size_t work = std::max(split.quads, scalar);
  const std::size_t blocks =
      std::clamp<std::size_t>((work + kMapThreads - 1) / kMapThreads, 1, kMapMaxBlocks);
  map_kernel<<<static_cast<unsigned>(blocks), kMapThreads, 0, stream>>>(op, n, split);
  RUMOR_CUDA_LAUNCH_CHECK();
}

}  // namespace rumor::cuda
