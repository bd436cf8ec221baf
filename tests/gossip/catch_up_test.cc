// State catch-up by lag (catch_up_lag): a peer that far behind asks the live peer furthest
// ahead for its full state. When that peer finishes (or dies) before serving the request and
// nobody else is that far ahead, mix() must return at once instead of waiting out
// catch_up_timeout; and the publish() that ends the step in flight must not undo the catch-up.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <memory>
#include <optional>
#include <thread>

#include "net/forwarding_transport.h"
#include "tests/gossip/cluster.h"
#include "tests/net/net_test_util.h"

namespace rumor {
namespace {

constexpr std::size_t kParams = 32;

// Passes everything through and notes when a STATE_REQ has been received.
class StateRequestTap final : public ForwardingTransport {
 public:
  StateRequestTap(std::unique_ptr<Transport> inner, std::atomic<bool>& asked)
      : ForwardingTransport(std::move(inner)), asked_(asked) {}

  std::optional<Message> receive(std::chrono::milliseconds timeout) override {
    std::optional<Message> message = ForwardingTransport::receive(timeout);
    if (message && message->header.type == MessageType::kStateReq) asked_.store(true);
    return message;
  }

 private:
  std::atomic<bool>& asked_;
};

using namespace std::chrono_literals;
using testing::wait_until;

// Whether `engine` has heard peer `rank` at a step of at least `step`.
bool heard_at(const GossipEngine& engine, int rank, std::int64_t step) {
  for (const GossipPeerStats& peer : engine.stats().peers) {
    if (peer.rank == rank && peer.step >= step) return true;
  }
  return false;
}

// Two peers on the average rule whose engines catch up when 10 steps behind.
GossipConfig lag_catch_up_config() {
  GossipConfig config;
  config.rule = "average";
  config.model = "catch-up-test";
  config.max_norm_ratio = 0;
  config.heartbeat_interval = std::chrono::milliseconds(20);
  config.catch_up_lag = 10;
  return config;
}

TEST(CatchUp, ALagCatchUpEndsWhenThePeerAheadLeavesWithoutAnswering) {
  GossipConfig config = lag_catch_up_config();
  config.catch_up_timeout = std::chrono::seconds(120);  // far longer than the bound checked
  std::atomic<bool> asked{false};
  auto cluster = testing_cluster::make_cluster(
      2, config, "catch-up-leaves", kParams, std::nullopt, /*tcp=*/false,
      [&](int rank, std::unique_ptr<Transport> transport) -> std::unique_ptr<Transport> {
        if (rank != 1) return transport;
        return std::make_unique<StateRequestTap>(std::move(transport), asked);
      });
  std::fill(cluster->params[1].begin(), cluster->params[1].end(), 1.0f);
  GossipEngine& behind = *cluster->engines[0];
  GossipEngine& ahead = *cluster->engines[1];

  // Peer 1 races 50 steps ahead and never calls mix(), so it never serves a state request.
  behind.publish(0);
  for (int step = 0; step < 50; ++step) ahead.publish(step);
  ASSERT_TRUE(wait_until([&] { return heard_at(behind, 1, config.catch_up_lag + 1); }, 30s))
      << "peer 0 never heard that peer 1 is ahead";

  // Peer 0 is behind: its mix() asks peer 1 for its state and waits for the answer ...
  std::atomic<double> mix_seconds{-1.0};
  std::thread mixing([&] {
    const auto started = std::chrono::steady_clock::now();
    behind.mix();
    mix_seconds.store(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  });
  const bool request_arrived = wait_until([&] { return asked.load(); }, 30s);
  // ... which never comes: peer 1 finishes (says goodbye) without answering.
  cluster->engines[1].reset();
  mixing.join();

  ASSERT_TRUE(request_arrived) << "peer 0 never asked peer 1 for its state";
  // Without the fix mix() waits out the 120 s catch_up_timeout; with it, it returns once peer 1
  // is known to be gone (its goodbye, or at worst the failure detector: a few seconds).
  EXPECT_LT(mix_seconds.load(), 60.0) << "mix() waited for a state nobody could send";
  EXPECT_FALSE(behind.last_catch_up().has_value());
  for (float v : cluster->params[0]) {
    ASSERT_TRUE(std::isfinite(v));
    ASSERT_GE(v, 0.0f);
    ASSERT_LE(v, 1.0f);
  }
}

// rumor peer's trainer mixes before a step and publishes after it, so the step during whose
// mix() the peer caught up still ends with publish(its old step). That publish belongs to the
// run the catch-up replaced: taking its step as the peer's own would put the peer behind again,
// and the next mix() would fetch the whole state a second time.
TEST(CatchUp, ThePublishOfTheStepInFlightDoesNotUndoTheCatchUp) {
  GossipConfig config = lag_catch_up_config();
  auto cluster = testing_cluster::make_cluster(2, config, "catch-up-in-flight", kParams);
  std::fill(cluster->params[1].begin(), cluster->params[1].end(), 1.0f);
  GossipEngine& behind = *cluster->engines[0];
  GossipEngine& ahead = *cluster->engines[1];
  constexpr int kAheadStep = 50;
  behind.publish(0);
  for (int step = 0; step <= kAheadStep; ++step) ahead.publish(step);
  std::atomic<bool> done{false};
  std::thread serving([&] {  // peer 1 stays at its step and serves state requests
    while (!done.load()) {
      ahead.mix();
      std::this_thread::yield();
    }
  });
  ASSERT_TRUE(wait_until([&] { return heard_at(behind, 1, kAheadStep); }, 30s))
      << "peer 0 never heard peer 1's step";

  behind.mix();  // behind by 50: catches up to peer 1's state and step
  const std::optional<CatchUp> caught = behind.last_catch_up();
  behind.publish(1);  // the step that was in flight ends
  behind.mix();        // before the first step from the caught-up one
  done = true;
  serving.join();

  ASSERT_TRUE(caught.has_value()) << "peer 0 did not catch up";
  EXPECT_EQ(caught->step, kAheadStep);
  EXPECT_EQ(behind.stats().step, kAheadStep);
  EXPECT_EQ(ahead.stats().states_served, 1u) << "the state was fetched again";
}

}  // namespace
}  // namespace rumor
