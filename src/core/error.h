// error.h — rumor's error types and the RUMOR_CHECK macro.
//
// Library code reports problems by throwing one of these; programs decide what to do
// (src/peer maps ConfigError to exit code 2). Every message carries file:line of the check
// and says what was expected and what was seen.
#pragma once

#include <sstream>
#include <string>

#include "rumor/error.h"  // Error, ConfigError, DataError (public)

namespace rumor {
namespace detail {
template <class... Parts>
std::string concat(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return out.str();
}
}  // namespace detail

}  // namespace rumor

// Throws rumor::Error("file:line: <message parts>") when `cond` is false.
#define RUMOR_CHECK(cond, ...)                                                              \
  do {                                                                                      \
    if (!(cond)) [[unlikely]] {                                                             \
      throw ::rumor::Error(::rumor::detail::concat(__FILE__, ":", __LINE__, ": check '",    \
                                                   #cond, "' failed: " __VA_OPT__(, )       \
                                                       __VA_ARGS__));                       \
    }                                                                                       \
  } while (0)
