// Staleness gates end to end through GossipEngine::mix(): the drift gate (SSP) and the
// bounded-delay gate wait, and release when the awaited neighbour progresses, sends something
// fresh, or is declared dead. Two peers over inproc ZeroMQ; peer 0 is the one that waits.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "tests/gossip/cluster.h"

namespace rumor {
namespace {

using testing_cluster::make_cluster;

GossipConfig gated_config() {
  GossipConfig config;
  config.max_norm_ratio = 0;  // peers start at r = 0..N−1: far apart by design
  config.rule = "push-sum";
  config.topology = "ring";
  config.model = "gate-test";
  config.heartbeat_interval = std::chrono::milliseconds(20);
  config.failure.floor = std::chrono::milliseconds(50);
  config.failure.initial = std::chrono::milliseconds(200);
  config.failure.ceiling = std::chrono::milliseconds(300);
  return config;
}

// Waits (bounded) until `condition` holds; true when it did.
template <class Condition>
bool eventually(Condition condition) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

std::int64_t step_seen(const GossipEngine& engine, int peer) {
  for (const auto& p : engine.stats().peers) {
    if (p.rank == peer) return p.step;
  }
  return -1;
}

std::string state_seen(const GossipEngine& engine, int peer) {
  for (const auto& p : engine.stats().peers) {
    if (p.rank == peer) return p.state;
  }
  return "";
}

TEST(DriftGate, WaitsUntilTheSlowNeighbourCatchesUp) {
  GossipConfig config = gated_config();
  config.staleness.drift_limit = 5;
  auto cluster = make_cluster(2, config, "drift-catch-up", 8);
  GossipEngine& fast = *cluster->engines[0];
  GossipEngine& slow = *cluster->engines[1];
  slow.publish(0);
  ASSERT_TRUE(eventually([&] { return step_seen(fast, 1) == 0; }));

  fast.publish(10);  // 10 steps ahead of the slow peer: more than the limit of 5
  std::thread waiter([&] { fast.mix(); });
  ASSERT_TRUE(eventually([&] { return fast.stats().waiting; })) << "mix() did not wait";
  slow.publish(8);   // now only 2 behind
  waiter.join();
  EXPECT_EQ(fast.stats().waits, 1u);
  EXPECT_FALSE(fast.stats().waiting);
  EXPECT_EQ(state_seen(fast, 1), "alive");
}

TEST(DriftGate, ReleasesWhenTheSlowNeighbourIsDeclaredDead) {
  GossipConfig config = gated_config();
  config.staleness.drift_limit = 5;
  auto cluster = make_cluster(2, config, "drift-death", 8, FaultConfig{});
  GossipEngine& fast = *cluster->engines[0];
  cluster->engines[1]->publish(0);
  ASSERT_TRUE(eventually([&] { return step_seen(fast, 1) == 0; }));

  fast.publish(10);
  std::thread waiter([&] { fast.mix(); });
  ASSERT_TRUE(eventually([&] { return fast.stats().waiting; })) << "mix() did not wait";
  FaultConfig cut;
  cut.partitioned = {0};
  cluster->faulty[1]->set_config(cut);  // the slow peer vanishes (both directions)
  waiter.join();
  EXPECT_EQ(state_seen(fast, 1), "dead");
  EXPECT_EQ(fast.stats().waits, 1u);
}

TEST(BoundedDelayGate, WaitsForSomethingFreshAndReleasesWhenItArrives) {
  GossipConfig config = gated_config();
  config.staleness.wait_limit = 3;
  auto cluster = make_cluster(2, config, "bounded-delay", 8);
  GossipEngine& waiting = *cluster->engines[0];
  GossipEngine& other = *cluster->engines[1];
  ASSERT_TRUE(eventually([&] { return step_seen(waiting, 1) >= 0; }));
  waiting.mix();       // step 0: nothing needed yet
  waiting.publish(5);  // five own steps with nothing fresh applied: more than 3
  std::thread waiter([&] { waiting.mix(); });
  ASSERT_TRUE(eventually([&] { return waiting.stats().waiting; })) << "mix() did not wait";
  other.publish(1);    // a fresh message
  waiter.join();
  EXPECT_EQ(waiting.stats().waits, 1u);
  EXPECT_GE(waiting.stats().applied, 1u);
}

}  // namespace
}  // namespace rumor
