// gemm.h — row-major GEMM on cuBLAS (which is column-major). The only place in rumor where
// the layouts are mapped onto each other.
#pragma once

#include <cublas_v2.h>

#include "kernels/backend.h"

namespace rumor::cuda {

// C[m,n] = alpha·op(A)·op(B) + beta·C with every matrix row-major and dense, as in
// Backend::gemm; issued on the handle's stream, does not block. With beta == 0, C is not read
// (NaN in C does not propagate), as in BLAS.
void gemm_row_major(cublasHandle_t handle, Transpose trans_a, Transpose trans_b, int m, int n,
                    int k, float alpha, const float* a, const float* b, float beta, float* c);

}  // namespace rumor::cuda
