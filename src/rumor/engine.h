// rumor/engine.h — GossipEngine: averages a replica's flat parameter buffer with its
// neighbours in the background while the owner keeps training.
//
//   GossipEngine engine(config, endpoints, rank, backend, params, count);
//   for (step = 0; ...; ++step) {
//     engine.mix();            // apply what arrived (waits only if a staleness gate says so)
//     train_step(params);      // the owner's own update
//     engine.publish(step);    // snapshot and send to this round's neighbours (non-blocking)
//   }
//
// Threads: the owner calls publish()/mix() from one thread (the one that owns `params` and
// `backend`); stats() from any thread. The engine owns an I/O thread that receives, validates,
// answers exchange requests, sends heartbeats and runs the failure detector, and a sender
// thread that encodes, checksums and sends what publish() snapshotted. Semantics of the rules,
// staleness control and membership are in docs/GOSSIP.md.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rumor/config.h"

namespace rumor {

class Backend;
class Transport;

struct GossipConfig {
  std::string rule = "push-sum";        // pairwise, push-sum, robust-push-sum, average
  std::string topology = "exponential";  // see gossip/topology.h
  double alpha = 0.5;                    // average: weight of the neighbour's parameters
  int publish_every = 1;                 // steps between publishes
  std::string wire_dtype = "f32";        // f32, bf16, f16 (robust-push-sum always sends f32)
  // true: publish() copies the parameters and leaves the checksum, the encoding and the sends
  // to an engine thread, where they overlap with the next steps on a core that is not training
  // (GPU training). false: publish() does that work itself, with no thread to wake. Unset (the
  // default): a thread when the parameters are in device memory, none when they are in host
  // memory, where training keeps the cores busy and the hand-over cost more than it saved
  // (docs/PERFORMANCE.md, "Per-message work: second round").
  std::optional<bool> sender_thread;
  StalenessConfig staleness;
  FailureDetectorConfig failure;
  std::chrono::milliseconds heartbeat_interval{100};
  // State catch-up: pull parameters, attached state and step from a live neighbour at the
  // first mix() (a late joiner, or a restart without a checkpoint) ...
  bool catch_up = false;
  // ... and whenever a live peer is more than this many steps ahead (0 = never, the default:
  // replacing the parameters changes the total mass that push-sum conserves).
  std::int64_t catch_up_lag = 0;
  std::chrono::milliseconds catch_up_timeout{10'000};  // give up (and keep going) after this
  std::uint64_t run_id = 1;          // peers of one run must agree
  std::string model = "model";       // architecture description, part of the fingerprint
  std::uint64_t seed = 0;            // random topologies
  // A neighbour's parameters whose L2 norm is more than this many times ours, or less than
  // 1/this of it, are rejected as corrupt (a Byzantine or broken peer: garbage, blow-ups).
  // Checked on PARAMS (push-sum, average), not while either side is all zeros (a
  // zero-initialised model); 0 = accept everything.
  double max_norm_ratio = 4.0;
};

struct GossipPeerStats {
  int rank = 0;
  std::string state;              // alive, suspect, dead
  std::int64_t step = -1;         // latest step heard from it (-1: never heard)
  std::int64_t staleness = 0;     // staleness of its last parameter message
  std::int64_t drift = 0;         // my step − its step
  std::uint64_t bytes_in = 0, bytes_out = 0, messages_in = 0, messages_out = 0;
  std::uint64_t dropped = 0;      // by the transport (validation, queues) and the policy
  std::uint64_t rejected = 0;     // of those, bad messages (malformed, corrupted, non-finite...)
  std::uint64_t suspected = 0;    // times the failure detector found it silent too long
  std::uint64_t declared_dead = 0;  // times it declared it dead (BYE not counted)
};

struct CatchUp {
  int from = -1;           // the peer the state came from
  std::int64_t step = 0;   // its step: the owner continues from here
};

struct GossipStats {
  std::int64_t step = 0;            // last step given to publish() or mix()
  std::uint64_t rounds = 0;         // publishes that sent something
  std::uint64_t sent = 0;           // parameter-carrying messages handed to the transport
  // Made by publish() and not yet handed to the transport (being encoded and checksummed on
  // the engine's sender thread).
  std::uint64_t publishing = 0;
  std::uint64_t send_failures = 0;  // refused by the transport (queue full, closed)
  std::uint64_t received = 0;       // parameter-carrying messages taken in by the rule
  std::uint64_t applied = 0;        // contributions applied to the parameters
  std::uint64_t dropped_stale = 0;  // above max_staleness
  // Lost between transports after being queued: superseded in the latest-wins mailbox,
  // expired in a send queue, replayed/out of order, or an overflowing inbox (all peers).
  std::uint64_t lost_in_transport = 0;
  std::uint64_t rejected_outliers = 0;  // parameters rejected by max_norm_ratio
  std::uint64_t waits = 0;          // mix() calls that waited on a gate
  bool waiting = false;             // mix() is waiting on a gate right now
  std::uint64_t states_served = 0;  // full states sent to peers catching up
  double weight = 1.0;              // push-sum weight
  std::vector<GossipPeerStats> peers;
};

class GossipEngine {
 public:
  // Binds endpoints[rank] (tcp://host:port, ipc://path) and connects to every other peer.
  // `params` (count floats in `backend` memory) must outlive the engine. Throws ConfigError for
  // bad configuration values (naming them), a rank outside the list or an unbindable endpoint.
  GossipEngine(const GossipConfig& config, const std::vector<std::string>& endpoints, int rank,
               Backend& backend, float* params, std::size_t count);
  // Same over a transport the caller built (inproc contexts, fault injection): it must be bound
  // as `rank` of endpoints.size() peers; the engine connects it to the other endpoints.
  GossipEngine(const GossipConfig& config, std::unique_ptr<Transport> transport,
               const std::vector<std::string>& endpoints, int rank, Backend& backend,
               float* params, std::size_t count);
  // Says BYE to the other peers and stops the I/O thread (blocks until it has).
  ~GossipEngine();
  GossipEngine(const GossipEngine&) = delete;
  GossipEngine& operator=(const GossipEngine&) = delete;

  // After a local step: snapshots the parameters (one copy) for this round's live neighbours;
  // the engine's sender thread encodes, checksums and sends them (or this call does, with
  // GossipConfig::sender_thread false). Does not wait for the network (a full queue is
  // counted, not waited on); waits only while two earlier rounds are still being encoded.
  // Right after a mix() that caught up to step S, a publish() of a step below S (the step
  // that was in flight) sends nothing and leaves the engine's step at S.
  void publish(std::int64_t step);
  // Before the next step: applies what arrived. Blocks only while a drift or bounded-delay
  // gate applies, and never past the moment the awaited peers are declared dead. Returns the
  // number of contributions applied.
  int mix();

  // Includes `count` floats of other state (e.g. optimizer momentum, in backend memory) in the
  // full state sent to, and taken from, peers catching up. Call before the first mix().
  void attach_state(float* state, std::size_t count);
  // The last catch-up this engine performed (set by mix()), if any: continue from its step.
  std::optional<CatchUp> last_catch_up() const;

  GossipStats stats() const;
  int rank() const;
  int world() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace rumor
