// pinned_buffer.h — a pinned host staging buffer for asynchronous transfers between a
// CudaBackend and the host: parameter snapshots on their way to the network, and received
// payloads on their way to the device (see CudaBackend::snapshot_to_host_async and
// CudaBackend::upload_from_host_async, and docs/CUDA.md).
//
// The buffer carries the event of the last asynchronous copy into or out of it. While that
// copy is pending (ready() is false) the host must neither read nor write the bytes; wait()
// blocks until it is done. Reuse buffers (e.g. from a pool): pinning memory is expensive.
#pragma once

#include <cstddef>
#include <span>

#include "kernels/cuda/cuda_handles.h"
#include "kernels/cuda/device_memory.h"

namespace rumor::cuda {

class PinnedBuffer {
 public:
  // Pins `bytes` of host memory; the completion event belongs to `device`, the device of
  // the backend that will copy into or out of this buffer.
  PinnedBuffer(int device, std::size_t bytes);

  void* data() { return memory_.get(); }
  const void* data() const { return memory_.get(); }
  std::size_t bytes() const { return memory_.bytes(); }
  std::span<float> floats() { return {memory_.as<float>(), bytes() / sizeof(float)}; }
  std::span<const float> floats() const {
    return {memory_.as<const float>(), bytes() / sizeof(float)};
  }

  int device() const { return device_; }
  // True when no asynchronous copy into or out of the buffer is pending. Never blocks.
  bool ready() const { return done_.done(); }
  // Blocks until the pending copy (if any) has completed.
  void wait() const { done_.synchronize(); }

  // For the backend: the event that marks the end of the last copy.
  const Event& done_event() const { return done_; }

 private:
  int device_;
  PinnedMemory memory_;
  Event done_;
};

}  // namespace rumor::cuda
