// softmax_ce.cu — fused, numerically stable softmax + cross-entropy (loss and gradient in one
// kernel) and row-wise argmax. One warp per row; lanes stride over the columns.
#include <cmath>

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/launchers.h"
#include "kernels/cuda/warp_reduce.cuh"

namespace rumor::cuda {
namespace {

constexpr int kRowsPerBlock = 8;  // warps per block
constexpr int kMaxRowBlocks = 65535;

// Per row r: m = max z, s = Σ exp(z - m), loss = m + log s - z[t],
// dlogits = grad_scale·(exp(z - m)/s - [c == t]).
__global__ void softmax_ce_kernel(const float* logits, const std::int32_t* labels, int rows,
                                  int classes, float grad_scale, float* losses,
                                  float* dlogits) {
  const int lane = threadIdx.x % kWarpSize;
  const int first_row = blockIdx.x * kRowsPerBlock + threadIdx.x / kWarpSize;
  for (int r = first_row; r < rows; r += gridDim.x * kRowsPerBlock) {
    const float* z = logits + static_cast<std::size_t>(r) * classes;
    const int label = labels[r];
    float m = -INFINITY;
    for (int c = lane; c < classes; c += kWarpSize) m = fmaxf(m, z[c]);
    m = warp_max(m);
    float s = 0.0f;
    for (int c = lane; c < classes; c += kWarpSize) s += expf(z[c] - m);
    s = warp_sum(s);
    const bool valid = label >= 0 && label < classes;
    if (lane == 0) losses[r] = valid ? m + logf(s) - z[label] : NAN;
    if (dlogits != nullptr) {
      float* d = dlogits + static_cast<std::size_t>(r) * classes;
      const float inv_s = 1.0f / s;
      for (int c = lane; c < classes; c += kWarpSize) {
        const float p = expf(z[c] - m) * inv_s;
        d[c] = valid ? grad_scale * (p - (c == label ? 1.0f : 0.0f)) : NAN;
      }
    }
  }
}

// Per row: each lane scans its columns in increasing order keeping the first maximum, then
// the lanes merge: larger value wins, equal values go to the smaller index.
__global__ void argmax_kernel(const float* x, int rows, int cols, std::int32_t* out) {
  const int lane = threadIdx.x % kWarpSize;
  const int first_row = blockIdx.x * kRowsPerBlock + threadIdx.x / kWarpSize;
  for (int r = first_row; r < rows; r += gridDim.x * kRowsPerBlock) {
    const float* row = x + static_cast<std::size_t>(r) * cols;
    float best = -INFINITY;
    int index = cols;  // "none yet": loses every tie
    for (int c = lane; c < cols; c += kWarpSize) {
      const float v = row[c];
      if (index == cols || v > best) {
        best = v;
        index = c;
      }
    }
#pragma unroll
    for (int offset = kWarpSize / 2; offset > 0; offset /= 2) {
      const float other = __shfl_xor_sync(kFullMask, best, offset);
      const int other_index = __shfl_xor_sync(kFullMask, index, offset);
      if (other > best || (other == best && other_index < index) ||
          (index == cols && other_index < cols)) {
        best = other;
        index = other_index;
      }
    }
    if (lane == 0) out[r] = index;
  }
}

int row_blocks(int rows) { return std::min((rows + kRowsPerBlock - 1) / kRowsPerBlock, kMaxRowBlocks); }

}  // namespace

void softmax_cross_entropy(cudaStream_t stream, const float* logits, const std::int32_t* labels,
                           int rows, int classes, float grad_scale, float* losses,
                           float* dlogits) {
  if (rows <= 0 || classes <= 0) return;
  softmax_ce_kernel<<<row_blocks(rows), kRowsPerBlock * kWarpSize, 0, stream>>>(
      logits, labels, rows, classes, grad_scale, losses, dlogits);
  RUMOR_CUDA_LAUNCH_CHECK();
}

void argmax_rows(cudaStream_t stream, const float* x, int rows, int cols, std::int32_t* out) {
  if (rows <= 0 || cols <= 0) return;
  argmax_kernel<<<row_blocks(rows), kRowsPerBlock * kWarpSize, 0, stream>>>(x, rows, cols, out);
  RUMOR_CUDA_LAUNCH_CHECK();
}

}  // namespace rumor::cuda
