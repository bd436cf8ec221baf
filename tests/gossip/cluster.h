// cluster.h — an in-process cluster of GossipEngines for tests and benchmarks: N peers as
// threads' worth of state (a CPU backend and a parameter vector each) over inproc ZeroMQ, or tcp
// on loopback, optionally behind the fault decorator. Peer r starts with every parameter = r,
// so the mean is (N−1)/2 exactly.
#pragma once

#include <zmq.hpp>

#include <cstdint>
#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kernels/cpu/cpu_backend.h"
#include "net/faulty_transport.h"
#include "net/zmq_transport.h"
#include "rumor/engine.h"

namespace rumor::testing_cluster {

// Transport options for rank r of n peers exchanging `count`-float parameters under `config`,
// bound on `bind` (inproc endpoints share `context`). Push-sum gets FIFO delivery, as in the
// engine's own transport.
inline ZmqTransportOptions peer_transport_options(int r, int n, const GossipConfig& config,
                                                  std::size_t count, const std::string& bind,
                                                  const std::shared_ptr<zmq::context_t>& context) {
  ZmqTransportOptions options;
  options.rank = static_cast<std::uint32_t>(r);
  options.num_peers = static_cast<std::uint32_t>(n);
  options.bind_endpoint = bind;
  options.expect.run_id = config.run_id;
  options.expect.fingerprint = model_fingerprint(config.model, count);
  options.expect.max_elements = count;
  options.expect.param_elements = count;
  options.context = bind.starts_with("inproc://") ? context : nullptr;
  options.latest_wins_params = config.rule != "push-sum";
  return options;
}

struct Cluster {
  std::shared_ptr<zmq::context_t> context = std::make_shared<zmq::context_t>(1);
  std::size_t count = 0;
  std::vector<std::string> endpoints;
  std::vector<std::unique_ptr<CpuBackend>> backends;
  std::vector<std::vector<float>> params;
  std::vector<std::unique_ptr<GossipEngine>> engines;  // destroyed before the context
  std::vector<FaultyTransport*> faulty;  // with faults: each peer's decorator
};

// n peers with `count` parameters each, named after `tag` (inproc endpoint names must be unique
// in the process). With `faults`, every transport is wrapped in the fault decorator (seeded by
// rank); with `tcp`, peers bind tcp://127.0.0.1:* instead of inproc.
// Wraps rank r's ZmqTransport in a decorator of a test's own (e.g. one that refuses sends).
using TransportWrapper =
    std::function<std::unique_ptr<Transport>(int rank, std::unique_ptr<Transport>)>;

inline std::unique_ptr<Cluster> make_cluster(int n, const GossipConfig& config,
                                             const std::string& tag, std::size_t count,
                                             std::optional<FaultConfig> faults = std::nullopt,
                                             bool tcp = false,
                                             const TransportWrapper& wrap = {}) {
  auto cluster = std::make_unique<Cluster>();
  cluster->count = count;
  std::vector<std::unique_ptr<Transport>> transports;
  for (int r = 0; r < n; ++r) {
    const std::string bind =
        tcp ? "tcp://127.0.0.1:*" : "inproc://" + tag + "-" + std::to_string(r);
    std::unique_ptr<Transport> transport = std::make_unique<ZmqTransport>(
        peer_transport_options(r, n, config, count, bind, cluster->context));
    if (faults) {
      auto decorated = std::make_unique<FaultyTransport>(std::move(transport), *faults,
                                                         static_cast<std::uint64_t>(r) + 1);
      cluster->faulty.push_back(decorated.get());
      transport = std::move(decorated);
    }
    if (wrap) transport = wrap(r, std::move(transport));
    cluster->endpoints.push_back(transport->endpoint());
    transports.push_back(std::move(transport));
  }
  for (int r = 0; r < n; ++r) {
    cluster->backends.push_back(std::make_unique<CpuBackend>(1));
    cluster->params.emplace_back(count, static_cast<float>(r));
  }
  for (int r = 0; r < n; ++r) {
    cluster->engines.push_back(std::make_unique<GossipEngine>(
        config, std::move(transports[r]), cluster->endpoints, r, *cluster->backends[r],
        cluster->params[r].data(), count));
  }
  return cluster;
}

// Parameter messages sent but not yet taken in by a rule, dropped by the staleness policy or
// lost in a transport (all peers together).
inline std::int64_t undelivered(const Cluster& cluster) {
  std::int64_t balance = 0;
  for (const auto& engine : cluster.engines) {
    if (!engine) continue;
    const GossipStats s = engine->stats();
    balance += static_cast<std::int64_t>(s.publishing) + static_cast<std::int64_t>(s.sent) -
               static_cast<std::int64_t>(s.received) -
               static_cast<std::int64_t>(s.dropped_stale) -
               static_cast<std::int64_t>(s.lost_in_transport);
  }
  return balance;
}

// Contributions taken in by a rule but not yet applied by mix() (all peers together).
inline std::int64_t unapplied(const Cluster& cluster) {
  std::int64_t pending = 0;
  for (const auto& engine : cluster.engines) {
    if (!engine) continue;
    const GossipStats s = engine->stats();
    pending += std::abs(static_cast<std::int64_t>(s.received) -
                        static_cast<std::int64_t>(s.applied));
  }
  return pending;
}

}  // namespace rumor::testing_cluster
