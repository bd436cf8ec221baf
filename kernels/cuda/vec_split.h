// vec_split.h — how the elementwise kernels (vector_map.cuh) cut [0, n) so that the middle
// part can use 16-byte (float4) accesses. Host-only arithmetic, tested on the CPU.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <initializer_list>

namespace rumor::cuda {

// [0, head) and [head + 4·quads, n) go element by element; [head, head + 4·quads) by float4.
struct VecSplit {
  std::size_t head = 0;
  std::size_t quads = 0;
};

// The split for float pointers that must all be 16-byte aligned at element `head`. When they
// disagree on their address modulo 16, no split exists and everything goes element by element.
inline VecSplit vec_split(std::size_t n, std::initializer_list<const void*> pointers) {
  const auto misalign = reinterpret_cast<std::uintptr_t>(*pointers.begin()) % 16;
  for (const void* p : pointers) {
    if (reinterpret_cast<std::uintptr_t>(p) % 16 != misalign || misalign % 4 != 0) return {};
  }
  const std::size_t head = std::min<std::size_t>(misalign == 0 ? 0 : (16 - misalign) / 4, n);
  return {head, (n - head) / 4};
}

}  // namespace rumor::cuda
