#include "kernels/cuda/cuda_backend.h"

#include <cstring>

#include "core/error.h"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/gemm.h"
#include "kernels/cuda/launchers.h"

namespace rumor {
namespace {

using cuda::DeviceGuard;

constexpr std::size_t kFlagOffset = cuda::kSumSquaresScratch * sizeof(double);

// Makes `device` current for the constructing thread (members are created on it).
int activate(int device) {
  const int count = cuda_device_count();
  RUMOR_CHECK(device >= 0 && device < count, "CUDA device ", device, " does not exist (",
              count, " present)");
  RUMOR_CUDA_CHECK(cudaSetDevice(device));
  return device;
}

bool overlaps(const void* a, const void* b, std::size_t bytes) {
  const auto x = reinterpret_cast<std::uintptr_t>(a);
  const auto y = reinterpret_cast<std::uintptr_t>(b);
  return x < y + bytes && y < x + bytes;
}

}  // namespace

int cuda_device_count() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    (void)cudaGetLastError();
    return 0;
  }
  return count;
}

std::string cuda_unavailable_reason() {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    (void)cudaGetLastError();
    return cudaGetErrorString(status);
  }
  return count == 0 ? "no CUDA device found" : "";
}

std::unique_ptr<Backend> make_cuda_backend(int device_index) {
  return std::make_unique<CudaBackend>(device_index);
}

CudaBackend::CudaBackend(int device)
    : device_(activate(device)),
      cublas_(compute_.get()),
      reduce_scratch_(kFlagOffset + sizeof(int)),
      reduce_result_(sizeof(double)) {}

CudaBackend::~CudaBackend() {
  // Best effort: members are released on this device once its streams are idle.
  (void)cudaSetDevice(device_);
  (void)cudaStreamSynchronize(compute_.get());
  (void)cudaStreamSynchronize(copy_.get());
}

void* CudaBackend::allocate(std::size_t bytes) {
  const DeviceGuard guard(device_);
  return cuda::allocate_device(bytes);  // 256-byte aligned
}

void CudaBackend::deallocate(void* ptr) noexcept {
  // Like DeviceGuard, but noexcept: a failure to switch shows up as cudaFree's error.
  int previous = device_;
  (void)cudaGetDevice(&previous);
  if (previous != device_) (void)cudaSetDevice(device_);
  cuda::free_device(ptr);
  if (previous != device_) (void)cudaSetDevice(previous);
}

void CudaBackend::copy_from_host(void* dst, const void* host_src, std::size_t bytes) {
  if (bytes == 0) return;
  const DeviceGuard guard(device_);
  RUMOR_CUDA_CHECK(cudaMemcpyAsync(dst, host_src, bytes, cudaMemcpyHostToDevice, compute_.get()));
  compute_.synchronize();
}

void CudaBackend::copy_to_host(void* host_dst, const void* src, std::size_t bytes) {
  const DeviceGuard guard(device_);
  if (bytes != 0) {
    RUMOR_CUDA_CHECK(
        cudaMemcpyAsync(host_dst, src, bytes, cudaMemcpyDeviceToHost, compute_.get()));
  }
  compute_.synchronize();
}

void CudaBackend::copy(void* dst, const void* src, std::size_t bytes) {
  if (bytes == 0 || dst == src) return;
  const DeviceGuard guard(device_);
  cudaStream_t s = compute_.get();
  if (!overlaps(dst, src, bytes)) {
    RUMOR_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, s));
    return;
  }
  // cudaMemcpy is undefined on overlapping ranges: go through stream-ordered scratch.
  void* tmp = nullptr;
  RUMOR_CUDA_CHECK(cudaMallocAsync(&tmp, bytes, s));
  RUMOR_CUDA_CHECK(cudaMemcpyAsync(tmp, src, bytes, cudaMemcpyDeviceToDevice, s));
  RUMOR_CUDA_CHECK(cudaMemcpyAsync(dst, tmp, bytes, cudaMemcpyDeviceToDevice, s));
  RUMOR_CUDA_CHECK(cudaFreeAsync(tmp, s));
}

void CudaBackend::fill(float* x, std::size_t n, float value) {
  const DeviceGuard guard(device_);
  cuda::fill(compute_.get(), x, n, value);
}

void CudaBackend::synchronize() {
  const DeviceGuard guard(device_);
  compute_.synchronize();
  copy_.synchronize();
}

void CudaBackend::gemm(Transpose trans_a, Transpose trans_b, int m, int n, int k, float alpha,
                       const float* a, const float* b, float beta, float* c) {
  const DeviceGuard guard(device_);
  cuda::gemm_row_major(cublas_.get(), trans_a, trans_b, m, n, k, alpha, a, b, beta, c);
}

void CudaBackend::add_bias(float* y, const float* bias, int rows, int cols) {
  const DeviceGuard guard(device_);
  cuda::add_bias(compute_.get(), y, bias, rows, cols);
}

void CudaBackend::bias_grad(const float* dy, int rows, int cols, float* dbias) {
  const DeviceGuard guard(device_);
  cuda::bias_grad(compute_.get(), dy, rows, cols, dbias);
}

