// host_port.cc — HOST:PORT parsing.
#include "peer/host_port.h"

#include <charconv>

#include "core/error.h"

namespace rumor {

std::string HostPort::to_string() const {
  const bool ipv6 = host.find(':') != std::string::npos;
  return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

HostPort parse_host_port(std::string_view text, std::string_view what) {
  const auto fail = [&](const char* problem) -> ConfigError {
    return ConfigError(detail::concat(what, " '", text, "': ", problem,
                                      " (valid: HOST:PORT with a port in 0..65535, e.g. "
                                      "127.0.0.1:9100 or [::1]:9100)"));
  };
  const std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) throw fail("no port");
  std::string_view host = text.substr(0, colon);
  const std::string_view port = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  } else if (host.find_first_of("[]:") != std::string_view::npos) {
    throw fail("an IPv6 host must be in brackets");
  }
  if (host.empty()) throw fail("no host");
  if (port.empty()) throw fail("no port");
  int value = -1;
  const auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (error != std::errc() || end != port.data() + port.size() || value < 0 || value > 65535) {
    throw fail("the port is not a number in 0..65535");
  }
  return HostPort{std::string(host), value};
}

}  // namespace rumor
