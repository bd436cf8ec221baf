// Catch-up when the peer asked for its state leaves without answering: a peer behind by
// catch_up_lag asks the live peer furthest ahead for its full state; when that peer finishes
// (or dies) before serving the request and nobody else is that far ahead, mix() must return at
// once instead of waiting out catch_up_timeout for a state that cannot come.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <memory>
#include <thread>

#include "net/forwarding_transport.h"
#include "tests/gossip/cluster.h"

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

// Polls `done` until it holds or `limit` passes; returns whether it held.
template <typename Done>
bool wait_until(Done done, std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

TEST(CatchUp, ALagCatchUpEndsWhenThePeerAheadLeavesWithoutAnswering) {
  GossipConfig config;
  config.rule = "average";
  config.model = "catch-up-test";
  config.max_norm_ratio = 0;
  config.heartbeat_interval = std::chrono::milliseconds(20);
  config.catch_up_lag = 10;
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
  ASSERT_TRUE(wait_until(
      [&] {
        for (const GossipPeerStats& peer : behind.stats().peers) {
          if (peer.rank == 1 && peer.step > config.catch_up_lag) return true;
        }
        return false;
      },
      std::chrono::seconds(30)))
      << "peer 0 never heard that peer 1 is ahead";

  // Peer 0 is behind: its mix() asks peer 1 for its state and waits for the answer ...
  std::atomic<double> mix_seconds{-1.0};
  std::thread mixing([&] {
    const auto started = std::chrono::steady_clock::now();
    behind.mix();
    mix_seconds.store(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  });
  const bool request_arrived = wait_until([&] { return asked.load(); }, std::chrono::seconds(30));
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

}  // namespace
}  // namespace rumor
