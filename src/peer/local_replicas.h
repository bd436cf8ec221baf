// local_replicas.h — the replicas of one `rumor peer` node (hierarchical training): the
// --devices / --local-replicas / --local-sync options, and the backends, shard slices, trainers
// and ReplicaGroup they stand for.
//
// The node's shard is dealt out round-robin into K equal slices (the remainder, fewer than K
// examples, is left out), one per replica. Replica 0, the leader, is the one the gossip engine,
// checkpoints, reports and the final parameters use; see train/replica_group.h.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "kernels/backend.h"
#include "kernels/local_group.h"
#include "train/dataset.h"
#include "train/replica_group.h"
#include "train/trainer.h"

namespace CLI {
class App;
}

namespace rumor {

struct LocalReplicaArgs {
  std::string devices;          // "cuda:0,cuda:1": one replica per device (overrides --device)
  int replicas = 0;             // --local-replicas K; 0 = one per --devices entry, else 1
  std::string sync = "gradients";
};

// Adds --devices, --local-replicas and --local-sync to `command`.
void add_local_replica_options(CLI::App& command, LocalReplicaArgs& args);

// The device of each replica, from --device (`device`) and the local-replica options. Throws
// ConfigError, saying what to change, for an empty or repeated entry, a count that disagrees
// with --devices, several replicas on one GPU, or a count outside 1..64.
std::vector<std::string> replica_devices(const std::string& device, const LocalReplicaArgs& args);

class LocalReplicas {
 public:
  // Builds one backend (with `threads` CPU threads each) and trainer per device, on equal
  // slices of `shard`, and the LocalGroup joining them. Throws ConfigError for devices that
  // are absent or cannot be grouped, or a shard too small to give every replica a batch.
  LocalReplicas(const std::vector<std::string>& devices, int threads, const TrainOptions& options,
                const Dataset& shard, const Dataset& test, const Clock& clock, LocalSync sync);

  int size() const { return static_cast<int>(trainers_.size()); }
  Trainer& leader() { return *trainers_.front(); }
  Backend& leader_backend() { return *backends_.front(); }
  ReplicaGroup& group() { return *group_; }
  // Examples each replica trains on.
  std::size_t slice_examples() const { return slices_.front().count; }
  // For the start-up line: "2 replicas on cpu, cpu; gradients all-reduced every step (cpu
  // threads)", or "cpu" for a single replica.
  std::string description() const;

 private:
  std::vector<std::unique_ptr<Backend>> backends_;
  std::vector<Dataset> slices_;
  std::vector<std::unique_ptr<Trainer>> trainers_;
  std::unique_ptr<LocalGroup> local_group_;
  std::unique_ptr<ReplicaGroup> group_;
};

}  // namespace rumor
