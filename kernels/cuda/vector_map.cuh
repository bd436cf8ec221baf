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
#include <cstdint>
#include <initializer_list>

#include "kernels/cuda/cuda_check.h"

namespace rumor::cuda {

inline constexpr int kMapThreads = 256;
inline constexpr std::size_t kMapMaxBlocks = std::size_t{1} << 16;

// [0, head) and [head + 4·quads, n) go element by element; the middle goes by float4.
struct VecSplit {
  std::size_t head = 0;
  std::size_t quads = 0;
};

// The split for pointers that must all be 16-byte aligned at `head`. When they disagree on
// their address modulo 16, no split exists and everything goes element by element.
inline VecSplit vec_split(std::size_t n, std::initializer_list<const void*> pointers) {
  const auto misalign = reinterpret_cast<std::uintptr_t>(*pointers.begin()) % 16;
  for (const void* p : pointers) {
    if (reinterpret_cast<std::uintptr_t>(p) % 16 != misalign || misalign % 4 != 0) return {};
  }
  const std::size_t head = std::min<std::size_t>(misalign == 0 ? 0 : (16 - misalign) / 4, n);
  return {head, (n - head) / 4};
}

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
