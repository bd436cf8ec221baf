// Eight peers (threads, CPU backend, inproc ZeroMQ) train the MLP on disjoint iid shards of
// Fashion-MNIST and gossip with the default rule; their replicas must reach the accuracy of
// one replica trained alone on the whole training set, within one point.
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "tests/gossip/training_cluster.h"

namespace rumor {
namespace {

TEST(GossipTraining, EightPeersReachTheSingleReplicaAccuracy) {
  const int peers = 8;
  const TrainTestSplit data = load_fashion_mnist();
  // Each peer holds 1/8 of the data: 40 epochs over its shard are 2320 steps and 300k samples,
  // half the single replica's 600k (10 epochs over all 60000), done by all eight in parallel.
  // Averaging acts like a larger batch, so the peak learning rate is 0.15. Measured: every
  // replica 0.892 on a quiet machine, 0.891–0.893 with another test running; 30 epochs at
  // lr 0.1 reach 0.886, at lr 0.2 0.893 but they once diverged under load; lr 0.3 diverges.
  TrainOptions options;
  options.epochs = 40;
  options.lr = 0.15f;
  GossipConfig config;  // the engine's defaults (push-sum on the exponential graph)
  config.model = options.model;

  auto cluster = testing_cluster::make_training_cluster(data, peers, options, config,
                                                        "training", /*gossip=*/true);
  std::vector<double> accuracy(peers);
  std::vector<std::thread> threads;
  for (int r = 0; r < peers; ++r) {
    threads.emplace_back([&, r] {
      Trainer& trainer = *cluster->trainers[r];
      trainer.run([&](const Progress& p) { accuracy[r] = p.test.accuracy; }, cluster->hooks(r));
      cluster->engines[r]->mix();
      accuracy[r] = trainer.evaluate().accuracy;
    });
  }
  for (auto& t : threads) t.join();
  // One replica alone on all 60000 examples with `rumor train`'s defaults reaches 0.899.
  for (int r = 0; r < peers; ++r) {
    std::printf("rank %d: test accuracy %.4f, applied %llu\n", r, accuracy[r],
                static_cast<unsigned long long>(cluster->engines[r]->stats().applied));
    EXPECT_GE(accuracy[r], 0.889) << "rank " << r;
  }
}

}  // namespace
}  // namespace rumor
