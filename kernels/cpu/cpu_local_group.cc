#include "kernels/cpu/cpu_local_group.h"

#include <algorithm>
#include <cstring>

#include "core/error.h"

namespace rumor {

CpuLocalGroup::CpuLocalGroup(int size)
    : size_(size),
      buffers_(static_cast<std::size_t>(std::max(size, 0)), nullptr),
      counts_(static_cast<std::size_t>(std::max(size, 0)), 0),
      barrier_(std::max(size, 1)) {
  if (size < 1) {
    throw ConfigError("local group: needs at least 1 member, got " + std::to_string(size));
  }
}

void CpuLocalGroup::abort(const std::string& reason) noexcept {
  barrier_.abort("local group aborted: " + reason);
}

void CpuLocalGroup::gather(int member, float* data, std::size_t n) {
  RUMOR_CHECK(member >= 0 && member < size_, "member ", member, " of a group of ", size_);
  buffers_[member] = data;
  counts_[member] = n;
  barrier_.arrive_and_wait();
  // Every member sees the same counts here, so either all go on or all throw.
  for (int m = 1; m < size_; ++m) {
    if (counts_[m] != counts_[0]) {
      throw Error(detail::concat("local group: member 0 passed ", counts_[0],
                                 " elements and member ", m, " passed ", counts_[m]));
    }
  }
}

std::pair<std::size_t, std::size_t> CpuLocalGroup::slice(int member, std::size_t n) const {
  const auto k = static_cast<std::size_t>(size_);
  const auto m = static_cast<std::size_t>(member);
  return {n * m / k, n * (m + 1) / k};
}

void CpuLocalGroup::all_reduce_mean(int member, float* data, std::size_t n) {
  if (size_ == 1) return;
  gather(member, data, n);
  const auto [first, last] = slice(member, n);
  // This thread alone touches [first, last) of every buffer. Chunk by chunk, the mean is summed
  // in member order in a buffer that stays in L1, then written to every member: one read and
  // one write of each buffer, and the same bits everywhere. (× 1/K is exact for K a power of
  // two; otherwise within an ulp of the quotient, and still the same on every member.)
  constexpr std::size_t kChunk = 1024;
  alignas(64) float mean[kChunk];
  const float inverse = 1.0f / static_cast<float>(size_);
  for (std::size_t start = first; start < last; start += kChunk) {
    const std::size_t count = std::min(kChunk, last - start);
    const float* x0 = buffers_[0] + start;
    const float* x1 = buffers_[1] + start;
    for (std::size_t i = 0; i < count; ++i) mean[i] = x0[i] + x1[i];
    for (int m = 2; m < size_; ++m) {
      const float* x = buffers_[m] + start;
      for (std::size_t i = 0; i < count; ++i) mean[i] += x[i];
    }
    for (std::size_t i = 0; i < count; ++i) mean[i] *= inverse;
    for (int m = 0; m < size_; ++m) std::memcpy(buffers_[m] + start, mean, count * sizeof(float));
  }
  barrier_.arrive_and_wait();  // nobody returns (reusing its buffer) before all slices are in
}

void CpuLocalGroup::broadcast(int member, float* data, std::size_t n, int root) {
  RUMOR_CHECK(root >= 0 && root < size_, "broadcast root ", root, " of a group of ", size_);
  if (size_ == 1) return;
  gather(member, data, n);
  const auto [first, last] = slice(member, n);
  if (last > first) {
    const float* source = buffers_[root] + first;
    for (int m = 0; m < size_; ++m) {
      if (m != root && buffers_[m] != buffers_[root]) {
        std::memcpy(buffers_[m] + first, source, (last - first) * sizeof(float));
      }
    }
  }
  barrier_.arrive_and_wait();
}

}  // namespace rumor
