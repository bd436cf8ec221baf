#include "gossip/staleness.h"

#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"

namespace rumor {
namespace {

TEST(Staleness, IsSenderProgressSinceSnapshotNeverNegative) {
  EXPECT_EQ(StalenessPolicy::staleness(100, 107), 7);
  EXPECT_EQ(StalenessPolicy::staleness(100, 100), 0);
  // A heartbeat older than the message (reordering) must not make it "fresher than fresh".
  EXPECT_EQ(StalenessPolicy::staleness(100, 90), 0);
}

TEST(Staleness, WeightHalvesAtHalfLifeAndDropsBeyondMax) {
  const StalenessPolicy policy({.max_staleness = 50, .half_life = 10.0});
  EXPECT_DOUBLE_EQ(*policy.weight(0), 1.0);
  EXPECT_DOUBLE_EQ(*policy.weight(10), 0.5);
  EXPECT_DOUBLE_EQ(*policy.weight(30), 0.25);
  EXPECT_TRUE(policy.weight(50).has_value());
  EXPECT_FALSE(policy.weight(51).has_value());
  for (int s = 0; s < 50; ++s) EXPECT_GT(*policy.weight(s), *policy.weight(s + 1));
}

TEST(Staleness, ZeroHalfLifeMeansNoDecay) {
  const StalenessPolicy policy({.max_staleness = 5, .half_life = 0.0});
  EXPECT_DOUBLE_EQ(*policy.weight(5), 1.0);
  EXPECT_FALSE(policy.weight(6));
}

TEST(Staleness, DriftGateWaitsOnlyWhenTooFarAhead) {
  const StalenessPolicy off({});
  EXPECT_FALSE(off.must_wait_for_drift(1000, 0));
  const StalenessPolicy gate({.drift_limit = 8});
  EXPECT_FALSE(gate.must_wait_for_drift(108, 100));
  EXPECT_TRUE(gate.must_wait_for_drift(109, 100));
  EXPECT_FALSE(gate.must_wait_for_drift(50, 100));  // behind: never waits
}

TEST(Staleness, BoundedDelayWaitsWhenNothingFreshForTooLong) {
  const StalenessPolicy off({});
  EXPECT_FALSE(off.must_wait_for_fresh(1000, 0));
  const StalenessPolicy gate({.wait_limit = 4});
  EXPECT_FALSE(gate.must_wait_for_fresh(14, 10));
  EXPECT_TRUE(gate.must_wait_for_fresh(15, 10));
}

TEST(Staleness, RejectsInvalidConfigurationByName) {
  EXPECT_THROW(StalenessPolicy({.max_staleness = -1}), ConfigError);
  EXPECT_THROW(StalenessPolicy({.half_life = -1.0}), ConfigError);
  EXPECT_THROW(StalenessPolicy({.half_life = std::nan("")}), ConfigError);
  EXPECT_THROW(StalenessPolicy({.drift_limit = -2}), ConfigError);
  EXPECT_THROW(StalenessPolicy({.wait_limit = -3}), ConfigError);
}

}  // namespace
}  // namespace rumor
