#include "kernels/cuda/gemm.h"

#include <algorithm>

#include "core/error.h"
#include "kernels/cuda/cuda_check.h"

namespace rumor::cuda {
namespace {

cublasOperation_t to_cublas(Transpose t) { return t == Transpose::kYes ? CUBLAS_OP_T : CUBLAS_OP_N; }

}  // namespace

// A row-major [r, c] matrix with row length ld is, read column-major, its transpose [c, r]
// with leading dimension ld. So C = op(A)·op(B) (row-major) is Cᵀ = op(B)ᵀ·op(A)ᵀ read
// column-major: swap the operands and m with n; the transpose flags and leading dimensions
// (stored row lengths) stay as they are. Leading dimensions are at least 1, as BLAS requires
// even for empty operands.
ColumnMajorGemm to_column_major(Transpose trans_a, Transpose trans_b, int m, int n, int k,
                                const float* a, const float* b, float* c) {
  const int lda = trans_a == Transpose::kNo ? k : m;
  const int ldb = trans_b == Transpose::kNo ? n : k;
  return {.op_first = trans_b,
          .op_second = trans_a,
          .m = n,
          .n = m,
          .k = k,
          .first = b,
          .ld_first = std::max(ldb, 1),
          .second = a,
          .ld_second = std::max(lda, 1),
          .c = c,
          .ldc = std::max(n, 1)};
}

void gemm_row_major(cublasHandle_t handle, Transpose trans_a, Transpose trans_b, int m, int n,
                    int k, float alpha, const float* a, const float* b, float beta, float* c) {
  RUMOR_CHECK(m >= 0 && n >= 0 && k >= 0, "gemm sizes must be >= 0, got m=", m, " n=", n,
              " k=", k);
  if (m == 0 || n == 0) return;
  const ColumnMajorGemm g = to_column_major(trans_a, trans_b, m, n, k, a, b, c);
  RUMOR_CUBLAS_CHECK(cublasSgemm(handle, to_cublas(g.op_first), to_cublas(g.op_second), g.m,
                                 g.n, g.k, &alpha, g.first, g.ld_first, g.second, g.ld_second,
                                 &beta, g.c, g.ldc));
}

}  // namespace rumor::cuda
