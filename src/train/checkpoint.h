// checkpoint.h — the resumable state of one replica's training run, and its file format.
//
// A checkpoint is what Trainer::restore needs to continue a run exactly where it stopped:
// the parameters, the SGD velocity, the step counter and the loss sums of the current
// reporting interval, plus the fields that identify the run (model, seed, batch, training set
// size, total steps) so a checkpoint is never resumed into a different run.
//
// File format (little-endian), version 1:
//   offset  size  field
//        0     8  magic "RUMORCKP"
//        8     4  u32 version (1)
//       12     4  u32 model spec length S (at most 4096)
//       16     4  i32 rank
//       20     4  i32 batch
//       24     8  i64 epoch
//       32     8  i64 step
//       40     8  u64 seed
//       48     8  u64 train_examples
//       56     8  i64 total_steps
//       64     8  f64 train_seconds
//       72     8  i64 loss_steps
//       80     8  u64 parameter count P
//       88     8  u64 velocity count V
//       96     8  u64 loss-sum count L
//      104     S  model spec (ASCII, e.g. "784-256-128-10")
//            4P  float32 parameters, 4V float32 velocity, 4L float32 loss sums
//      end-8   8  u64 XXH3-64 of every preceding byte
// The file length must be exactly 112 + S + 4(P + V + L). Files are written atomically
// (atomic_file.h). docs/CHECKPOINTS.md has the rationale.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace rumor {

inline constexpr std::uint32_t kCheckpointVersion = 1;

struct Checkpoint {
  std::string model;                 // canonical model spec, e.g. "784-256-128-10"
  int rank = 0;                      // the replica that wrote it
  int batch = 0;                     // examples per step
  std::int64_t epoch = 0;            // 1-based epoch of the last completed step (0 at step 0)
  std::int64_t step = 0;             // steps completed
  std::uint64_t seed = 0;            // the run's seed (initialisation and shuffling)
  std::uint64_t train_examples = 0;  // examples in the training set (shard) of the run
  std::int64_t total_steps = 0;      // steps of the whole run (epochs x steps per epoch)
  double train_seconds = 0.0;        // training time so far, seconds
  std::int64_t loss_steps = 0;       // steps whose losses are in loss_sums
  std::vector<float> params;         // the parameter arena
  std::vector<float> velocity;       // SGD velocity, one per parameter
  std::vector<float> loss_sums;      // [batch] training-loss sums since the last report

  bool operator==(const Checkpoint&) const = default;
};

// The file's bytes for `checkpoint`. Throws rumor::Error for an inconsistent checkpoint.
std::string encode_checkpoint(const Checkpoint& checkpoint);

// Validates and decodes a checkpoint file's bytes (as load_checkpoint); `source` names them
// in error messages.
Checkpoint decode_checkpoint(std::string_view bytes, const std::filesystem::path& source);

// Writes `checkpoint` to `path` atomically; blocks until it is on disk. Throws rumor::Error
// for an inconsistent checkpoint (a bug in the caller) or when the file cannot be written.
void save_checkpoint(const std::filesystem::path& path, const Checkpoint& checkpoint);

// Reads and validates a checkpoint file: magic, version, every length against the file size,
// the checksum, then the fields' consistency. Throws rumor::DataError naming the path and what
// is wrong; never returns partial data and never reads out of bounds.
Checkpoint load_checkpoint(const std::filesystem::path& path);

// True when the file exists and starts with the checkpoint magic (it may still be corrupt).
bool has_checkpoint_magic(const std::filesystem::path& path);

}  // namespace rumor
