// gemm.h — row-major GEMM on cuBLAS (which is column-major). The only place in rumor where
// the layouts are mapped onto each other.
#pragma once

#include <cublas_v2.h>

#include "kernels/backend.h"

namespace rumor::cuda {

// The arguments of a column-major sgemm, C = op(first)·op(second) + beta·C, in BLAS order.
struct ColumnMajorGemm {
  Transpose op_first;
  Transpose op_second;
  int m, n, k;
  const float* first;
  int ld_first;
  const float* second;
  int ld_second;
  float* c;
  int ldc;
};

// Maps the row-major C[m,n] = op(A)·op(B) of Backend::gemm onto column-major arguments.
// Pure arithmetic (no CUDA): the CPU tests check it against OpenBLAS's column-major sgemm.
ColumnMajorGemm to_column_major(Transpose trans_a, Transpose trans_b, int m, int n, int k,
                                const float* a, const float* b, float* c);

// C[m,n] = alpha·op(A)·op(B) + beta·C with every matrix row-major and dense, as in
// Backend::gemm; issued on the handle's stream, does not block. With beta == 0, C is not read
// (NaN in C does not propagate), as in BLAS.
void gemm_row_major(cublasHandle_t handle, Transpose trans_a, Transpose trans_b, int m, int n,
                    int k, float alpha, const float* a, const float* b, float beta, float* c);

}  // namespace rumor::cuda
