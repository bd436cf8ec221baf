// reductions.cu — column sums for bias gradients, the sum of squares (in double, two passes,
// deterministic) and the finiteness check.
#include <algorithm>
#include <cmath>

#include "kernels/cuda/launchers.h"
#include "kernels/cuda/vector_map.cuh"
#include "kernels/cuda/warp_reduce.cuh"

namespace rumor::cuda {
namespace {

// --- bias_grad: a column reduction. A block owns 32 adjacent columns; its 32×16 threads read
// rows with a stride of 16 (each warp reads 32 consecutive floats: coalesced), then the 16
// partial sums of each column are added in a fixed order.
constexpr int kColTile = 32;
constexpr int kRowLanes = 16;
constexpr int kMaxColBlocks = 65535;

__global__ void bias_grad_kernel(const float* dy, int rows, int cols, float* dbias) {
  __shared__ float partial[kRowLanes][kColTile + 1];  // +1: no bank conflicts on the read-back
  for (int tile = blockIdx.x; tile * kColTile < cols; tile += gridDim.x) {
    const int c = tile * kColTile + threadIdx.x;
    float acc = 0.0f;
    if (c < cols) {
      for (int r = threadIdx.y; r < rows; r += kRowLanes) acc += dy[static_cast<std::size_t>(r) * cols + c];
    }
    partial[threadIdx.y][threadIdx.x] = acc;
    __syncthreads();
    if (threadIdx.y == 0 && c < cols) {
      float sum = 0.0f;
#pragma unroll
      for (int k = 0; k < kRowLanes; ++k) sum += partial[k][threadIdx.x];
      dbias[c] = sum;
    }
    __syncthreads();
  }
}

// --- sum_squares: pass 1 writes one double per block, pass 2 adds them in one block. The
// grid size is a function of n alone, so the summation order never changes between runs.
constexpr int kSumThreads = 256;
constexpr std::size_t kMaxPartials = kSumSquaresScratch - 1;
constexpr std::size_t kElementsPerBlock = 16 * kSumThreads;

__global__ void sum_squares_partial_kernel(const float* x, std::size_t n, double* partials) {
  const std::size_t stride = static_cast<std::size_t>(blockDim.x) * gridDim.x;
  double acc = 0.0;
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += stride) {
    const double v = x[i];
    acc = fma(v, v, acc);  // exact product (24-bit mantissas), one rounding per element
  }
  acc = block_sum(acc);
  if (threadIdx.x == 0) partials[blockIdx.x] = acc;
}

__global__ void sum_partials_kernel(const double* partials, int count, double* result) {
  double acc = 0.0;
  for (int i = threadIdx.x; i < count; i += blockDim.x) acc += partials[i];
  acc = block_sum(acc);
  if (threadIdx.x == 0) *result = acc;
}

// --- any_nonfinite: every thread that sees a NaN or ±Inf stores 1 (same value: benign).
struct NonFinite {
  const float* x;
  int* flag;
  __device__ void one(std::size_t i) const {
    if (!isfinite(x[i])) *flag = 1;
  }
  __device__ void four(std::size_t i) const {
    const float4 v = load4(x + i);
    if (!(isfinite(v.x) && isfinite(v.y) && isfinite(v.z) && isfinite(v.w))) *flag = 1;
  }
};

}  // namespace

void bias_grad(cudaStream_t stream, const float* dy, int rows, int cols, float* dbias) {
  if (cols <= 0) return;
  if (rows <= 0) {
    fill(stream, dbias, static_cast<std::size_t>(cols), 0.0f);
    return;
  }
  const int blocks = std::min((cols + kColTile - 1) / kColTile, kMaxColBlocks);
  bias_grad_kernel<<<blocks, dim3(kColTile, kRowLanes), 0, stream>>>(dy, rows, cols, dbias);
  RUMOR_CUDA_LAUNCH_CHECK();
}

void sum_squares(cudaStream_t stream, const float* x, std::size_t n, double* scratch,
                 double* result) {
  const std::size_t blocks =
      std::clamp<std::size_t>((n + kElementsPerBlock - 1) / kElementsPerBlock, 1, kMaxPartials);
  double* partials = scratch;
  sum_squares_partial_kernel<<<static_cast<unsigned>(blocks), kSumThreads, 0, stream>>>(
      x, n, partials);
  RUMOR_CUDA_LAUNCH_CHECK();
  sum_partials_kernel<<<1, kSumThreads, 0, stream>>>(partials, static_cast<int>(blocks), result);
  RUMOR_CUDA_LAUNCH_CHECK();
}

void any_nonfinite(cudaStream_t stream, const float* x, std::size_t n, int* flag) {
  RUMOR_CUDA_CHECK(cudaMemsetAsync(flag, 0, sizeof(int), stream));
  launch_map(stream, n, vec_split(n, {x}), NonFinite{x, flag});
}

}  // namespace rumor::cuda
