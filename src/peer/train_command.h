// train_command.h — `rumor train`: trains one replica alone (the baseline every gossip run
// is compared with), prints progress, writes JSONL metrics and saves the final parameters;
// optionally writes checkpoints and resumes from them. The first SIGINT/SIGTERM stops it
// after the current step with a checkpoint (exit 0), a second one at once (exit 130).
#pragma once

#include <cstddef>
#include <string>

#include "peer/checkpoint_options.h"
#include "train/trainer.h"

namespace CLI {
class App;
}

namespace rumor {

struct TrainCommandArgs {
  TrainOptions train;
  std::string device = "cpu";
  int threads = 1;
  std::string data_dir;
  std::string shard = "iid";
  int rank = 0;
  int world = 1;
  std::size_t limit_train = 0;  // 0 = the whole shard
  std::size_t limit_test = 0;   // 0 = the whole test set
  std::string out_dir = "runs/train";
  std::string metrics_path;  // default: <out>/metrics.jsonl
  std::string save_path;     // default: <out>/params.bin
  bool quiet = false;
  CheckpointArgs checkpoint;
};

// Adds the `train` subcommand with its options bound to `args`.
CLI::App* add_train_command(CLI::App& app, TrainCommandArgs& args);

// Runs it; returns the process exit code. Throws ConfigError / DataError / Error.
int run_train_command(const TrainCommandArgs& args);

}  // namespace rumor
