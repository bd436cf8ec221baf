#include "kernels/cuda/gemm.h"

#include "core/error.h"
#include "kernels/cuda/cuda_check.h"

namespace rumor::cuda {
namespace {

cublasOperation_t to_cublas(Transpose t) { return t == Transpose::kYes ? CUBLAS_OP_T : CUBLAS_OP_N; }

}  // namespace

// A row-major [r, c] matrix with row length ld is, read column-major, its transpose [c, r]
// with leading dimension ld. So C = op(A)·op(B) (row-major) is Cᵀ = op(B)ᵀ·op(A)ᵀ read
// column-major: swap the operands and m with n; the transpose flags and leading dimensions
// (stored row lengths) stay as they are.
void gemm_row_major(cublasHandle_t handle, Transpose trans_a, Transpose trans_b, int m, int n,
                    int k, float alpha, const float* a, const float* b, float beta, float* c) {
  RUMOR_CHECK(m >= 0 && n >= 0 && k >= 0, "gemm sizes must be >= 0, got m=", m, " n=", n,
              " k=", k);
  if (m == 0 || n == 0) return;
  const int lda = trans_a == Transpose::kNo ? k : m;
  const int ldb = trans_b == Transpose::kNo ? n : k;
  // Leading dimensions must be >= 1 even for empty operands (k == 0).
  RUMOR_CUBLAS_CHECK(cublasSgemm(handle, to_cublas(trans_b), to_cublas(trans_a), n, m, k, &alpha,
                                 b, ldb > 0 ? ldb : 1, a, lda > 0 ? lda : 1, &beta, c, n));
}

}  // namespace rumor::cuda
