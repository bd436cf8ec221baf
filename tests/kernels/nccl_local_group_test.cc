// NcclLocalGroup: the same exact results as the CPU group, on every GPU of the machine (a
// 1-rank communicator where there is one GPU still runs the NCCL code path). Compiled wherever
// NCCL is found; skips with the reason when no GPU is usable.
#include "kernels/nccl/nccl_local_group.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <vector>

#include "kernels/cpu/cpu_backend.h"
#include "tests/kernels/cuda_test_util.h"
#include "tests/kernels/local_group_members.h"

namespace rumor {
namespace {

using testkit::mean_value;
using testkit::member_value;
using testkit::member_values;
using testkit::rethrow_any;
using testkit::run_members;

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
  // Runs `op` on every GPU, each starting from member_values, and returns what each ends with.
  const auto on_every_gpu = [&](const std::function<void(int, float*)>& op) {
    std::vector<std::vector<float>> results(k);
    rethrow_any(run_members(k, [&](int m) {
      DeviceArray<float> data(*gpus.backends[m], n);
      data.upload(member_values(m, n));
      op(m, data.data());
      results[m] = data.to_host();  // synchronizes the compute stream the collective is on
    }));
    return results;
  };
  auto results = on_every_gpu([&](int m, float* data) { group->all_reduce_mean(m, data, n); });
  for (int m = 0; m < k; ++m) {
    for (std::size_t i = 0; i < n; ++i) {
      ASSERT_EQ(results[m][i], mean_value(k, i)) << "GPU " << m << " element " << i;
    }
  }
  const int root = k - 1;
  results = on_every_gpu([&](int m, float* data) { group->broadcast(m, data, n, root); });
  for (int m = 0; m < k; ++m) {
    for (std::size_t i = 0; i < n; ++i) {
      ASSERT_EQ(results[m][i], member_value(root, i)) << "GPU " << m << " element " << i;
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
