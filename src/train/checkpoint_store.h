// checkpoint_store.h — the checkpoints of one replica in one folder: numbered files, the
// newest K kept, and the newest valid one found again at resume.
//
// Files are named ckpt-<step, 10 digits>.rumor (ckpt-0000001200.rumor holds the state after
// 1200 steps), so their names sort by step. The store touches only names of that pattern and
// their temporary files (`<name>.tmp.<pid>`, left by a write that was interrupted). One folder
// belongs to one replica: two runs writing into the same folder would prune each other's files.
//
// Not thread-safe; save() and load_newest_valid() block on file I/O.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "train/checkpoint.h"

namespace rumor {

// A checkpoint file that failed validation, and why.
struct SkippedCheckpoint {
  std::filesystem::path path;
  std::string reason;  // the DataError message (names the file and the problem)
};

struct CheckpointScan {
  std::optional<Checkpoint> newest;           // the newest checkpoint that validates, if any
  std::filesystem::path path;                 // its file (empty when there is none)
  std::vector<SkippedCheckpoint> skipped;     // newer files that did not validate, newest first
  std::vector<std::filesystem::path> removed_temporaries;  // unfinished writes deleted
};

class CheckpointStore {
 public:
  static constexpr int kDefaultKeep = 3;

  // Creates `dir` (and its parents) when absent. Throws ConfigError naming
  // --keep-checkpoints when keep < 1, rumor::Error when the folder cannot be created.
  explicit CheckpointStore(std::filesystem::path dir, int keep = kDefaultKeep);

  // Writes `checkpoint` as ckpt-<step>.rumor (replacing a file of the same step), then deletes
  // the oldest checkpoint files until at most `keep` remain, never the one just written.
  // Returns the path written. Throws rumor::Error when the file cannot be written (the
  // previous checkpoints are then untouched).
  std::filesystem::path save(const Checkpoint& checkpoint);

  // Deletes temporary files of interrupted writes, then loads the checkpoint files newest
  // first until one validates (a file whose name and contents disagree on the step counts as
  // invalid). Never throws for bad files: they are listed in `skipped`. Throws rumor::Error
  // only when the folder itself cannot be listed.
  CheckpointScan load_newest_valid();

  // The checkpoint files in the folder, oldest (lowest step) first.
  std::vector<std::filesystem::path> list() const;

  const std::filesystem::path& dir() const { return dir_; }
  int keep() const { return keep_; }

  // "ckpt-0000001200.rumor" for step 1200; steps must be in 0..9999999999.
  static std::string file_name(std::int64_t step);
  // The step in a checkpoint file name, or nullopt when `name` does not match the pattern.
  static std::optional<std::int64_t> step_of(const std::string& name);

 private:
  std::filesystem::path dir_;
  int keep_;
};

}  // namespace rumor