void CudaBackend::relu(const float* x, float* y, std::size_t n) {
  const DeviceGuard guard(device_);
  cuda::relu(compute_.get(), x, y, n);
}

void CudaBackend::relu_backward(const float* y, const float* dy, float* dx, std::size_t n) {
  const DeviceGuard guard(device_);
  cuda::relu_backward(compute_.get(), y, dy, dx, n);
}

void CudaBackend::softmax_cross_entropy(const float* logits, const std::int32_t* labels,
                                        int rows, int classes, float grad_scale, float* losses,
                                        float* dlogits) {
  const DeviceGuard guard(device_);
  cuda::softmax_cross_entropy(compute_.get(), logits, labels, rows, classes, grad_scale, losses,
                              dlogits);
}

void CudaBackend::argmax_rows(const float* x, int rows, int cols, std::int32_t* out) {
  const DeviceGuard guard(device_);
  cuda::argmax_rows(compute_.get(), x, rows, cols, out);
}

void CudaBackend::axpby(std::size_t n, float a, const float* x, float b, float* y) {
  const DeviceGuard guard(device_);
  cuda::axpby(compute_.get(), n, a, x, b, y);
}

void CudaBackend::sgd_update(std::size_t n, const SgdConfig& config, float* params,
                             const float* grads, float* velocity) {
  const DeviceGuard guard(device_);
  cuda::sgd_update(compute_.get(), n, config, params, grads, velocity);
}

template <class T>
T CudaBackend::fetch_result(const T* device_value) {
  RUMOR_CUDA_CHECK(cudaMemcpyAsync(reduce_result_.get(), device_value, sizeof(T),
                                   cudaMemcpyDeviceToHost, compute_.get()));
  compute_.synchronize();
  T value;
  std::memcpy(&value, reduce_result_.get(), sizeof(T));
  return value;
}

double CudaBackend::sum_squares(const float* x, std::size_t n) {
  const DeviceGuard guard(device_);
  double* scratch = reduce_scratch_.as<double>();
  double* result = scratch + cuda::kSumSquaresScratch - 1;
  cuda::sum_squares(compute_.get(), x, n, scratch, result);
  return fetch_result(static_cast<const double*>(result));
}

bool CudaBackend::all_finite(const float* x, std::size_t n) {
  const DeviceGuard guard(device_);
  int* flag = reinterpret_cast<int*>(reduce_scratch_.as<char>() + kFlagOffset);
  cuda::any_nonfinite(compute_.get(), x, n, flag);
  return fetch_result(static_cast<const int*>(flag)) == 0;
}

cuda::PinnedBuffer CudaBackend::make_pinned_buffer(std::size_t bytes) const {
  return cuda::PinnedBuffer(device_, bytes);
}

void CudaBackend::snapshot_to_host_async(const void* src, std::size_t bytes,
                                         cuda::PinnedBuffer& dst) {
  RUMOR_CHECK(bytes <= dst.bytes(), "snapshot of ", bytes, " bytes into a pinned buffer of ",
              dst.bytes());
  RUMOR_CHECK(dst.device() == device_, "pinned buffer of cuda:", dst.device(), " used on ",
              name());
  if (bytes == 0) return;
  const DeviceGuard guard(device_);
  if (snapshot_scratch_.bytes() < bytes) {
    copy_.synchronize();  // the copy stream may still read the old scratch
    snapshot_scratch_ = cuda::DeviceMemory(bytes);
  }
  // 1. On the compute stream, once the previous snapshot has left the scratch: src → scratch.
  compute_.wait(snapshot_drained_.get());
  RUMOR_CUDA_CHECK(cudaMemcpyAsync(snapshot_scratch_.get(), src, bytes,
                                   cudaMemcpyDeviceToDevice, compute_.get()));
  compute_mark_.record(compute_.get());
  // 2. On the copy stream, after step 1: scratch → pinned host.
  copy_.wait(compute_mark_.get());
  RUMOR_CUDA_CHECK(cudaMemcpyAsync(dst.data(), snapshot_scratch_.get(), bytes,
                                   cudaMemcpyDeviceToHost, copy_.get()));
  snapshot_drained_.record(copy_.get());
  dst.done_event().record(copy_.get());
}

void CudaBackend::upload_from_host_async(const cuda::PinnedBuffer& src, std::size_t bytes,
                                         void* dst) {
  RUMOR_CHECK(bytes <= src.bytes(), "upload of ", bytes, " bytes from a pinned buffer of ",
              src.bytes());
  RUMOR_CHECK(src.device() == device_, "pinned buffer of cuda:", src.device(), " used on ",
              name());
  if (bytes == 0) return;
  const DeviceGuard guard(device_);
  // The copy waits for the compute work issued so far (it may still use dst) ...
  compute_mark_.record(compute_.get());
  copy_.wait(compute_mark_.get());
  RUMOR_CUDA_CHECK(
      cudaMemcpyAsync(dst, src.data(), bytes, cudaMemcpyHostToDevice, copy_.get()));
  // ... and the compute work issued from now on waits for the copy.
  src.done_event().record(copy_.get());
  compute_.wait(src.done_event().get());
}

}  // namespace rumor
