// A Byzantine peer (the fault decorator rewrites its outgoing parameters but keeps every message
// well formed, with a valid checksum) among honest ones: NaN payloads are rejected by the
// decoder, garbage and blown-up parameters by the engine's norm check, and the honest peers'
// parameters stay what they were (they all start equal, so honest mixing keeps them).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <string>
#include <thread>

#include "tests/gossip/cluster.h"

namespace rumor {
namespace {

constexpr std::size_t kParams = 64;
constexpr int kPeers = 4;
constexpr int kLiar = 3;

struct Outcome {
  std::uint64_t rejected = 0;  // by the honest peers' norm check
  std::uint64_t applied = 0;   // contributions the honest peers applied
  bool intact = true;          // every honest parameter still 1 (float rounding aside)
};

// Every peer starts with every parameter 1.0; peer kLiar lies as `mode` says. Each peer
// publishes and mixes `rounds` times.
Outcome run_with_liar(const std::string& mode, const std::string& tag) {
  GossipConfig config;  // push-sum, exponential graph, max_norm_ratio 4
  config.topology = "complete";
  config.model = "byzantine-test";
  auto cluster = testing_cluster::make_cluster(kPeers, config, tag, kParams, FaultConfig{});
  for (auto& p : cluster->params) std::fill(p.begin(), p.end(), 1.0f);
  FaultConfig lie;
  std::tie(lie.byzantine, lie.byzantine_scale) = parse_byzantine(mode);
  cluster->faulty[kLiar]->set_config(lie);
  std::vector<std::thread> threads;
  for (int r = 0; r < kPeers; ++r) {
    threads.emplace_back([&, r] {
      for (int step = 0; step < 200; ++step) {
        cluster->engines[r]->publish(step);
        cluster->engines[r]->mix();
        std::this_thread::yield();
      }
    });
  }
  for (auto& t : threads) t.join();
  Outcome outcome;
  for (int r = 0; r < kPeers; ++r) {
    if (r == kLiar) continue;
    const GossipStats s = cluster->engines[r]->stats();
    outcome.rejected += s.rejected_outliers;
    outcome.applied += s.applied;
    for (float v : cluster->params[r]) {
      outcome.intact = outcome.intact && std::abs(v - 1.0f) < 1e-5f;
    }
  }
  EXPECT_GT(cluster->faulty[kLiar]->stats().byzantine, 0u) << mode;
  return outcome;
}

TEST(Byzantine, GarbageAndBlownUpParametersAreRejected) {
  for (const std::string mode : {"garbage", "scale:10", "scale:0.1"}) {
    const Outcome o = run_with_liar(mode, "byz-" + mode);
    EXPECT_GT(o.rejected, 0u) << mode;
    EXPECT_GT(o.applied, 0u) << mode << ": honest peers still mix with each other";
    EXPECT_TRUE(o.intact) << mode << ": an honest peer took in the liar's parameters";
  }
}

TEST(Byzantine, NaNNeverReachesTheRule) {
  const Outcome o = run_with_liar("nan", "byz-nan");
  EXPECT_EQ(o.rejected, 0u) << "NaN payloads are dropped by the decoder, before the norm check";
  EXPECT_TRUE(o.intact);
}

// The check is a plausibility bound on each message, not Byzantine-robust aggregation: a lie
// within the ratio (here 1.5x) passes and moves the honest peers (who then drift together, so
// that later lies may or may not still pass).
TEST(Byzantine, ALieWithinTheRatioPasses) {
  const Outcome o = run_with_liar("scale:1.5", "byz-mild");
  EXPECT_FALSE(o.intact);
}

// The honest peers but one leave (BYE) while the liar goes on: the last honest peer still
// rejects its garbage, outvoted by the norms the departed peers last sent.
TEST(Byzantine, ALiarOutlivingTheHonestPeersIsStillRejected) {
  GossipConfig config;
  config.topology = "complete";
  config.model = "byzantine-outlive";
  auto cluster = testing_cluster::make_cluster(kPeers, config, "byz-outlive", kParams,
                                               FaultConfig{});
  for (auto& p : cluster->params) std::fill(p.begin(), p.end(), 1.0f);
  const auto rounds = [&](const std::vector<int>& ranks, int from, int count) {
    std::vector<std::thread> threads;
    for (int r : ranks) {
      threads.emplace_back([&, r] {
        for (int step = from; step < from + count; ++step) {
          cluster->engines[r]->publish(step);
          cluster->engines[r]->mix();
          std::this_thread::yield();
        }
      });
    }
    for (auto& t : threads) t.join();
  };
  rounds({0, 1, 2, kLiar}, 0, 50);  // everyone honest: every peer's norm is known
  FaultConfig lie;
  lie.byzantine = Byzantine::kGarbage;
  cluster->faulty[kLiar]->set_config(lie);
  cluster->engines[0].reset();  // says goodbye
  cluster->engines[1].reset();
  const std::uint64_t rejected_before = cluster->engines[2]->stats().rejected_outliers;
  rounds({2, kLiar}, 50, 100);
  EXPECT_GT(cluster->engines[2]->stats().rejected_outliers, rejected_before);
  for (float v : cluster->params[2]) ASSERT_NEAR(v, 1.0f, 1e-5f) << "the garbage got in";
}

// A liar that races ahead makes an honest peer with catch_up_lag fall "behind" it; the state
// it then serves is garbage, which the honest peer refuses (its parameters stay its own) and
// never asks that peer for again. On the exponential graph of 4, peer 2 gets no PARAMS from
// peer 3, so its rejections are the refused states alone.
TEST(Byzantine, ALiarsStateIsRefused) {
  GossipConfig config;  // exponential: 3 sends to 0 and 1
  config.model = "byzantine-state";
  config.catch_up_lag = 10;
  auto cluster = testing_cluster::make_cluster(kPeers, config, "byz-state", kParams,
                                               FaultConfig{});
  for (auto& p : cluster->params) std::fill(p.begin(), p.end(), 1.0f);
  for (int step = 0; step < 5; ++step) {
    for (int r = 0; r < kPeers; ++r) cluster->engines[r]->publish(step);
    for (int r = 0; r < kPeers; ++r) cluster->engines[r]->mix();
  }
  FaultConfig lie;
  lie.byzantine = Byzantine::kGarbage;
  cluster->faulty[kLiar]->set_config(lie);
  std::atomic<bool> honest_done{false};
  std::thread liar([&] {
    for (int step = 1000; !honest_done.load(); ++step) {  // far ahead of everyone
      cluster->engines[kLiar]->publish(step);
      cluster->engines[kLiar]->mix();  // serves state requests
      std::this_thread::yield();
    }
  });
  GossipEngine& honest = *cluster->engines[2];
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (honest.stats().rejected_outliers == 0 && std::chrono::steady_clock::now() < deadline) {
    honest.mix();  // once it has heard the liar's step: behind, asks it for its state
    honest.publish(5);
  }
  for (int more = 0; more < 20; ++more) {
    honest.mix();
    honest.publish(5);
  }
  honest_done = true;
  liar.join();
  EXPECT_EQ(honest.stats().rejected_outliers, 1u) << "refused once, and never asked again";
  EXPECT_FALSE(honest.last_catch_up().has_value());
  for (float v : cluster->params[2]) ASSERT_NEAR(v, 1.0f, 1e-5f) << "the liar's state got in";
}

// Two honest replicas 20x apart: with two norms nobody can tell which one is wrong, so the check
// abstains and they still reach their mean (judging by their own norm alone, each would reject
// the other for good).
TEST(Byzantine, TwoPeersFarApartAreNotJudged) {
  GossipConfig config;
  config.model = "byzantine-two";
  auto cluster = testing_cluster::make_cluster(2, config, "byz-two", kParams, FaultConfig{});
  std::fill(cluster->params[0].begin(), cluster->params[0].end(), 1.0f);
  std::fill(cluster->params[1].begin(), cluster->params[1].end(), 20.0f);
  const auto agreed = [&] {
    for (const auto& p : cluster->params) {
      for (float v : p) {
        if (std::abs(v - 10.5f) > 1e-3f) return false;
      }
    }
    return true;
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (int step = 0; !agreed() && std::chrono::steady_clock::now() < deadline; ++step) {
    for (int r = 0; r < 2; ++r) {
      cluster->engines[r]->mix();
      cluster->engines[r]->publish(step);
    }
    std::this_thread::yield();
  }
  EXPECT_TRUE(agreed()) << cluster->params[0][0] << " and " << cluster->params[1][0];
  EXPECT_EQ(cluster->engines[0]->stats().rejected_outliers, 0u);
  EXPECT_EQ(cluster->engines[1]->stats().rejected_outliers, 0u);
}

TEST(Byzantine, ModesParseAndBadOnesAreConfigErrors) {
  EXPECT_EQ(parse_byzantine("none").first, Byzantine::kNone);
  EXPECT_EQ(parse_byzantine("scale:-2.5"), std::make_pair(Byzantine::kScale, -2.5));
  EXPECT_EQ(byzantine_name(Byzantine::kScale, -2.5), "scale:-2.5");
  EXPECT_THROW(parse_byzantine("scale:"), ConfigError);
  EXPECT_THROW(parse_byzantine("scale:inf"), ConfigError);
  EXPECT_THROW(parse_byzantine("evil"), ConfigError);
}

}  // namespace
}  // namespace rumor
