#include "peer/checkpoint_options.h"

#include <CLI/CLI.hpp>

#include <cstdio>

#include "core/error.h"
#include "core/log.h"

namespace rumor {

void add_checkpoint_options(CLI::App& command, CheckpointArgs& args) {
  command.add_option("--checkpoint-dir", args.dir,
                     "Folder for this replica's checkpoints (none when empty)");
  command.add_option("--checkpoint-every", args.every,
                     "Steps between checkpoints (0 = only at the end or on SIGINT/SIGTERM)")
      ->capture_default_str();
  command.add_option("--keep-checkpoints", args.keep, "Newest checkpoint files to keep")
      ->capture_default_str();
  command.add_flag("--resume", args.resume,
                   "Continue from the newest valid checkpoint in --checkpoint-dir");
}

void validate_checkpoint_args(const CheckpointArgs& args) {
  if (args.every < 0) {
    throw ConfigError("--checkpoint-every: must be >= 0 steps (0 = only at the end), got " +
                      std::to_string(args.every));
  }
  if (args.keep < 1) {
    throw ConfigError("--keep-checkpoints: must be at least 1, got " + std::to_string(args.keep));
  }
  if (args.dir.empty() && args.resume) {
    throw ConfigError("--resume: needs --checkpoint-dir, the folder to resume from");
  }
  if (args.dir.empty() && args.every > 0) {
    throw ConfigError("--checkpoint-every: needs --checkpoint-dir, the folder to write to");
  }
}

std::filesystem::path resume_or_start(CheckpointStore& store, Trainer& trainer, int rank,
                                      bool resume) {
  if (!resume) {
    const auto existing = store.list();
    if (!existing.empty()) {
      throw ConfigError("--checkpoint-dir: " + store.dir().string() +
                        " already holds checkpoints (newest " +
                        existing.back().filename().string() +
                        "); pass --resume to continue that run, or choose another folder");
    }
    return {};
  }
  const CheckpointScan scan = store.load_newest_valid();
  for (const auto& path : scan.removed_temporaries) {
    log(LogLevel::kWarn, "removed ", path.string(), " (left by an interrupted checkpoint write)");
  }
  for (const SkippedCheckpoint& skipped : scan.skipped) {
    log(LogLevel::kWarn, "skipping invalid checkpoint: ", skipped.reason);
  }
  if (!scan.newest) {
    std::printf("no valid checkpoint in %s: starting from step 0\n", store.dir().c_str());
    std::fflush(stdout);
    return {};
  }
  const Checkpoint& checkpoint = *scan.newest;
  const std::string from = " (checkpoint " + scan.path.string() + ")";
  if (checkpoint.rank != rank) {
    throw ConfigError("--rank: the checkpoint was written by rank " +
                      std::to_string(checkpoint.rank) + ", this is rank " +
                      std::to_string(rank) + from);
  }
  try {
    trainer.restore(checkpoint);
  } catch (const ConfigError& error) {
    throw ConfigError(error.what() + from);
  } catch (const DataError& error) {
    throw DataError(error.what() + from);
  }
  std::printf("resuming from %s: step %lld of %lld (epoch %lld)\n", scan.path.c_str(),
              static_cast<long long>(checkpoint.step),
              static_cast<long long>(checkpoint.total_steps),
              static_cast<long long>(checkpoint.epoch));
  std::fflush(stdout);
  return scan.path;
}

}  // namespace rumor
