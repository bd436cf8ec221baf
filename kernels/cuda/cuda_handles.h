// cuda_handles.h — RAII owners of CUDA streams, events and cuBLAS handles, and a guard that
// makes a device current for a scope. Move-only; destructors never throw.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <utility>

namespace rumor::cuda {

// Makes `device` current for the calling thread and restores the previous one on exit.
// Cheap when the device is already current (one thread-local read).
class DeviceGuard {
 public:
  explicit DeviceGuard(int device);
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;
  ~DeviceGuard();

 private:
  int previous_ = -1;
  bool changed_ = false;
};

// A non-blocking stream on the current device: it does not synchronize with the legacy
// default stream, so nothing in rumor may rely on the default stream for ordering.
class Stream {
 public:
  Stream();
  Stream(Stream&& other) noexcept : stream_(std::exchange(other.stream_, nullptr)) {}
  Stream& operator=(Stream&& other) noexcept;
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  ~Stream();

  cudaStream_t get() const { return stream_; }
  // Blocks the host until all work issued on the stream has completed.
  void synchronize() const;
  // Work issued on this stream after the call waits for `event` (does not block the host).
  void wait(cudaEvent_t event) const;

 private:
  cudaStream_t stream_ = nullptr;
};

// An event on the current device. Timing is disabled unless asked for (cheaper to record).
class Event {
 public:
  explicit Event(bool timing = false);
  Event(Event&& other) noexcept : event_(std::exchange(other.event_, nullptr)) {}
  Event& operator=(Event&& other) noexcept;
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  ~Event();

  cudaEvent_t get() const { return event_; }
  // Marks the point in `stream` reached by the work issued so far. Does not block.
  void record(cudaStream_t stream) const;
  // True when the work before the last record() has completed (or nothing was recorded).
  bool done() const;
  // Blocks the host until the work before the last record() has completed.
  void synchronize() const;
  // Milliseconds between two recorded timing events (both must be complete).
  static float elapsed_ms(const Event& start, const Event& stop);

 private:
  cudaEvent_t event_ = nullptr;
};

// A cuBLAS handle bound to the current device, issuing its work on `stream`, in the default
// (full FP32, no TF32) math mode.
class CublasHandle {
 public:
  explicit CublasHandle(cudaStream_t stream);
  CublasHandle(CublasHandle&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
  CublasHandle& operator=(CublasHandle&& other) noexcept;
  CublasHandle(const CublasHandle&) = delete;
  CublasHandle& operator=(const CublasHandle&) = delete;
  ~CublasHandle();

  cublasHandle_t get() const { return handle_; }

 private:
  cublasHandle_t handle_ = nullptr;
};

}  // namespace rumor::cuda
