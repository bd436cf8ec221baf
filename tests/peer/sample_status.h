// sample_status.h — a PeerStatus with a distinct value in every field, for format tests.
#pragma once

#include "peer/peer_status.h"

namespace rumor::testing {

inline GossipPeerStats sample_neighbour(int rank, const char* state, std::uint64_t base) {
  GossipPeerStats p;
  p.rank = rank;
  p.state = state;
  p.step = static_cast<std::int64_t>(base) + 1;
  p.staleness = static_cast<std::int64_t>(base) + 2;
  p.drift = -static_cast<std::int64_t>(base) - 3;
  p.bytes_in = base + 4;
  p.bytes_out = base + 5;
  p.messages_in = base + 6;
  p.messages_out = base + 7;
  p.dropped = base + 8;
  p.suspected = base + 9;
  p.declared_dead = base + 10;
  p.rejected = base + 11;
  return p;
}

// Rank 2 of 4, two neighbours (1 alive, 3 suspect); test results and fault counters only
// when asked for.
inline PeerStatus sample_status(bool evaluated, bool faults) {
  PeerStatus s;
  s.rank = 2;
  s.world = 4;
  s.step = 1234;
  s.total_steps = 5000;
  s.epoch = 3;
  s.epochs = 10;
  s.train_loss = 0.375;
  if (evaluated) {
    s.test_loss = 0.25;
    s.test_accuracy = 0.9125;
  }
  s.samples_per_second = 2048.5;
  s.uptime_seconds = 3723.25;
  s.slowdown = 1.5;
  s.local_replicas = 4;
  GossipStats& g = s.gossip;
  g.step = 1233;
  g.rounds = 11;
  g.publishing = 2;
  g.sent = 12;
  g.send_failures = 13;
  g.received = 14;
  g.applied = 15;
  g.dropped_stale = 16;
  g.lost_in_transport = 17;
  g.waits = 18;
  g.waiting = true;
  g.states_served = 19;
  g.weight = 0.8125;
  g.peers = {sample_neighbour(1, "alive", 100), sample_neighbour(3, "suspect", 300)};
  if (faults) {
    FaultStats f;
    f.dropped = 21;
    f.duplicated = 22;
    f.reordered = 23;
    f.corrupted = 24;
    f.delayed = 25;
    f.partitioned_out = 26;
    f.partitioned_in = 27;
    f.send_failed = 28;
    s.faults = f;
  }
  return s;
}

}  // namespace rumor::testing
