// bench_local_group.cc — the intra-node collectives of hierarchical peers (kernels/
// local_group.h), against a copy measured in the same run:
//   1. CpuLocalGroup (threads, shared memory): all-reduce (mean) and broadcast bus bandwidth
//      for K = 2 and 4 members, against memcpy of the same buffer on one thread.
//   2. NcclLocalGroup over every GPU of the machine (NCCL builds with a GPU): the same, against
//      a device-to-device copy on GPU 0. Without a GPU it says why and skips the table.
//
// Bandwidths follow nccl-tests: algbw = S / t for a buffer of S bytes; busbw = algbw ·
// 2(K−1)/K for all-reduce (the bytes every link must carry in a ring), = algbw for broadcast.
// A copy's bandwidth is S / t. ratio = busbw / copy bandwidth: 1.0 means the collective moves
// its bytes as fast as one copy does.
//
// Usage: bench_local_group [--quick]
//   --quick  tiny buffers, few repetitions: proves the program runs (a CI test); its figures
//            mean nothing.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "kernels/cpu/cpu_local_group.h"
#include "rumor_config.h"

#if RUMOR_HAVE_NCCL
#include "kernels/cuda/cuda_backend.h"
#include "kernels/nccl/nccl_local_group.h"
#endif

namespace rumor {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t mid = v.size() / 2;
  return v.size() % 2 == 1 ? v[mid] : 0.5 * (v[mid - 1] + v[mid]);
}

struct Settings {
  int calls = 50;  // per repetition
  int reps = 7;    // the median repetition is reported
};

enum class Op { kAllReduce, kBroadcast };

const char* name(Op op) { return op == Op::kAllReduce ? "all-reduce mean" : "broadcast"; }

// busbw / algbw for `op` among k members.
double bus_factor(Op op, int k) { return op == Op::kAllReduce ? 2.0 * (k - 1) / k : 1.0; }

std::string size_label(std::size_t floats) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f MB", static_cast<double>(floats) * 4 / 1e6);
  return buf;
}

void print_row(Op op, int k, std::size_t floats, double seconds, double copy_gbps) {
  const double bytes = static_cast<double>(floats) * sizeof(float);
  const double algbw = bytes / seconds / 1e9;
  const double busbw = algbw * bus_factor(op, k);
  std::printf("%-16s %7d %10s %10.4f %11.2f %11.2f %11.2f %7.2f\n", name(op), k,
              size_label(floats).c_str(), seconds * 1e3, algbw, busbw, copy_gbps,
              busbw / copy_gbps);
}

void print_header(const char* reference) {
  std::printf("%-16s %7s %10s %10s %11s %11s %11s %7s\n", "operation", "members", "size",
              "time ms", "algbw GB/s", "busbw GB/s", reference, "ratio");
}

// Seconds per memcpy of `floats` floats on one thread (median of the repetitions).
double time_memcpy(std::size_t floats, const Settings& s) {
  std::vector<float> src(floats, 1.0f), dst(floats, 0.0f);
  std::vector<double> samples;
  for (int rep = 0; rep < s.reps + 1; ++rep) {  // the first repetition warms up
    const auto start = Clock::now();
    for (int i = 0; i < s.calls; ++i) {
      std::memcpy(dst.data(), src.data(), floats * sizeof(float));
      asm volatile("" : : : "memory");
    }
    if (rep > 0) samples.push_back(seconds_since(start) / s.calls);
  }
  return median(samples);
}

// Seconds per operation among k CPU threads: every member runs the same loop; member 0 times
// each repetition (the operations end with a barrier, so its time is the group's).
double time_cpu_group(Op op, int k, std::size_t floats, const Settings& s) {
  CpuLocalGroup group(k);
  std::vector<std::vector<float>> data(k, std::vector<float>(floats, 1.0f));
  std::vector<double> samples;
  std::vector<std::thread> threads;
  const auto member = [&](int m) {
    for (int rep = 0; rep < s.reps + 1; ++rep) {
      const auto start = Clock::now();
      for (int i = 0; i < s.calls; ++i) {
        if (op == Op::kAllReduce) {
          group.all_reduce_mean(m, data[m].data(), floats);
        } else {
          group.broadcast(m, data[m].data(), floats, 0);
        }
      }
      if (m == 0 && rep > 0) samples.push_back(seconds_since(start) / s.calls);
    }
  };
  for (int m = 1; m < k; ++m) threads.emplace_back(member, m);
  member(0);
  for (std::thread& t : threads) t.join();
  return median(samples);
}

