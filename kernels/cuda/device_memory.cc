#include "kernels/cuda/device_memory.h"

#include <algorithm>

#include "core/error.h"
#include "core/log.h"
#include "kernels/cuda/cuda_check.h"

namespace rumor::cuda {

void* allocate_device(std::size_t bytes) {
  void* ptr = nullptr;
  const cudaError_t status = cudaMalloc(&ptr, std::max<std::size_t>(bytes, 1));
  if (status == cudaErrorMemoryAllocation) {
    (void)cudaGetLastError();
    std::size_t free_bytes = 0;
    std::size_t total_bytes = 0;
    (void)cudaMemGetInfo(&free_bytes, &total_bytes);
    int device = -1;
    (void)cudaGetDevice(&device);
    throw Error(detail::concat("cuda:", device, ": out of device memory allocating ", bytes,
                               " bytes (", free_bytes, " of ", total_bytes, " bytes free)"));
  }
  RUMOR_CUDA_CHECK(status);
  return ptr;
}

void free_device(void* ptr) noexcept {
  if (ptr == nullptr) return;
  const cudaError_t status = cudaFree(ptr);
  // At process exit the runtime may already be unloading; nothing is leaked then.
  if (status != cudaSuccess && status != cudaErrorCudartUnloading) {
    log(LogLevel::kError, "cudaFree failed: ", cudaGetErrorString(status));
  }
}

DeviceMemory::DeviceMemory(std::size_t bytes) : ptr_(allocate_device(bytes)), bytes_(bytes) {}

DeviceMemory& DeviceMemory::operator=(DeviceMemory&& other) noexcept {
  if (this != &other) {
    reset();
    ptr_ = std::exchange(other.ptr_, nullptr);
    bytes_ = std::exchange(other.bytes_, 0);
  }
  return *this;
}

void DeviceMemory::reset() noexcept {
  free_device(ptr_);
  ptr_ = nullptr;
  bytes_ = 0;
}

PinnedMemory::PinnedMemory(std::size_t bytes) : bytes_(bytes) {
  const cudaError_t status =
      cudaHostAlloc(&ptr_, std::max<std::size_t>(bytes, 1), cudaHostAllocPortable);
  if (status == cudaErrorMemoryAllocation) {
    (void)cudaGetLastError();
    throw Error(detail::concat("out of pinned host memory allocating ", bytes, " bytes"));
  }
  RUMOR_CUDA_CHECK(status);
}

PinnedMemory& PinnedMemory::operator=(PinnedMemory&& other) noexcept {
  if (this != &other) {
    reset();
    ptr_ = std::exchange(other.ptr_, nullptr);
    bytes_ = std::exchange(other.bytes_, 0);
  }
  return *this;
}

void PinnedMemory::reset() noexcept {
  if (ptr_ != nullptr) {
    const cudaError_t status = cudaFreeHost(ptr_);
    if (status != cudaSuccess && status != cudaErrorCudartUnloading) {
      log(LogLevel::kError, "cudaFreeHost failed: ", cudaGetErrorString(status));
    }
  }
  ptr_ = nullptr;
  bytes_ = 0;
}

}  // namespace rumor::cuda
