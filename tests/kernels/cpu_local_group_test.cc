// CpuLocalGroup: exact means and copies across K ∈ {1, 2, 4} threads, identical bits on every
// member, and the failure paths (abort, disagreeing counts, bad member numbers).
#include "kernels/cpu/cpu_local_group.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "core/rng.h"
#include "kernels/cpu/cpu_backend.h"
#include "tests/kernels/local_group_members.h"

namespace rumor {
namespace {

using testkit::mean_value;
using testkit::member_values;
using testkit::rethrow_any;
using testkit::run_members;

class CpuLocalGroupSizes : public ::testing::TestWithParam<int> {};

TEST_P(CpuLocalGroupSizes, AllReduceMeanIsExact) {
  const int k = GetParam();
  // Fewer elements than members, a few, and one that does not divide evenly into slices.
  for (const std::size_t n : {0, 1, 3, 100003}) {
    CpuLocalGroup group(k);
    std::vector<std::vector<float>> data;
    for (int m = 0; m < k; ++m) data.push_back(member_values(m, n));
    rethrow_any(run_members(k, [&](int m) { group.all_reduce_mean(m, data[m].data(), n); }));
    for (int m = 0; m < k; ++m) {
      for (std::size_t i = 0; i < n; ++i) {
        ASSERT_EQ(data[m][i], mean_value(k, i)) << "member " << m << " element " << i;
      }
    }
  }
}

TEST_P(CpuLocalGroupSizes, BroadcastCopiesTheRootToEveryMember) {
  const int k = GetParam();
  const std::size_t n = 5001;
  for (int root = 0; root < k; ++root) {
    CpuLocalGroup group(k);
    std::vector<std::vector<float>> data;
    for (int m = 0; m < k; ++m) data.push_back(member_values(m, n));
    const std::vector<float> expected = data[root];
    rethrow_any(run_members(k, [&](int m) { group.broadcast(m, data[m].data(), n, root); }));
    for (int m = 0; m < k; ++m) EXPECT_EQ(data[m], expected) << "member " << m << " root " << root;
  }
}

TEST_P(CpuLocalGroupSizes, EveryMemberHoldsTheSameBitsOperationAfterOperation) {
  // Random values, so means are not exact: every member must still hold the one mean summed
  // in member order, and stay identical through many operations (the barrier's generations
  // turn over, the roots change).
  const int k = GetParam();
  const std::size_t n = 4099;
  CpuLocalGroup group(k);
  std::vector<std::vector<float>> data(k, std::vector<float>(n));
  Rng rng(7);
  for (auto& d : data) {
    for (float& v : d) v = static_cast<float>(rng.uniform()) * 2.0f - 1.0f;
  }
  std::vector<float> mean(n);
  for (std::size_t i = 0; i < n; ++i) {
    float sum = data[0][i];
    for (int m = 1; m < k; ++m) sum += data[m][i];
    mean[i] = sum / static_cast<float>(k);
  }
  std::vector<std::vector<float>> after_mean(k);
  constexpr int kRounds = 200;
  rethrow_any(run_members(k, [&](int m) {
    group.all_reduce_mean(m, data[m].data(), n);
    after_mean[m] = data[m];
    for (int round = 0; round < kRounds; ++round) {
      // Each member changes its copy its own way; the broadcast makes them agree again.
      for (float& v : data[m]) v = v * static_cast<float>(m + 2) + 1.0f;
      group.broadcast(m, data[m].data(), n, round % k);
      group.all_reduce_mean(m, data[m].data(), n);
    }
  }));
  for (int m = 0; m < k; ++m) {
    EXPECT_EQ(after_mean[m], mean) << "member " << m;
    EXPECT_EQ(std::memcmp(data[m].data(), data[0].data(), n * sizeof(float)), 0) << "member " << m;
  }
}

INSTANTIATE_TEST_SUITE_P(K, CpuLocalGroupSizes, ::testing::Values(1, 2, 4),
                         [](const auto& info) { return std::to_string(info.param); });

TEST(CpuLocalGroup, AbortReleasesMembersWaitingForOneThatFailed) {
  // Members 0 and 1 enter an all-reduce; member 2 fails instead and aborts the group. Whether
  // they are already waiting or arrive afterwards, both must throw with the reason.
  CpuLocalGroup group(3);
  std::vector<float> a(10, 1.0f), b(10, 2.0f);
  const auto errors = run_members(3, [&](int m) {
    if (m == 2) {
      group.abort("replica 2 ran out of memory");
      return;
    }
    group.all_reduce_mean(m, (m == 0 ? a : b).data(), 10);
  });
  for (int m = 0; m < 2; ++m) {
    ASSERT_TRUE(errors[m]) << "member " << m << " returned from an all-reduce that cannot end";
    try {
      std::rethrow_exception(errors[m]);
    } catch (const LocalGroupAborted& e) {
      EXPECT_THAT(e.what(), ::testing::HasSubstr("replica 2 ran out of memory"));
    }
  }
  EXPECT_FALSE(errors[2]);
  // Later calls throw too; a second abort keeps the first reason.
  group.abort("another reason");
  try {
    group.broadcast(0, a.data(), 10, 0);
    FAIL() << "a call after abort returned";
  } catch (const LocalGroupAborted& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("replica 2 ran out of memory"));
  }
}

TEST(CpuLocalGroup, MembersDisagreeingOnTheCountAllThrow) {
  CpuLocalGroup group(2);
  std::vector<float> a(10, 1.0f), b(12, 2.0f);
  const auto errors = run_members(2, [&](int m) {
    group.all_reduce_mean(m, (m == 0 ? a : b).data(), m == 0 ? a.size() : b.size());
  });
  for (int m = 0; m < 2; ++m) {
    ASSERT_TRUE(errors[m]) << "member " << m;
    try {
      std::rethrow_exception(errors[m]);
    } catch (const Error& e) {
      EXPECT_THAT(e.what(), ::testing::HasSubstr("member 0 passed 10 elements and member 1 "
                                                 "passed 12"));
    }
  }
  EXPECT_EQ(a, std::vector<float>(10, 1.0f)) << "a refused operation must not touch the data";
}

TEST(CpuLocalGroup, RejectsBadSizesMembersAndRoots) {
  EXPECT_THROW(CpuLocalGroup(0), ConfigError);
  CpuLocalGroup group(2);
  float x = 1.0f;
  EXPECT_THROW(group.all_reduce_mean(2, &x, 1), Error);
  EXPECT_THROW(group.broadcast(0, &x, 1, 5), Error);
}

TEST(MakeLocalGroup, CpuBackendsGetAThreadGroup) {
  CpuBackend a, b;
  const auto group = make_local_group({&a, &b});
  EXPECT_EQ(group->size(), 2);
  EXPECT_EQ(group->kind(), "cpu threads");
  EXPECT_THROW(make_local_group({}), ConfigError);
}

}  // namespace
}  // namespace rumor
