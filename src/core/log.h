// log.h — minimal leveled logging to stderr, thread-safe, with a per-key rate limit for
// events that can repeat (bad messages from the network).
#pragma once

#include <string_view>

#include "core/error.h"

namespace rumor {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

// Messages below this level are discarded. Default kInfo; RUMOR_LOG_LEVEL=debug|info|warn|error.
void set_log_level(LogLevel level);
LogLevel log_level();

// Writes one line "[rumor LEVEL] message" to stderr. Does not block on anything but stderr.
void log_line(LogLevel level, std::string_view message);

template <class... Parts>
void log(LogLevel level, const Parts&... parts) {
  if (level >= log_level()) log_line(level, detail::concat(parts...));
}

}  // namespace rumor
