#include "kernels/cuda/cuda_handles.h"

#include "kernels/cuda/cuda_check.h"

namespace rumor::cuda {

DeviceGuard::DeviceGuard(int device) {
  RUMOR_CUDA_CHECK(cudaGetDevice(&previous_));
  if (previous_ != device) {
    RUMOR_CUDA_CHECK(cudaSetDevice(device));
    changed_ = true;
  }
}

DeviceGuard::~DeviceGuard() {
  if (changed_) (void)cudaSetDevice(previous_);
}

Stream::Stream() { RUMOR_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking)); }

Stream& Stream::operator=(Stream&& other) noexcept {
  if (this != &other) {
    if (stream_ != nullptr) (void)cudaStreamDestroy(stream_);
    stream_ = std::exchange(other.stream_, nullptr);
  }
  return *this;
}

Stream::~Stream() {
  if (stream_ != nullptr) (void)cudaStreamDestroy(stream_);
}

void Stream::synchronize() const { RUMOR_CUDA_CHECK(cudaStreamSynchronize(stream_)); }

void Stream::wait(cudaEvent_t event) const {
  RUMOR_CUDA_CHECK(cudaStreamWaitEvent(stream_, event, 0));
}

Event::Event(bool timing) {
  RUMOR_CUDA_CHECK(
      cudaEventCreateWithFlags(&event_, timing ? cudaEventDefault : cudaEventDisableTiming));
}

Event& Event::operator=(Event&& other) noexcept {
  if (this != &other) {
    if (event_ != nullptr) (void)cudaEventDestroy(event_);
    event_ = std::exchange(other.event_, nullptr);
  }
  return *this;
}

Event::~Event() {
  if (event_ != nullptr) (void)cudaEventDestroy(event_);
}

void Event::record(cudaStream_t stream) const { RUMOR_CUDA_CHECK(cudaEventRecord(event_, stream)); }

bool Event::done() const {
  const cudaError_t status = cudaEventQuery(event_);
  if (status == cudaErrorNotReady) return false;
  RUMOR_CUDA_CHECK(status);
  return true;
}

void Event::synchronize() const { RUMOR_CUDA_CHECK(cudaEventSynchronize(event_)); }

float Event::elapsed_ms(const Event& start, const Event& stop) {
  float ms = 0.0f;
  RUMOR_CUDA_CHECK(cudaEventElapsedTime(&ms, start.event_, stop.event_));
  return ms;
}

CublasHandle::CublasHandle(cudaStream_t stream) {
  RUMOR_CUBLAS_CHECK(cublasCreate(&handle_));
  try {
    RUMOR_CUBLAS_CHECK(cublasSetStream(handle_, stream));
    RUMOR_CUBLAS_CHECK(cublasSetMathMode(handle_, CUBLAS_DEFAULT_MATH));
    RUMOR_CUBLAS_CHECK(cublasSetPointerMode(handle_, CUBLAS_POINTER_MODE_HOST));
  } catch (...) {
    (void)cublasDestroy(handle_);
    throw;
  }
}

CublasHandle& CublasHandle::operator=(CublasHandle&& other) noexcept {
  if (this != &other) {
    if (handle_ != nullptr) (void)cublasDestroy(handle_);
    handle_ = std::exchange(other.handle_, nullptr);
  }
  return *this;
}

CublasHandle::~CublasHandle() {
  if (handle_ != nullptr) (void)cublasDestroy(handle_);
}

}  // namespace rumor::cuda
