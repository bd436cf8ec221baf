// shard_test.cc — shard_indices (partition, determinism, sizes, label skew) and ShardSpec.
#include "train/shard.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

#include "core/error.h"

namespace rumor {
namespace {

using ::testing::HasSubstr;

constexpr int kClasses = 10;

// n labels, n / 10 of each class, interleaved 0, 1, ..., 9, 0, 1, ...
std::vector<std::int32_t> balanced_labels(std::size_t n) {
  std::vector<std::int32_t> labels(n);
  for (std::size_t i = 0; i < n; ++i) labels[i] = static_cast<std::int32_t>(i % kClasses);
  return labels;
}

std::vector<std::vector<std::size_t>> all_shards(const std::vector<std::int32_t>& labels,
                                                 const ShardSpec& spec, int world,
                                                 std::uint64_t seed) {
  std::vector<std::vector<std::size_t>> shards;
  for (int rank = 0; rank < world; ++rank) {
    shards.push_back(shard_indices(labels, kClasses, spec, rank, world, seed));
  }
  return shards;
}

// Fraction of each class in `shard`.
std::vector<double> class_fractions(const std::vector<std::int32_t>& labels,
                                    const std::vector<std::size_t>& shard) {
  std::vector<double> fractions(kClasses, 0.0);
  for (std::size_t i : shard) fractions[static_cast<std::size_t>(labels[i])] += 1.0;
  for (double& f : fractions) f /= std::max<double>(1.0, static_cast<double>(shard.size()));
  return fractions;
}

class ShardPartition : public ::testing::TestWithParam<std::string> {};

TEST_P(ShardPartition, DisjointAndCompleteForEveryWorldSize) {
  const ShardSpec spec = ShardSpec::parse(GetParam());
  const auto labels = balanced_labels(6000);
  for (int world : {1, 2, 3, 4, 8}) {
    SCOPED_TRACE(world);
    std::vector<int> seen(labels.size(), 0);
    for (const auto& shard : all_shards(labels, spec, world, 17)) {
      for (std::size_t i : shard) {
        ASSERT_LT(i, labels.size());
        ++seen[i];
      }
    }
    EXPECT_TRUE(std::all_of(seen.begin(), seen.end(), [](int s) { return s == 1; }))
        << "some example is in no shard or in several";
  }
}

TEST_P(ShardPartition, DeterministicPerSeed) {
  const ShardSpec spec = ShardSpec::parse(GetParam());
  const auto labels = balanced_labels(3000);
  for (int rank = 0; rank < 4; ++rank) {
    const auto a = shard_indices(labels, kClasses, spec, rank, 4, 123);
    EXPECT_EQ(a, shard_indices(labels, kClasses, spec, rank, 4, 123));
    EXPECT_NE(a, shard_indices(labels, kClasses, spec, rank, 4, 124));
  }
}

TEST_P(ShardPartition, ShardIsShuffled) {
  const ShardSpec spec = ShardSpec::parse(GetParam());
  const auto labels = balanced_labels(3000);
  auto shard = shard_indices(labels, kClasses, spec, 0, 1, 5);
  EXPECT_FALSE(std::is_sorted(shard.begin(), shard.end()));
  // Not grouped by class either: consecutive labels differ about 90% of the time.
  std::size_t changes = 0;
  for (std::size_t i = 1; i < shard.size(); ++i)
    changes += labels[shard[i]] != labels[shard[i - 1]];
  EXPECT_GT(changes, shard.size() * 8 / 10);
}

INSTANTIATE_TEST_SUITE_P(Specs, ShardPartition,
                         ::testing::Values("iid", "dirichlet:0.1", "dirichlet:0.5",
                                           "dirichlet:1000"),
                         [](const auto& info) {
                           std::string name = info.param;
                           std::replace_if(
                               name.begin(), name.end(), [](char c) { return !std::isalnum(c); },
                               '_');
                           return name;
                         });

TEST(IidShard, SizesDifferByAtMostOne) {
  for (std::size_t n : {0, 1, 7, 6000, 6001, 60000}) {
    const auto labels = balanced_labels(n);
    for (int world : {1, 2, 3, 4, 7, 8, 16}) {
      std::size_t lo = SIZE_MAX, hi = 0, total = 0;
      for (const auto& shard : all_shards(labels, ShardSpec{}, world, 1)) {
        lo = std::min(lo, shard.size());
        hi = std::max(hi, shard.size());
        total += shard.size();
      }
      EXPECT_LE(hi - lo, 1u) << "n=" << n << " world=" << world;
      EXPECT_EQ(total, n);
    }
  }
}

TEST(IidShard, PinnedOutput) {
  // shard_indices is part of the reproducibility contract (same shards after a restart, on
  // another host): a change to this output is a breaking change.
  const auto labels = balanced_labels(10);
  EXPECT_EQ(shard_indices(labels, kClasses, ShardSpec{}, 1, 3, 42),
            (std::vector<std::size_t>{1, 2, 7}));
}

TEST(IidShard, ClassMixFollowsTheData) {
  const auto labels = balanced_labels(60000);
  for (const auto& shard : all_shards(labels, ShardSpec{}, 8, 3)) {
    for (double f : class_fractions(labels, shard)) EXPECT_NEAR(f, 0.1, 0.02);
  }
}

// Mean over non-empty shards of the fraction taken by the shard's most frequent class.
double mean_majority_fraction(const std::vector<std::int32_t>& labels, const ShardSpec& spec,
                              int world, std::uint64_t seed) {
  double sum = 0.0;
  int shards = 0;
  for (const auto& shard : all_shards(labels, spec, world, seed)) {
    if (shard.empty()) continue;
    const auto fractions = class_fractions(labels, shard);
    sum += *std::max_element(fractions.begin(), fractions.end());
    ++shards;
  }
  return sum / shards;
}

TEST(DirichletShard, SmallAlphaSkewsLabels) {
  // Uniform class mix would give 0.1; Dir(0.1) over 8 ranks hands most of each class to one
  // or two ranks, so a shard is dominated by a few classes.
  const auto labels = balanced_labels(60000);
  for (std::uint64_t seed : {1, 2, 3, 4, 5}) {
    EXPECT_GT(mean_majority_fraction(labels, ShardSpec::parse("dirichlet:0.1"), 8, seed), 0.4)
        << "seed " << seed;
  }
}

TEST(DirichletShard, LargeAlphaIsNearlyUniform) {
  const auto labels = balanced_labels(60000);
  const auto shards = all_shards(labels, ShardSpec::parse("dirichlet:1000"), 4, 9);
  for (const auto& shard : shards) {
    EXPECT_NEAR(static_cast<double>(shard.size()), 15000.0, 600.0);
    for (double f : class_fractions(labels, shard)) EXPECT_NEAR(f, 0.1, 0.01);
  }
}

TEST(DirichletShard, TinyAlphaStillPartitions) {
  // Every Gamma draw underflows to 0: each class goes whole to one rank.
  const auto labels = balanced_labels(1000);
  const ShardSpec spec{ShardSpec::Kind::kDirichlet, 1e-300};
  std::size_t total = 0;
  for (const auto& shard : all_shards(labels, spec, 3, 11)) {
    total += shard.size();
    EXPECT_EQ(shard.size() % 100, 0u);  // whole classes only
  }
  EXPECT_EQ(total, labels.size());
}

TEST(DirichletShard, RejectsLabelsOutsideClasses) {
  const std::vector<std::int32_t> labels = {0, 1, 10};
  EXPECT_THROW(shard_indices(labels, kClasses, ShardSpec::parse("dirichlet:1"), 0, 2, 1), Error);
}

TEST(ShardIndices, RejectsBadRankWorldAndAlpha) {
  const auto labels = balanced_labels(100);
  const auto message = [&](int rank, int world, const ShardSpec& spec) -> std::string {
    try {
      shard_indices(labels, kClasses, spec, rank, world, 1);
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "(no ConfigError)";
  };
  EXPECT_THAT(message(-1, 4, {}), HasSubstr("rank -1 is out of range for world size 4"));
  EXPECT_THAT(message(4, 4, {}), HasSubstr("expected 0 <= rank < 4"));
  EXPECT_THAT(message(0, 0, {}), HasSubstr("world size 0 is invalid"));
  EXPECT_THAT(message(0, 2, ShardSpec{ShardSpec::Kind::kDirichlet, 0.0}),
              HasSubstr("dirichlet alpha 0 is invalid"));
}

TEST(ShardSpecParse, AcceptsValidSpecs) {
  EXPECT_EQ(ShardSpec::parse("iid").kind, ShardSpec::Kind::kIid);
  const ShardSpec d = ShardSpec::parse("dirichlet:0.5");
  EXPECT_EQ(d.kind, ShardSpec::Kind::kDirichlet);
  EXPECT_EQ(d.alpha, 0.5);
  EXPECT_EQ(ShardSpec::parse("dirichlet:1e3").alpha, 1000.0);
}

TEST(ShardSpecParse, RoundTripsThroughToString) {
  EXPECT_EQ(ShardSpec{}.to_string(), "iid");
  EXPECT_EQ(ShardSpec::parse("dirichlet:0.5").to_string(), "dirichlet:0.5");
  for (double alpha : {0.1, 1.0 / 3.0, 1000.0, 1e-7}) {
    const ShardSpec spec{ShardSpec::Kind::kDirichlet, alpha};
    EXPECT_EQ(ShardSpec::parse(spec.to_string()).alpha, alpha) << spec.to_string();
  }
}

TEST(ShardSpecParse, RejectsInvalidSpecsSayingWhatIsValid) {
  for (const char* text :
       {"dirichlet", "dirichlet:", "dirichlet:0", "dirichlet:-1", "dirichlet:abc", "dirichlet:0.5x",
        "dirichlet:inf", "dirichlet:nan", "foo", "", "IID", " iid"}) {
    SCOPED_TRACE(text);
    try {
      ShardSpec::parse(text);
      ADD_FAILURE() << "accepted";
    } catch (const ConfigError& e) {
      EXPECT_THAT(e.what(), HasSubstr(std::string("shard spec \"") + text + "\" is invalid"));
      EXPECT_THAT(e.what(), HasSubstr("expected \"iid\" or \"dirichlet:ALPHA\""));
    }
  }
}

}  // namespace
}  // namespace rumor
