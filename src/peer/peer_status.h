// peer_status.h — PeerStatus: what a training peer reports about itself at one moment, the
// input of GET /status and GET /metrics (peer/status_format.h turns it into JSON and
// Prometheus text).
//
// A plain value: `rumor peer` fills one on request (from its trainer, GossipEngine::stats()
// and, with fault injection on, FaultyTransport::stats()) and hands it to the HTTP server.
#pragma once

#include <cstdint>
#include <optional>

#include "net/faulty_transport.h"
#include "rumor/engine.h"

namespace rumor {

struct PeerStatus {
  int rank = 0;
  int world = 1;                          // number of peers in the run
  std::int64_t step = 0;                  // optimizer steps taken so far
  std::int64_t total_steps = 0;           // steps the run will take (0 = unknown)
  int epoch = 0;                          // current epoch, from 1 (0 = not started)
  int epochs = 0;                         // epochs the run will take
  double train_loss = 0.0;                // mean training loss over the latest steps
  std::optional<double> test_loss;        // absent before the first evaluation
  std::optional<double> test_accuracy;    // in [0, 1]; absent before the first evaluation
  double samples_per_second = 0.0;        // training throughput, recent average
  double uptime_seconds = 0.0;            // since the peer started
  double slowdown = 1.0;                  // compute slowed by this factor (fault injection)
  int local_replicas = 1;                 // replicas of this node (docs/HIERARCHICAL.md)
  GossipStats gossip;                     // engine counters and one entry per neighbour
  std::optional<FaultStats> faults;       // present only when fault injection is enabled
};

}  // namespace rumor
