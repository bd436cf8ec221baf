// checkpoint_options.h — the checkpoint options shared by `rumor train` and `rumor peer`
// (--checkpoint-dir, --checkpoint-every, --keep-checkpoints, --resume) and what they do at
// start-up: resume from the newest valid checkpoint, or refuse to mix a fresh run into a
// folder that holds another run's checkpoints.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "train/checkpoint_store.h"
#include "train/trainer.h"

namespace CLI {
class App;
}

namespace rumor {

struct CheckpointArgs {
  std::string dir;                              // empty = no checkpoints
  std::int64_t every = 0;                       // steps; 0 = only at the end or on a stop
  int keep = CheckpointStore::kDefaultKeep;     // newest files kept
  bool resume = false;                          // continue from the newest valid checkpoint
};

// Adds the four options to `command`.
void add_checkpoint_options(CLI::App& command, CheckpointArgs& args);

// Throws ConfigError naming the flag: negative --checkpoint-every, --keep-checkpoints < 1,
// --resume or --checkpoint-every without --checkpoint-dir.
void validate_checkpoint_args(const CheckpointArgs& args);

// Prepares `store` for the run of `trainer` as replica `rank`. With --resume: logs every
// removed temporary file and every skipped invalid checkpoint (warnings on stderr), then
// restores the newest valid one into `trainer` and returns its path, or prints that it
// starts from step 0 and returns an empty path when there is none. Without --resume: throws
// ConfigError when the folder already holds checkpoints. Throws ConfigError when the
// checkpoint belongs to another run or rank (naming the option and the file).
std::filesystem::path resume_or_start(CheckpointStore& store, Trainer& trainer, int rank,
                                      bool resume);

}  // namespace rumor
