#include "peer/metrics_log.h"

#include <chrono>

#include "core/error.h"

namespace rumor {

MetricsLog::MetricsLog(const std::filesystem::path& path, Mode mode) : path_(path) {
  if (path.empty()) return;
  std::error_code ec;
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
  out_.open(path, std::ios::out | (mode == Mode::kAppend ? std::ios::app : std::ios::trunc));
  if (!out_) throw Error(path.string() + ": cannot open metrics file for writing");
}

void MetricsLog::write(nlohmann::json record) {
  if (!out_.is_open()) return;
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  record["time"] = std::chrono::duration<double>(now).count();
  out_ << record.dump() << '\n';
  out_.flush();
}

}  // namespace rumor
