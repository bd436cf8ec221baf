// bench_cuda.cc — GPU figures for docs/PERFORMANCE.md, each against a reference measured in
// the same run:
//   1. axpby (y = a·x + b·y) bandwidth over 10M floats vs device-to-device cudaMemcpy.
//      Bytes moved: axpby reads x and y and writes y = 12 B/element; a copy reads and writes
//      = 8 B/element. Target: axpby reaches >= 0.9 of the memcpy bandwidth.
//   2. A training step (forward + backward + SGD) of the MLP 784-256-128-10 at batch 128,
//      through the Backend interface, on the GPU vs the CPU backend (1 OpenBLAS thread).
// Without a CUDA device it prints "skipped: no CUDA device (<reason>)" and exits 0.
#include <chrono>
#include <cstdio>
#include <exception>
#include <vector>

#include "core/rng.h"
#include "kernels/cpu/cpu_backend.h"
#include "kernels/cuda/cuda_backend.h"
#include "kernels/cuda/cuda_check.h"
#include "tests/kernels/backend_mlp.h"

namespace rumor {
namespace {

constexpr std::size_t kMixElements = 10'000'000;
constexpr int kMixRepeats = 50;

struct Timing {
  double ms = 0.0;  // per call
  double gb_per_s = 0.0;
};

// Times `repeats` calls of `body` on the compute stream with events (after one warm-up call).
template <class Body>
Timing time_on_stream(CudaBackend& gpu, std::size_t bytes_per_call, int repeats, Body body) {
  const cuda::Event start(/*timing=*/true);
  const cuda::Event stop(/*timing=*/true);
  body();
  start.record(gpu.compute_stream());
  for (int i = 0; i < repeats; ++i) body();
  stop.record(gpu.compute_stream());
  stop.synchronize();
  const double ms = cuda::Event::elapsed_ms(start, stop) / repeats;
  return {ms, static_cast<double>(bytes_per_call) / (ms * 1e6)};
}

void bench_mixing(CudaBackend& gpu) {
  DeviceArray<float> x(gpu, kMixElements);
  DeviceArray<float> y(gpu, kMixElements);
  gpu.fill(x.data(), kMixElements, 1.0f);
  gpu.fill(y.data(), kMixElements, 2.0f);
  const Timing copy = time_on_stream(gpu, 8 * kMixElements, kMixRepeats, [&] {
    RUMOR_CUDA_CHECK(cudaMemcpyAsync(y.data(), x.data(), x.bytes(), cudaMemcpyDeviceToDevice,
                                     gpu.compute_stream()));
  });
  const Timing mix = time_on_stream(gpu, 12 * kMixElements, kMixRepeats, [&] {
    gpu.axpby(kMixElements, 0.5f, x.data(), 0.5f, y.data());
  });
  std::printf("%-44s %10s %10s %8s\n", "mixing, 10M floats", "ms/call", "GB/s", "ratio");
  std::printf("%-44s %10.4f %10.1f %8s\n", "cudaMemcpy D2D (8 B/elem, reference)", copy.ms,
              copy.gb_per_s, "1.00");
  std::printf("%-44s %10.4f %10.1f %8.2f   (target >= 0.90)\n", "axpby (12 B/elem)", mix.ms,
              mix.gb_per_s, mix.gb_per_s / copy.gb_per_s);
}

// Mean milliseconds per training step of the 784-256-128-10 MLP on `backend`.
double mlp_step_ms(Backend& backend, int steps) {
  constexpr int kBatch = 128;
  testkit::BackendMlp mlp(backend, {784, 256, 128, 10}, kBatch, /*seed=*/1);
  Rng rng(7);
  std::vector<float> x(static_cast<std::size_t>(kBatch) * 784);
  for (float& v : x) v = static_cast<float>(rng.uniform());
  std::vector<std::int32_t> labels(kBatch);
  for (auto& t : labels) t = static_cast<std::int32_t>(rng.below(10));
  DeviceArray<float> dx(backend, x.size());
  DeviceArray<std::int32_t> dlabels(backend, labels.size());
  dx.upload(x);
  dlabels.upload(labels);
  const SgdConfig sgd{.lr = 0.01f, .momentum = 0.9f, .weight_decay = 5e-4f, .nesterov = true};
  for (int i = 0; i < 10; ++i) mlp.train_step(dx.data(), dlabels.data(), sgd);  // warm-up
  backend.synchronize();
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < steps; ++i) mlp.train_step(dx.data(), dlabels.data(), sgd);
  backend.synchronize();
  const std::chrono::duration<double, std::milli> elapsed =
      std::chrono::steady_clock::now() - start;
  return elapsed.count() / steps;
}

void bench_training(CudaBackend& gpu) {
  CpuBackend cpu(1);
  const double cpu_ms = mlp_step_ms(cpu, 50);
  const double gpu_ms = mlp_step_ms(gpu, 500);
  std::printf("\n%-44s %10s %10s %8s\n", "MLP 784-256-128-10, batch 128, step", "ms/step",
              "samples/s", "speedup");
  std::printf("%-44s %10.4f %10.0f %8s\n", "cpu (1 thread, reference)", cpu_ms,
              128 / cpu_ms * 1e3, "1.00");
  std::printf("%-44s %10.4f %10.0f %8.1f\n", gpu.name().c_str(), gpu_ms, 128 / gpu_ms * 1e3,
              cpu_ms / gpu_ms);
}

}  // namespace
}  // namespace rumor

int main() {
  try {
    if (rumor::cuda_device_count() == 0) {
      std::printf("skipped: no CUDA device (%s)\n", rumor::cuda_unavailable_reason().c_str());
      return 0;
    }
    rumor::CudaBackend gpu(0);
    cudaDeviceProp prop{};
    RUMOR_CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
    std::printf("device: %s (sm_%d%d, %d SMs)\n\n", prop.name, prop.major, prop.minor,
                prop.multiProcessorCount);
    rumor::bench_mixing(gpu);
    rumor::bench_training(gpu);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_cuda: %s\n", e.what());
    return 1;
  }
}
