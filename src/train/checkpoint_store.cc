#include "train/checkpoint_store.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <system_error>

#include "core/error.h"
#include "train/atomic_file.h"

namespace rumor {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kPrefix = "ckpt-";
constexpr std::string_view kSuffix = ".rumor";
constexpr std::size_t kStepDigits = 10;
constexpr std::int64_t kMaxStep = 9'999'999'999;

}  // namespace

CheckpointStore::CheckpointStore(fs::path dir, int keep) : dir_(std::move(dir)), keep_(keep) {
  if (keep < 1) {
    throw ConfigError("--keep-checkpoints: must be at least 1, got " + std::to_string(keep));
  }
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec || !fs::is_directory(dir_)) {
    throw Error(dir_.string() + ": cannot create checkpoint folder: " +
                (ec ? ec.message() : "not a folder"));
  }
}

std::string CheckpointStore::file_name(std::int64_t step) {
  RUMOR_CHECK(step >= 0 && step <= kMaxStep, "checkpoint step ", step, " out of range");
  char name[32];
  std::snprintf(name, sizeof(name), "ckpt-%010lld.rumor", static_cast<long long>(step));
  return name;
}

std::optional<std::int64_t> CheckpointStore::step_of(const std::string& name) {
  if (name.size() != kPrefix.size() + kStepDigits + kSuffix.size() ||
      !name.starts_with(kPrefix) || !name.ends_with(kSuffix)) {
    return std::nullopt;
  }
  std::int64_t step = 0;
  for (std::size_t i = kPrefix.size(); i < kPrefix.size() + kStepDigits; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(name[i]))) return std::nullopt;
    step = step * 10 + (name[i] - '0');
  }
  return step;
}

std::vector<fs::path> CheckpointStore::list() const {
  std::vector<std::pair<std::int64_t, fs::path>> found;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    const auto step = step_of(entry.path().filename().string());
    if (step && entry.is_regular_file(ec)) found.emplace_back(*step, entry.path());
  }
  if (ec) throw Error(dir_.string() + ": cannot list checkpoint folder: " + ec.message());
  std::sort(found.begin(), found.end());
  std::vector<fs::path> paths;
  for (auto& [step, path] : found) paths.push_back(std::move(path));
  return paths;
}

fs::path CheckpointStore::save(const Checkpoint& checkpoint) {
  const fs::path path = dir_ / file_name(checkpoint.step);
  save_checkpoint(path, checkpoint);
  std::vector<fs::path> files = list();
  std::erase(files, path);
  // Oldest first: delete from the front until `keep` remain, counting the new file.
  const std::size_t others = static_cast<std::size_t>(keep_ - 1);
  for (std::size_t i = 0; i + others < files.size(); ++i) {
    std::error_code ignored;  // a file someone else removed is as good as removed
    fs::remove(files[i], ignored);
  }
  return path;
}

CheckpointScan CheckpointStore::load_newest_valid() {
  CheckpointScan scan;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    const std::string name = entry.path().filename().string();
    const std::string target = name.substr(0, name.find(".tmp."));
    if (target == name || !step_of(target) || !is_temporary_file(entry.path(), target)) continue;
    std::error_code ignored;
    if (fs::remove(entry.path(), ignored)) scan.removed_temporaries.push_back(entry.path());
  }
  if (ec) throw Error(dir_.string() + ": cannot list checkpoint folder: " + ec.message());

  std::vector<fs::path> files = list();
  for (auto it = files.rbegin(); it != files.rend(); ++it) {
    try {
      Checkpoint checkpoint = load_checkpoint(*it);
      const std::int64_t named = *step_of(it->filename().string());
      if (checkpoint.step != named) {
        throw DataError(it->string() + ": holds step " + std::to_string(checkpoint.step) +
                        " but its name says step " + std::to_string(named));
      }
      scan.newest = std::move(checkpoint);
      scan.path = *it;
      break;
    } catch (const DataError& error) {
      scan.skipped.push_back({*it, error.what()});
    }
  }
  return scan;
}

}  // namespace rumor
