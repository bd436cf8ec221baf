// cuda_twin.h — one array held twice, by the CPU reference and by the CUDA backend, with
// guard elements around it so that writes outside [0, n) are caught, and an optional offset
// into the allocation so that unaligned pointers are exercised.
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

#include "kernels/backend.h"

namespace rumor::testkit {

template <class T>
class Twin {
 public:
  static constexpr std::size_t kGuardAfter = 7;
  static constexpr T kGuard = static_cast<T>(-12345);

  Twin(Backend& cpu, Backend& gpu, const std::vector<T>& values, std::size_t offset = 0)
      : offset_(offset),
        size_(values.size()),
        cpu_(cpu, offset + values.size() + kGuardAfter),
        gpu_(gpu, offset + values.size() + kGuardAfter) {
    std::vector<T> host(cpu_.size(), kGuard);
    std::copy(values.begin(), values.end(), host.begin() + static_cast<std::ptrdiff_t>(offset));
    cpu_.upload(host);
    gpu_.upload(host);
  }

  T* cpu() { return cpu_.data() + offset_; }
  T* gpu() { return gpu_.data() + offset_; }
  std::size_t size() const { return size_; }

  // The n values (synchronizes).
  std::vector<T> cpu_values() const { return slice(cpu_.to_host()); }
  std::vector<T> gpu_values() const { return slice(gpu_.to_host()); }

  // True when every guard element still holds kGuard on the GPU.
  bool gpu_guards_intact() const {
    const std::vector<T> all = gpu_.to_host();
    for (std::size_t i = 0; i < all.size(); ++i) {
      const bool guard = i < offset_ || i >= offset_ + size_;
      if (guard && all[i] != kGuard) return false;
    }
    return true;
  }

 private:
  std::vector<T> slice(const std::vector<T>& all) const {
    const auto first = all.begin() + static_cast<std::ptrdiff_t>(offset_);
    return std::vector<T>(first, first + static_cast<std::ptrdiff_t>(size_));
  }

  std::size_t offset_;
  std::size_t size_;
  DeviceArray<T> cpu_;
  DeviceArray<T> gpu_;
};

}  // namespace rumor::testkit
