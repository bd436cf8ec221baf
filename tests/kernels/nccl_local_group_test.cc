// NcclLocalGroup: the same exact results as the CPU group, on every GPU of the machine (a
// 1-rank communicator where there is one GPU still runs the NCCL code path). Compiled wherever
// NCCL is found; skips with the reason when no GPU is usable.
#include "kernels/nccl/nccl_local_group.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "kernels/cpu/cpu_backend.h"
#include "tests/kernels/cuda_test_util.h"
#include "tests/kernels/local_group_members.h"

namespace rumor {
namespace {

using testkit::rethrow_any;
using testkit::run_members;

float integer_value(int member, std::size_t i) {
  return static_cast<float>(member * 1000 + static_cast<int>(i % 97)) - 48.0f;
}

struct Gpus {
  std::vector<std::unique_ptr<Backend>> owned;
  std::vector<Backend*> backends;
  explicit Gpus(int count) {
    for (int d = 0; d < count; ++d) {
      owned.push_back(make_cuda_backend(d));
      backends.push_back(owned.back().get());
    }
  }
};

TEST(NcclLocalGroup, AllReduceMeanAndBroadcastAreExactOnEveryGpu) {
  RUMOR_SKIP_WITHOUT_CUDA();
  const int k = cuda_device_count();
  Gpus gpus(k);
  const auto group = make_local_group(gpus.backends);
  ASSERT_EQ(group->kind(), "nccl");
  ASSERT_EQ(group->size(), k);
  const std::size_t n = 100003;
  std::vector<std::vector<float>> results(k);
  rethrow_any(run_members(k, [&](int m) {
    Backend& backend = *gpus.backends[m];
    std::vector<float> host(n);
    for (std::size_t i = 0; i < n; ++i) host[i] = integer_value(m, i);
    DeviceArray<float> data(backend, n);
    data.upload(host);
    group->all_reduce_mean(m, data.data(), n);
    results[m] = data.to_host();  // synchronizes the compute stream the all-reduce is on
  }));
  for (int m = 0; m < k; ++m) {
    for (std::size_t i = 0; i < n; ++i) {
      double sum = 0.0;
      for (int j = 0; j < k; ++j) sum += integer_value(j, i);
      ASSERT_EQ(results[m][i], static_cast<float>(sum / k)) << "GPU " << m << " element " << i;
    }
  }
  const int root = k - 1;
  rethrow_any(run_members(k, [&](int m) {
    Backend& backend = *gpus.backends[m];
    std::vector<float> host(n);
    for (std::size_t i = 0; i < n; ++i) host[i] = integer_value(m, i);
    DeviceArray<float> data(backend, n);
    data.upload(host);
    group->broadcast(m, data.data(), n, root);
    results[m] = data.to_host();
  }));
  for (int m = 0; m < k; ++m) {
    for (std::size_t i = 0; i < n; ++i) {
      ASSERT_EQ(results[m][i], integer_value(root, i)) << "GPU " << m << " element " << i;
    }
  }
}

TEST(NcclLocalGroup, AbortedGroupRefusesFurtherCalls) {
  RUMOR_SKIP_WITHOUT_CUDA();
  Gpus gpus(1);
  const auto group = make_local_group(gpus.backends);
  DeviceArray<float> data(*gpus.backends[0], 16);
  group->abort("replica 1 lost its GPU");
  try {
    group->all_reduce_mean(0, data.data(), 16);
    FAIL() << "an aborted NCCL group ran an all-reduce";
  } catch (const LocalGroupAborted& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("replica 1 lost its GPU"));
  }
}

TEST(NcclLocalGroup, AGpuListedTwiceIsAConfigError) {
  RUMOR_SKIP_WITHOUT_CUDA();
  auto a = make_cuda_backend(0);
  auto b = make_cuda_backend(0);
  try {
    make_local_group({a.get(), b.get()});
    FAIL() << "two replicas on cuda:0 were accepted";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("cuda:0 is listed twice"));
  }
  CpuBackend cpu;
  EXPECT_THROW(make_local_group({a.get(), &cpu}), ConfigError);
}

TEST(NcclLocalGroup, ReportsItsVersion) {
  // Runs without a GPU: the library is linked whenever this test is built.
  EXPECT_THAT(nccl_version(), ::testing::MatchesRegex("[0-9]+\\.[0-9]+\\.[0-9]+"));
}

}  // namespace
}  // namespace rumor
