// metrics_log.h — appends one JSON object per line (JSONL) to a metrics file, flushed after
// every record so a crashed or killed run keeps what it reported.
#pragma once

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

namespace rumor {

class MetricsLog {
 public:
  enum class Mode { kReplace, kAppend };  // kAppend: a resumed run continues the file

  // An empty path makes a log that writes nothing. Creates parent folders; throws
  // rumor::Error naming the path when the file cannot be opened.
  explicit MetricsLog(const std::filesystem::path& path, Mode mode = Mode::kReplace);

  // Writes `record` with a "time" field (Unix seconds) added.
  void write(nlohmann::json record);
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  std::ofstream out_;
};

}  // namespace rumor
