// Eight peers (threads, CPU backend, inproc ZeroMQ) train the MLP on disjoint iid shards of
// Fashion-MNIST and gossip with the default rule; their replicas must reach the accuracy of
// one replica trained alone on the whole training set, within one point.
#include <gtest/gtest.h>

#include <memory>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "core/clock.h"
#include "kernels/cpu/cpu_backend.h"
#include "net/zmq_transport.h"
#include "rumor/engine.h"
#include "tests/gossip/cluster.h"
#include "train/dataset.h"
#include "train/shard.h"
#include "train/trainer.h"

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

  std::vector<Dataset> shards;
  for (int r = 0; r < peers; ++r) {
    shards.push_back(data.train.subset(shard_indices(data.train.labels, data.train.classes,
                                                     ShardSpec::parse("iid"), r, peers, 1)));
  }
  SteadyClock clock;
  std::vector<std::unique_ptr<CpuBackend>> backends;
  std::vector<std::unique_ptr<Trainer>> trainers;
  auto context = std::make_shared<zmq::context_t>(1);
  std::vector<std::unique_ptr<Transport>> transports;
  std::vector<std::string> endpoints;
  for (int r = 0; r < peers; ++r) {
    backends.push_back(std::make_unique<CpuBackend>(1));
    trainers.push_back(
        std::make_unique<Trainer>(*backends[r], options, shards[r], data.test, clock));
    const std::size_t count = trainers[r]->model().parameter_count();
    transports.push_back(std::make_unique<ZmqTransport>(testing_cluster::peer_transport_options(
        r, peers, config, count, "inproc://training-" + std::to_string(r), context)));
    endpoints.push_back(transports.back()->endpoint());
  }
  std::vector<std::unique_ptr<GossipEngine>> engines;
  for (int r = 0; r < peers; ++r) {
    Mlp& model = trainers[r]->model();
    engines.push_back(std::make_unique<GossipEngine>(config, std::move(transports[r]), endpoints,
                                                     r, *backends[r], model.params().data(),
                                                     model.parameter_count()));
  }
  std::vector<double> accuracy(peers);
  std::vector<std::thread> threads;
  for (int r = 0; r < peers; ++r) {
    threads.emplace_back([&, r] {
      GossipEngine& engine = *engines[r];
      trainers[r]->run([&](const Progress& p) { accuracy[r] = p.test.accuracy; },
                       StepHooks{[&](std::int64_t) { engine.mix(); },
                                 [&](std::int64_t step) { engine.publish(step); }});
      engine.mix();
      accuracy[r] = trainers[r]->evaluate().accuracy;
    });
  }
  for (auto& t : threads) t.join();
  // One replica alone on all 60000 examples with `rumor train`'s defaults reaches 0.899.
  for (int r = 0; r < peers; ++r) {
    std::printf("rank %d: test accuracy %.4f, applied %llu\n", r, accuracy[r],
                static_cast<unsigned long long>(engines[r]->stats().applied));
    EXPECT_GE(accuracy[r], 0.889) << "rank " << r;
  }
}

}  // namespace
}  // namespace rumor
