#include "kernels/cuda/cuda_check.h"

#include "core/error.h"

namespace rumor::cuda_detail {

void throw_cuda_error(cudaError_t error, const char* expr, const char* file, int line) {
  // Clears a non-sticky error so that the next call does not report it again.
  (void)cudaGetLastError();
  throw Error(detail::concat(file, ":", line, ": CUDA call '", expr, "' failed: ",
                             cudaGetErrorName(error), " (", cudaGetErrorString(error), ")"));
}

void throw_cublas_error(cublasStatus_t status, const char* expr, const char* file, int line) {
  throw Error(detail::concat(file, ":", line, ": cuBLAS call '", expr, "' failed: ",
                             cublasGetStatusName(status), " (", cublasGetStatusString(status),
                             ")"));
}

}  // namespace rumor::cuda_detail
