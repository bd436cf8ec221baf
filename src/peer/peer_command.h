// peer_command.h — `rumor peer`: one peer of a gossip training run. It trains its replica on
// its shard of the data and averages parameters with its neighbours through GossipEngine,
// printing progress, writing JSONL metrics and the final parameters.
#pragma once

#include <cstddef>
#include <string>

#include "peer/checkpoint_options.h"
#include "peer/gossip_options.h"
#include "peer/local_replicas.h"
#include "train/trainer.h"

namespace CLI {
class App;
}

namespace rumor {

struct PeerCommandArgs {
  TrainOptions train;
  std::string device = "cpu";
  int threads = 1;              // per replica
  LocalReplicaArgs local;       // hierarchical node: several replicas acting as one peer
  std::string data_dir;
  std::string shard = "iid";
  std::size_t limit_train = 0;  // 0 = the whole shard
  std::size_t limit_test = 0;   // 0 = the whole test set
  std::string peers_path;
  int rank = -1;                // -1: from the environment (SLURM_PROCID, ...)
  std::string bind;             // default: the peer-list entry
  GossipOptionValues gossip;
  double startup_wait_seconds = 60.0;  // for every peer to be up before the first step
  double slowdown = 1.0;        // compute F× slower (stragglers for benchmarks and scenarios)
  std::string out_dir;          // default: runs/peer-<rank>
  std::string metrics_path;     // default: <out>/metrics.jsonl
  std::string save_path;        // default: <out>/params.bin
  double progress_seconds = 10.0;  // plain progress lines when not on a terminal (0 = none)
  CheckpointArgs checkpoint;
  std::string http = "127.0.0.1:0";  // status endpoint; "off" = none; port 0 = any free port
  bool enable_faults = false;        // POST /faults may inject faults at run time
  bool quiet = false;
};

// Adds the `peer` subcommand with its options bound to `args`.
CLI::App* add_peer_command(CLI::App& app, PeerCommandArgs& args);

// Runs it; returns the process exit code. Throws ConfigError / DataError / Error.
int run_peer_command(const PeerCommandArgs& args);

}  // namespace rumor
