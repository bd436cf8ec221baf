// backend.h — the compute interface every device implements.
//
// The CPU backend (kernels/cpu, OpenBLAS + plain loops) is the reference; every other backend
// is tested against it. Pointers passed to a backend are its own memory (from allocate()):
// host memory for the CPU, device memory for CUDA. All matrices are row-major and dense.
//
// Ordering: calls on one backend execute in issue order (CUDA: on its compute stream). Calls
// that return a value to the host (sum_squares, all_finite, copy_to_host) complete all work
// issued before them. A Backend is used by one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"

namespace rumor {

enum class Transpose { kNo, kYes };

// SGD with momentum (optionally Nesterov) and L2 weight decay, as in torch.optim.SGD:
//   g' = g + weight_decay * p
//   v  = momentum * v + g'
//   p -= lr * (nesterov ? g' + momentum * v : v)
struct SgdConfig {
  float lr = 0.1f;
  float momentum = 0.9f;
  float weight_decay = 0.0f;
  bool nesterov = true;
};

class Backend {
 public:
  virtual ~Backend() = default;

  // "cpu" or "cuda:N".
  virtual std::string name() const = 0;
  // True when memory from allocate() is directly addressable by host code.
  virtual bool host_accessible() const = 0;

  // --- memory (sizes in bytes) ---
  // Never returns null; throws rumor::Error when memory is exhausted. Aligned to 64 bytes.
  virtual void* allocate(std::size_t bytes) = 0;
  virtual void deallocate(void* ptr) noexcept = 0;
  virtual void copy_from_host(void* dst, const void* host_src, std::size_t bytes) = 0;
  virtual void copy_to_host(void* host_dst, const void* src, std::size_t bytes) = 0;
  // dst and src must not overlap. Zero bytes is a no-op (pointers may then be null).
  virtual void copy(void* dst, const void* src, std::size_t bytes) = 0;
  virtual void fill(float* x, std::size_t n, float value) = 0;
  // Blocks until all issued work has completed.
  virtual void synchronize() = 0;

  // --- dense math ---
  // C[m,n] = alpha * op(A)[m,k] · op(B)[k,n] + beta * C. A is stored [m,k] (or [k,m] when
  // transposed), B is stored [k,n] (or [n,k]); leading dimensions are the stored row lengths.
  // When beta == 0, C is not read (it may hold NaN), as in BLAS.
  virtual void gemm(Transpose trans_a, Transpose trans_b, int m, int n, int k, float alpha,
                    const float* a, const float* b, float beta, float* c) = 0;
  // y[r,c] += bias[c]
  virtual void add_bias(float* y, const float* bias, int rows, int cols) = 0;
  // dbias[c] = Σ_r dy[r,c] (overwrites dbias)
  virtual void bias_grad(const float* dy, int rows, int cols, float* dbias) = 0;
  // y = max(x, 0); y may alias x. NaN maps to 0 (use all_finite to detect divergence).
  virtual void relu(const float* x, float* y, std::size_t n) = 0;
  // dx = dy where y > 0, else 0; dx may alias dy.
  virtual void relu_backward(const float* y, const float* dy, float* dx, std::size_t n) = 0;
  // Per row r of logits[rows, classes] with label t = labels[r] in [0, classes) (the caller
  // guarantees the range; datasets are validated when loaded):
  //   losses[r] = logsumexp(logits[r]) - logits[r, t]
  //   dlogits[r, c] = grad_scale * (softmax(logits[r])[c] - [c == t])   (skipped if null)
  virtual void softmax_cross_entropy(const float* logits, const std::int32_t* labels, int rows,
                                     int classes, float grad_scale, float* losses,
                                     float* dlogits) = 0;
  // out[r] = index of the largest element of row r (first one on ties).
  virtual void argmax_rows(const float* x, int rows, int cols, std::int32_t* out) = 0;

  // --- mixing and optimisation ---
  // y = a * x + b * y  (the gossip mixing primitive); x may alias y.
  virtual void axpby(std::size_t n, float a, const float* x, float b, float* y) = 0;
  // One SGD step over n parameters (see SgdConfig); updates params and velocity in place.
  virtual void sgd_update(std::size_t n, const SgdConfig& config, float* params,
                          const float* grads, float* velocity) = 0;

  // --- reductions (return to the host, so they synchronize) ---
  // Σ x[i]^2, accumulated in double.
  virtual double sum_squares(const float* x, std::size_t n) = 0;
  // True when no element is NaN or ±Inf.
  virtual bool all_finite(const float* x, std::size_t n) = 0;
};

// An owning, move-only array of T in a backend's memory.
template <class T>
class DeviceArray {
 public:
  DeviceArray() = default;
  DeviceArray(Backend& backend, std::size_t size)
      : backend_(&backend),
        data_(size == 0 ? nullptr : static_cast<T*>(backend.allocate(size * sizeof(T)))),
        size_(size) {}
  DeviceArray(DeviceArray&& other) noexcept
      : backend_(other.backend_),
        data_(std::exchange(other.data_, nullptr)),
        size_(std::exchange(other.size_, 0)) {}
  DeviceArray& operator=(DeviceArray&& other) noexcept {
    if (this != &other) {
      release();
      backend_ = other.backend_;
      data_ = std::exchange(other.data_, nullptr);
      size_ = std::exchange(other.size_, 0);
    }
    return *this;
  }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;
  ~DeviceArray() { release(); }

  T* data() { return data_; }
  const T* data() const { return data_; }
  std::size_t size() const { return size_; }
  std::size_t bytes() const { return size_ * sizeof(T); }
  Backend& backend() const { return *backend_; }

  // Copies host values in; host.size() must equal size().
  void upload(std::span<const T> host) {
    RUMOR_CHECK(host.size() == size_, "upload of ", host.size(), " elements into an array of ",
                size_);
    if (size_ != 0) backend_->copy_from_host(data_, host.data(), bytes());
  }
  // Copies the whole array to a new host vector (synchronizes).
  std::vector<T> to_host() const {
    std::vector<T> host(size_);
    if (size_ != 0) backend_->copy_to_host(host.data(), data_, bytes());
    return host;
  }

 private:
  void release() noexcept {
    if (data_ != nullptr) backend_->deallocate(data_);
    data_ = nullptr;
  }

  Backend* backend_ = nullptr;
  T* data_ = nullptr;
  std::size_t size_ = 0;
};

// Creates the backend for a device string: "cpu" or "cuda:N". `threads` is the CPU thread
// count (OpenBLAS and loops; 0 = all cores). Throws ConfigError naming the valid devices
// when the device is unknown or absent.
std::unique_ptr<Backend> make_backend(const std::string& device, int threads = 1);

// The devices this build and machine can run on, e.g. {"cpu", "cuda:0"}.
std::vector<std::string> available_devices();

}  // namespace rumor
