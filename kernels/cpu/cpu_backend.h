// cpu_backend.h — the reference Backend: OpenBLAS sgemm and plain loops the compiler
// vectorises. Memory is ordinary 64-byte-aligned host memory; every call completes before it
// returns, so synchronize() is a no-op.
#pragma once

#include "kernels/backend.h"

namespace rumor {

class CpuBackend final : public Backend {
 public:
  // threads: OpenBLAS thread count (0 = all cores). OpenBLAS's pool is process-wide, so the
  // last CpuBackend constructed sets it.
  explicit CpuBackend(int threads = 1);

  std::string name() const override { return "cpu"; }
  bool host_accessible() const override { return true; }
  int threads() const { return threads_; }

  void* allocate(std::size_t bytes) override;
  void deallocate(void* ptr) noexcept override;
  void copy_from_host(void* dst, const void* host_src, std::size_t bytes) override;
  void copy_to_host(void* host_dst, const void* src, std::size_t bytes) override;
  void copy(void* dst, const void* src, std::size_t bytes) override;
  void fill(float* x, std::size_t n, float value) override;
  void synchronize() override {}

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

 private:
  int threads_;
};

}  // namespace rumor
