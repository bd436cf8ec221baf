#include "train/periodic_checkpointer.h"

#include <string>

#include "core/error.h"

namespace rumor {

PeriodicCheckpointer::PeriodicCheckpointer(const Trainer& trainer, CheckpointStore& store,
                                           int rank, std::int64_t every)
    : trainer_(trainer), store_(store), rank_(rank), every_(every) {
  if (every < 0) {
    throw ConfigError("--checkpoint-every: must be >= 0 steps (0 = only at the end), got " +
                      std::to_string(every));
  }
}

std::optional<std::filesystem::path> PeriodicCheckpointer::after_step() {
  const std::int64_t step = trainer_.step();
  if (every_ == 0 || step == 0 || step % every_ != 0) return std::nullopt;
  return save();
}

std::optional<std::filesystem::path> PeriodicCheckpointer::save_now() {
  if (trainer_.step() == last_saved_step_) return std::nullopt;
  return save();
}

std::filesystem::path PeriodicCheckpointer::save() {
  std::filesystem::path path = store_.save(trainer_.checkpoint(rank_));
  last_saved_step_ = trainer_.step();
  return path;
}

}  // namespace rumor
