// optimizer.cu — the gossip mixing primitive axpby and the fused SGD update: both one
// memory-bound pass with 16-byte loads where aligned.
#include "kernels/cuda/launchers.h"
#include "kernels/cuda/vector_map.cuh"

namespace rumor::cuda {
namespace {

// y = a·x + b·y; x may alias y (each element is read before it is written, by one thread).
struct Axpby {
  float a;
  const float* x;
  float b;
  float* y;
  __device__ void one(std::size_t i) const { y[i] = a * x[i] + b * y[i]; }
  __device__ void four(std::size_t i) const {
    const float4 xv = load4(x + i);
    const float4 yv = load4(y + i);
    store4(y + i, make_float4(a * xv.x + b * yv.x, a * xv.y + b * yv.y, a * xv.z + b * yv.z,
                              a * xv.w + b * yv.w));
  }
};

// The formula of SgdConfig (kernels/backend.h), element by element.
template <bool kNesterov>
struct Sgd {
  float lr;
  float momentum;
  float weight_decay;
  float* __restrict__ params;
  const float* __restrict__ grads;
  float* __restrict__ velocity;

  __device__ __forceinline__ void step(float& p, float grad, float& v) const {
    const float g = grad + weight_decay * p;
    v = momentum * v + g;
    p -= lr * (kNesterov ? g + momentum * v : v);
  }
  __device__ void one(std::size_t i) const {
    float p = params[i];
    float v = velocity[i];
    step(p, grads[i], v);
    params[i] = p;
    velocity[i] = v;
  }
  __device__ void four(std::size_t i) const {
    float4 p = load4(params + i);
    const float4 g = load4(grads + i);
    float4 v = load4(velocity + i);
    step(p.x, g.x, v.x);
    step(p.y, g.y, v.y);
    step(p.z, g.z, v.z);
    step(p.w, g.w, v.w);
    store4(params + i, p);
    store4(velocity + i, v);
  }
};

template <bool kNesterov>
void launch_sgd(cudaStream_t stream, std::size_t n, const SgdConfig& c, float* params,
                const float* grads, float* velocity) {
  launch_map(stream, n, vec_split(n, {params, grads, velocity}),
             Sgd<kNesterov>{c.lr, c.momentum, c.weight_decay, params, grads, velocity});
}

}  // namespace

void axpby(cudaStream_t stream, std::size_t n, float a, const float* x, float b, float* y) {
  launch_map(stream, n, vec_split(n, {x, y}), Axpby{a, x, b, y});
}

void sgd_update(cudaStream_t stream, std::size_t n, const SgdConfig& config, float* params,
                const float* grads, float* velocity) {
  if (config.nesterov) {
    launch_sgd<true>(stream, n, config, params, grads, velocity);
  } else {
    launch_sgd<false>(stream, n, config, params, grads, velocity);
  }
}

}  // namespace rumor::cuda
