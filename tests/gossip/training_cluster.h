// training_cluster.h — N replicas training the MLP on disjoint iid shards of one dataset, each
// with its own CPU backend and Trainer and, optionally, a GossipEngine over inproc ZeroMQ that
// shares its parameter arena. For the gossip training test and benchmark; the caller runs each
// trainer on its own thread with mix()/publish() as step hooks.
#pragma once

#include <zmq.hpp>

#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "tests/gossip/cluster.h"
#include "train/dataset.h"
#include "train/shard.h"
#include "train/trainer.h"

namespace rumor::testing_cluster {

struct TrainingCluster {
  SteadyClock clock;
  std::vector<Dataset> shards;  // filled before the trainers, which refer to them
  std::vector<std::unique_ptr<CpuBackend>> backends;
  std::vector<std::unique_ptr<Trainer>> trainers;
  std::shared_ptr<zmq::context_t> context = std::make_shared<zmq::context_t>(1);
  std::vector<std::unique_ptr<GossipEngine>> engines;  // empty without gossip

  // The step hooks that gossip around replica r's steps (none without gossip).
  StepHooks hooks(int r) {
    if (engines.empty()) return {};
    GossipEngine* engine = engines[r].get();
    return {[engine](std::int64_t) { engine->mix(); },
            [engine](std::int64_t step) { engine->publish(step); }};
  }
};

// `peers` replicas on iid shards (seed 1) of data.train, evaluated on data.test; with `gossip`,
// engines named after `tag` (inproc endpoint names must be unique in the process).
inline std::unique_ptr<TrainingCluster> make_training_cluster(const TrainTestSplit& data,
                                                              int peers,
                                                              const TrainOptions& options,
                                                              const GossipConfig& config,
                                                              const std::string& tag,
                                                              bool gossip) {
  auto cluster = std::make_unique<TrainingCluster>();
  for (int r = 0; r < peers; ++r) {
    cluster->shards.push_back(data.train.subset(shard_indices(
        data.train.labels, data.train.classes, ShardSpec::parse("iid"), r, peers, 1)));
  }
  std::vector<std::unique_ptr<Transport>> transports;
  std::vector<std::string> endpoints;
  for (int r = 0; r < peers; ++r) {
    cluster->backends.push_back(std::make_unique<CpuBackend>(1));
    cluster->trainers.push_back(std::make_unique<Trainer>(
        *cluster->backends[r], options, cluster->shards[r], data.test, cluster->clock));
    if (!gossip) continue;
    const std::size_t count = cluster->trainers[r]->model().parameter_count();
    transports.push_back(std::make_unique<ZmqTransport>(peer_transport_options(
        r, peers, config, count, "inproc://" + tag + "-" + std::to_string(r), cluster->context)));
    endpoints.push_back(transports.back()->endpoint());
  }
  for (int r = 0; gossip && r < peers; ++r) {
    Mlp& model = cluster->trainers[r]->model();
    cluster->engines.push_back(std::make_unique<GossipEngine>(
        config, std::move(transports[r]), endpoints, r, *cluster->backends[r],
        model.params().data(), model.parameter_count()));
  }
  return cluster;
}

}  // namespace rumor::testing_cluster
