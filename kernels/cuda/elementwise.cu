// elementwise.cu — fill, bias addition and ReLU (forward and backward).
#include "kernels/cuda/launchers.h"
#include "kernels/cuda/vector_map.cuh"

namespace rumor::cuda {
namespace {

__device__ __forceinline__ float relu1(float x) { return x > 0.0f ? x : 0.0f; }
__device__ __forceinline__ float relu_grad1(float y, float dy) { return y > 0.0f ? dy : 0.0f; }

struct Fill {
  float* x;
  float value;
  __device__ void one(std::size_t i) const { x[i] = value; }
  __device__ void four(std::size_t i) const { store4(x + i, make_float4(value, value, value, value)); }
};

struct Relu {
  const float* x;
  float* y;
  __device__ void one(std::size_t i) const { y[i] = relu1(x[i]); }
  __device__ void four(std::size_t i) const {
    const float4 v = load4(x + i);
    store4(y + i, make_float4(relu1(v.x), relu1(v.y), relu1(v.z), relu1(v.w)));
  }
};

struct ReluBackward {
  const float* y;
  const float* dy;
  float* dx;
  __device__ void one(std::size_t i) const { dx[i] = relu_grad1(y[i], dy[i]); }
  __device__ void four(std::size_t i) const {
    const float4 yv = load4(y + i);
    const float4 g = load4(dy + i);
    store4(dx + i, make_float4(relu_grad1(yv.x, g.x), relu_grad1(yv.y, g.y),
                               relu_grad1(yv.z, g.z), relu_grad1(yv.w, g.w)));
  }
};

constexpr int kBiasThreads = 256;
constexpr int kBiasMaxRowBlocks = 65535;

// y[rows, cols] += bias[cols]: blockIdx.x·blockDim.x + threadIdx.x is the column (coalesced),
// blockIdx.y walks the rows with a stride of gridDim.y; each thread loads its bias once.
__global__ void add_bias_kernel(float* y, const float* bias, int rows, int cols) {
  const int c = blockIdx.x * blockDim.x + threadIdx.x;
  if (c >= cols) return;
  const float b = bias[c];
  for (int r = blockIdx.y; r < rows; r += gridDim.y) y[static_cast<std::size_t>(r) * cols + c] += b;
}

}  // namespace

void fill(cudaStream_t stream, float* x, std::size_t n, float value) {
  launch_map(stream, n, vec_split(n, {x}), Fill{x, value});
}

void add_bias(cudaStream_t stream, float* y, const float* bias, int rows, int cols) {
  if (rows <= 0 || cols <= 0) return;
  const dim3 grid((cols + kBiasThreads - 1) / kBiasThreads, std::min(rows, kBiasMaxRowBlocks));
  add_bias_kernel<<<grid, kBiasThreads, 0, stream>>>(y, bias, rows, cols);
  RUMOR_CUDA_LAUNCH_CHECK();
}

void relu(cudaStream_t stream, const float* x, float* y, std::size_t n) {
  launch_map(stream, n, vec_split(n, {x, y}), Relu{x, y});
}

void relu_backward(cudaStream_t stream, const float* y, const float* dy, float* dx,
                   std::size_t n) {
  launch_map(stream, n, vec_split(n, {y, dy, dx}), ReluBackward{y, dy, dx});
}

}  // namespace rumor::cuda