void cpu_table(const std::vector<std::size_t>& sizes, const Settings& s) {
  std::printf("\n1. CpuLocalGroup (threads, shared memory) on %u hardware threads; reference: "
              "memcpy on one thread\n\n", std::max(1u, std::thread::hardware_concurrency()));
  print_header("memcpy GB/s");
  for (const std::size_t floats : sizes) {
    const double copy_gbps = static_cast<double>(floats) * 4 / time_memcpy(floats, s) / 1e9;
    for (const Op op : {Op::kAllReduce, Op::kBroadcast}) {
      for (const int k : {2, 4}) {
        print_row(op, k, floats, time_cpu_group(op, k, floats, s), copy_gbps);
      }
    }
  }
}

#if RUMOR_HAVE_NCCL
void nccl_table(const std::vector<std::size_t>& sizes, const Settings& s) {
  const int k = cuda_device_count();
  if (k == 0) {
    std::printf("\n2. NcclLocalGroup: skipped, no CUDA device (%s)\n",
                cuda_unavailable_reason().c_str());
    return;
  }
  std::vector<std::unique_ptr<Backend>> owned;
  std::vector<Backend*> backends;
  for (int d = 0; d < k; ++d) {
    owned.push_back(make_cuda_backend(d));
    backends.push_back(owned.back().get());
  }
  const auto group = make_local_group(backends);
  std::printf("\n2. NcclLocalGroup (NCCL %s) over %d GPU%s; reference: device-to-device copy on "
              "cuda:0%s\n\n", nccl_version().c_str(), k, k == 1 ? "" : "s",
              k == 1 ? " (one GPU: a 1-rank communicator moves no bytes between GPUs; the "
                       "figures show NCCL's fixed cost)" : "");
  print_header("D2D GB/s");
  for (const std::size_t floats : sizes) {
    std::vector<DeviceArray<float>> data;
    for (Backend* b : backends) {
      data.emplace_back(*b, floats);
      b->fill(data.back().data(), floats, 1.0f);
    }
    DeviceArray<float> copy_target(*backends[0], floats);
    std::vector<double> copy_samples;
    for (int rep = 0; rep < s.reps + 1; ++rep) {
      backends[0]->synchronize();
      const auto start = Clock::now();
      for (int i = 0; i < s.calls; ++i) {
        backends[0]->copy(copy_target.data(), data[0].data(), floats * sizeof(float));
      }
      backends[0]->synchronize();
      if (rep > 0) copy_samples.push_back(seconds_since(start) / s.calls);
    }
    const double copy_gbps = static_cast<double>(floats) * 4 / median(copy_samples) / 1e9;
    for (const Op op : {Op::kAllReduce, Op::kBroadcast}) {
      std::vector<double> samples;
      std::vector<std::thread> threads;
      const auto member = [&](int m) {
        for (int rep = 0; rep < s.reps + 1; ++rep) {
          backends[m]->synchronize();
          const auto start = Clock::now();
          for (int i = 0; i < s.calls; ++i) {
            if (op == Op::kAllReduce) {
              group->all_reduce_mean(m, data[m].data(), floats);
            } else {
              group->broadcast(m, data[m].data(), floats, 0);
            }
          }
          backends[m]->synchronize();
          if (m == 0 && rep > 0) samples.push_back(seconds_since(start) / s.calls);
        }
      };
      for (int m = 1; m < k; ++m) threads.emplace_back(member, m);
      member(0);
      for (std::thread& t : threads) t.join();
      print_row(op, k, floats, median(samples), copy_gbps);
    }
  }
}
#endif

int usage_error(const std::string& message) {
  std::fprintf(stderr, "bench_local_group: %s\nusage: bench_local_group [--quick]\n",
               message.c_str());
  return 2;
}

}  // namespace
}  // namespace rumor

int main(int argc, char** argv) {
  using namespace rumor;
  bool quick = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--quick") {
      quick = true;
    } else if (arg == "--help" || arg == "-h") {
      std::printf("usage: bench_local_group [--quick]\n");
      return 0;
    } else {
      return usage_error("unknown argument " + std::string(arg));
    }
  }
  try {
    const Settings settings = quick ? Settings{2, 1} : Settings{};
    // The MLP's parameters (what a node all-reduces every step), then 16 MB, out of cache.
    const std::vector<std::size_t> cpu_sizes =
        quick ? std::vector<std::size_t>{1001} : std::vector<std::size_t>{235'146, 4'000'000};
    cpu_table(cpu_sizes, settings);
#if RUMOR_HAVE_NCCL
    const std::vector<std::size_t> gpu_sizes =
        quick ? std::vector<std::size_t>{1001}
              : std::vector<std::size_t>{235'146, 4'000'000, 64'000'000};
    nccl_table(gpu_sizes, settings);
#else
    std::printf("\n2. NcclLocalGroup: not built (no NCCL next to nvcc)\n");
#endif
  } catch (const std::exception& error) {
    std::fprintf(stderr, "bench_local_group: %s\n", error.what());
    return 1;
  }
  return 0;
}
