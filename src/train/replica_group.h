// replica_group.h — the replicas of one node training as one peer: K Trainers (same options,
// equal slices of the node's shard, each on its own backend) in lock-step on K threads, kept
// together through a LocalGroup.
//
// Replica 0, the leader, runs on the caller's thread and is the one the node's gossip engine,
// checkpoints and reports see. The followers run on threads of their own. Two ways to stay
// together (LocalSync):
//   gradients  every step the gradients are all-reduced (mean) before the update, so every
//              replica takes the same update and the replicas stay bit-identical: one replica
//              with a K-times larger batch, computed K ways.
//   params:H   each replica steps on its own gradients and the parameters are averaged every H
//              steps and after the last (local SGD): fewer collectives, replicas apart between.
// Mixing with other nodes happens on the leader, before a step at which the replicas agree
// (every step, or right after an average); when it changed the leader's parameters they are
// broadcast, so the replicas agree again.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/abortable_barrier.h"
#include "kernels/local_group.h"
#include "train/trainer.h"

namespace rumor {

struct LocalSync {
  enum class Kind { kGradients, kParameters };
  Kind kind = Kind::kGradients;
  int every = 1;  // kParameters: steps between averages (H >= 1)

  // "gradients" or "params:H"; throws ConfigError saying what is valid.
  static LocalSync parse(std::string_view text);
  // The text parse() reads back ("gradients", "params:8").
  std::string to_string() const;
};

// What the node does through its leader.
struct NodeHooks {
  // Before each step at which the replicas agree (every step with gradients, the first step
  // after each average with params:H): mixes the leader's parameters with other nodes and
  // returns whether it changed them. May be empty (no gossip).
  std::function<bool(std::int64_t step)> mix;
  // The leader's hooks, as Trainer::run takes them. `before` runs after `mix`; `gradients`
  // belongs to the group and must be empty; `should_stop` is asked of the leader alone, and
  // every replica stops after the same step.
  StepHooks step;
  // Called on every replica's own thread after its update of `step`, before any average. For
  // fault injection: what it throws fails that replica.
  std::function<void(int member, std::int64_t step)> replica_step;
};

class ReplicaGroup {
 public:
  // trainers[0] is the leader; `group` has one member per trainer, in the same order. Throws
  // ConfigError when the trainers differ in parameter count or steps, or the group in size.
  // Followers should be built with TrainOptions::evaluate = false (the leader evaluates).
  ReplicaGroup(std::vector<Trainer*> trainers, LocalGroup& group, LocalSync sync);

  // Gives every follower the leader's state (parameters, momentum, step): before run(), and
  // after the leader restored a checkpoint or caught up. Synchronizes.
  void copy_leader_state();

  // Runs every replica from the leader's step on, each on its own thread (the leader on this
  // one), until the run completes or the leader's should_stop says so; `report` gets the
  // leader's reports. When a replica fails, the others are released (the LocalGroup is
  // aborted) and the first failure is rethrown here once every thread has stopped; the
  // leader's trainer then holds the state after its last completed step.
  void run(const std::function<void(const Progress&)>& report, const NodeHooks& hooks);

  // Largest |leader − follower| over all parameters: 0 when the replicas are identical.
  // Synchronizes. Call it between runs.
  double max_divergence() const;

  int size() const { return static_cast<int>(trainers_.size()); }
  Trainer& leader() { return *trainers_.front(); }
  const LocalSync& sync() const { return sync_; }

 private:
  // The body of replica `member`'s thread for one run().
  void run_replica(int member, const std::function<void(const Progress&)>& report,
                   const NodeHooks& hooks);
  // The leader's `decision`, returned on every replica once all have arrived.
  bool share_decision(int member, bool decision);
  // Whether the replicas mix before `step` / average after `step`.
  bool mixes_before(std::int64_t step) const;
  bool averages_after(std::int64_t step) const;
  // Releases every replica waiting on the others, saying why.
  void abort(const std::string& reason) noexcept;

  std::vector<Trainer*> trainers_;
  LocalGroup& group_;
  LocalSync sync_;
  AbortableBarrier decided_;
  bool decisions_[2] = {false, false};  // the leader's decision, by phase parity
  std::uint64_t leader_phase_ = 0;      // the phase the leader arrives at next
};

}  // namespace rumor
