// periodic_checkpointer.h — saves a trainer's checkpoint every N steps into a
// CheckpointStore, driven from StepHooks::after, and once more at the end of a run.
//
//   PeriodicCheckpointer saver(trainer, store, rank, every);
//   hooks.after = [&](std::int64_t) { saver.after_step(); };   // chain gossip's publish too
//   trainer.run(report, hooks);
//   saver.save_now();  // the final (or interrupted) state, unless just saved
//
// Runs on the training thread; saving blocks the step for the file write and fsync.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>

#include "train/checkpoint_store.h"
#include "train/trainer.h"

namespace rumor {

class PeriodicCheckpointer {
 public:
  // `every` in steps; 0 = never from after_step(), only save_now(). Throws ConfigError naming
  // --checkpoint-every when negative. The trainer and store must outlive this object.
  PeriodicCheckpointer(const Trainer& trainer, CheckpointStore& store, int rank,
                       std::int64_t every);

  // Saves when trainer.step() is a multiple of `every`. Returns the file written, if any.
  std::optional<std::filesystem::path> after_step();

  // Saves the trainer's current state unless that step was already saved by this object.
  // Returns the file written, if any.
  std::optional<std::filesystem::path> save_now();

  // The step of the last checkpoint this object wrote (-1 before the first).
  std::int64_t last_saved_step() const { return last_saved_step_; }

 private:
  std::filesystem::path save();

  const Trainer& trainer_;
  CheckpointStore& store_;
  int rank_;
  std::int64_t every_;
  std::int64_t last_saved_step_ = -1;
};

}  // namespace rumor
