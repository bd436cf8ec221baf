// device_memory.h — RAII owners of CUDA memory: device memory (cudaMalloc) and pinned host
// memory (cudaHostAlloc). Move-only; the destructor frees and never throws.
#pragma once

#include <cstddef>
#include <utility>

namespace rumor::cuda {

// Device memory on the current device. Freeing (cudaFree) waits for the device to be idle,
// so the memory is never released under a running kernel.
class DeviceMemory {
 public:
  DeviceMemory() = default;
  // Throws rumor::Error naming the size and the free/total device memory when exhausted.
  explicit DeviceMemory(std::size_t bytes);
  DeviceMemory(DeviceMemory&& other) noexcept
      : ptr_(std::exchange(other.ptr_, nullptr)), bytes_(std::exchange(other.bytes_, 0)) {}
  DeviceMemory& operator=(DeviceMemory&& other) noexcept;
  DeviceMemory(const DeviceMemory&) = delete;
  DeviceMemory& operator=(const DeviceMemory&) = delete;
  ~DeviceMemory() { reset(); }

  void* get() const { return ptr_; }
  template <class T>
  T* as() const { return static_cast<T*>(ptr_); }
  std::size_t bytes() const { return bytes_; }
  void reset() noexcept;

 private:
  void* ptr_ = nullptr;
  std::size_t bytes_ = 0;
};

// Page-locked host memory, portable across devices: the only host memory that asynchronous
// copies overlap with computation for.
class PinnedMemory {
 public:
  PinnedMemory() = default;
  explicit PinnedMemory(std::size_t bytes);
  PinnedMemory(PinnedMemory&& other) noexcept
      : ptr_(std::exchange(other.ptr_, nullptr)), bytes_(std::exchange(other.bytes_, 0)) {}
  PinnedMemory& operator=(PinnedMemory&& other) noexcept;
  PinnedMemory(const PinnedMemory&) = delete;
  PinnedMemory& operator=(const PinnedMemory&) = delete;
  ~PinnedMemory() { reset(); }

  void* get() const { return ptr_; }
  template <class T>
  T* as() const { return static_cast<T*>(ptr_); }
  std::size_t bytes() const { return bytes_; }
  void reset() noexcept;

 private:
  void* ptr_ = nullptr;
  std::size_t bytes_ = 0;
};

// Allocates device memory (at least one byte, 256-byte aligned) with the same out-of-memory
// message as DeviceMemory; the caller frees it with free_device().
void* allocate_device(std::size_t bytes);
// Frees device memory; logs (never throws) on failure. Null is ignored.
void free_device(void* ptr) noexcept;

}  // namespace rumor::cuda
