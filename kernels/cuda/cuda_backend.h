// cuda_backend.h — the Backend on one NVIDIA GPU: cuBLAS for GEMM, the kernels of this folder
// for everything else, plus asynchronous staging through pinned host buffers for gossip.
//
// Streams: every Backend call is issued on the backend's compute stream, in call order.
// Calls that return a value to the host (sum_squares, all_finite, copy_to_host) and the
// pageable copies (copy_from_host) wait for the compute stream before returning. A second,
// copy stream carries the asynchronous snapshot/upload transfers; events order it against the
// compute stream, so they overlap with computation without racing it. See docs/CUDA.md.
//
// Threads: like every Backend, used by one thread at a time. Each call makes the backend's
// device current for its duration (and restores the caller's), so backends on different
// GPUs may be driven from one thread. The constructor leaves `device` current.
#pragma once

#include <cuda_runtime_api.h>

#include <memory>
#include <string>

#include "kernels/backend.h"
#include "kernels/cuda/cuda_handles.h"
#include "kernels/cuda/device_memory.h"
#include "kernels/cuda/pinned_buffer.h"

namespace rumor {

// Number of usable CUDA devices; 0 (never an exception) when there is no driver or no device.
int cuda_device_count();
// Why cuda_device_count() is 0 (e.g. "CUDA driver version is insufficient for CUDA runtime
// version"), or an empty string when a device is present. For skip messages and errors.
std::string cuda_unavailable_reason();

// Creates the backend for device `device_index` (< cuda_device_count()).
std::unique_ptr<Backend> make_cuda_backend(int device_index);

class CudaBackend final : public Backend {
 public:
  explicit CudaBackend(int device);
  ~CudaBackend() override;
  CudaBackend(const CudaBackend&) = delete;
  CudaBackend& operator=(const CudaBackend&) = delete;

  std::string name() const override { return "cuda:" + std::to_string(device_); }
  bool host_accessible() const override { return false; }
  int device() const { return device_; }
  // For interoperation and timing (e.g. NCCL, benchmarks): work placed on these streams is
  // ordered with the backend's own work on them.
  cudaStream_t compute_stream() const { return compute_.get(); }
  cudaStream_t copy_stream() const { return copy_.get(); }

  void* allocate(std::size_t bytes) override;
  void deallocate(void* ptr) noexcept override;
  // Correct for pageable and pinned host memory alike: returns once the copy has completed,
  // so `host_src` may be reused at once. The asynchronous path is upload_from_host_async.
  void copy_from_host(void* dst, const void* host_src, std::size_t bytes) override;
  void copy_to_host(void* host_dst, const void* src, std::size_t bytes) override;
  // Device-to-device; overlapping ranges are handled (memmove semantics).
  void copy(void* dst, const void* src, std::size_t bytes) override;
  void fill(float* x, std::size_t n, float value) override;
  // Blocks until the work on both streams has completed.
  void synchronize() override;

  void gemm(Transpose trans_a, Transpose trans_b, int m, int n, int k, float alpha,
            const float* a, const float* b, float beta, float* c) override;
  void add_bias(float* y, const float* bias, int rows, int cols) override;
  void bias_grad(const float* dy, int rows, int cols, float* dbias) override;
  void relu(const float* x, float* y, std::size_t n) override;
  void relu_backward(const float* y, const float* dy, float* dx, std::size_t n) override;
  void softmax_cross_entropy(const float* logits, const std::int32_t* labels, int rows,
                             int classes, float grad_scale, float* losses,
                             float* dlogits) override;
  void argmax_rows(const float* x, int rows, int cols, std::int32_t* out) override;

  void axpby(std::size_t n, float a, const float* x, float b, float* y) override;
  void sgd_update(std::size_t n, const SgdConfig& config, float* params, const float* grads,
                  float* velocity) override;

  double sum_squares(const float* x, std::size_t n) override;
  bool all_finite(const float* x, std::size_t n) override;

  // --- asynchronous staging (the gossip path) ---
  // A pinned buffer whose completion event lives on this backend's device.
  cuda::PinnedBuffer make_pinned_buffer(std::size_t bytes) const;
  // Copies `bytes` of device memory at `src` into `dst` without blocking the host. The
  // snapshot holds the values that `src` has after all work issued before this call and is
  // not affected by work issued after it (the bytes are first copied device-to-device on the
  // compute stream, then to the host on the copy stream). dst.wait() or dst.ready() tells
  // when the host may read them.
  void snapshot_to_host_async(const void* src, std::size_t bytes, cuda::PinnedBuffer& dst);
  // Copies the first `bytes` of `src` to device memory `dst` on the copy stream without
  // blocking the host. Work issued before this call finishes with `dst` before it is
  // overwritten; work issued after it sees the new bytes. The host must not modify `src`
  // until src.ready().
  void upload_from_host_async(const cuda::PinnedBuffer& src, std::size_t bytes, void* dst);

 private:
  // Waits for the compute stream and returns the reduction result staged in pinned memory.
  template <class T>
  T fetch_result(const T* device_value);

  int device_;
  cuda::Stream compute_;
  cuda::Stream copy_;
  cuda::CublasHandle cublas_;
  cuda::Event compute_mark_;      // "compute work so far", for the copy stream to wait on
  cuda::Event snapshot_drained_;  // the copy stream has finished reading snapshot_scratch_
  cuda::DeviceMemory reduce_scratch_;  // kSumSquaresScratch doubles, then an int flag
  cuda::PinnedMemory reduce_result_;   // one double / int read back by the host
  cuda::DeviceMemory snapshot_scratch_;
};

}  // namespace rumor
