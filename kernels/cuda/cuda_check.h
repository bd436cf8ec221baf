// cuda_check.h — the one check macro for CUDA runtime calls, the one for cuBLAS calls, and
// the launch check that follows every kernel launch.
//
// Each throws rumor::Error("file:line: CUDA call '<expr>' failed: <error name> (<text>)").
// Usable from .cc (host compiler) and .cu (nvcc) files alike.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

namespace rumor::cuda_detail {

[[noreturn]] void throw_cuda_error(cudaError_t error, const char* expr, const char* file,
                                   int line);
[[noreturn]] void throw_cublas_error(cublasStatus_t status, const char* expr, const char* file,
                                     int line);

}  // namespace rumor::cuda_detail

// Throws rumor::Error when the CUDA runtime call `expr` does not return cudaSuccess.
#define RUMOR_CUDA_CHECK(expr)                                                        \
  do {                                                                                \
    const cudaError_t rumor_cuda_status_ = (expr);                                    \
    if (rumor_cuda_status_ != cudaSuccess) [[unlikely]] {                             \
      ::rumor::cuda_detail::throw_cuda_error(rumor_cuda_status_, #expr, __FILE__,     \
                                             __LINE__);                               \
    }                                                                                 \
  } while (0)

// Throws rumor::Error when the cuBLAS call `expr` does not return CUBLAS_STATUS_SUCCESS.
#define RUMOR_CUBLAS_CHECK(expr)                                                      \
  do {                                                                                \
    const cublasStatus_t rumor_cublas_status_ = (expr);                               \
    if (rumor_cublas_status_ != CUBLAS_STATUS_SUCCESS) [[unlikely]] {                 \
      ::rumor::cuda_detail::throw_cublas_error(rumor_cublas_status_, #expr, __FILE__, \
                                               __LINE__);                             \
    }                                                                                 \
  } while (0)

// Put right after every kernel launch: reports bad launch configurations (and earlier
// asynchronous errors) at the launch site instead of at some later call.
#define RUMOR_CUDA_LAUNCH_CHECK() RUMOR_CUDA_CHECK(cudaGetLastError())
