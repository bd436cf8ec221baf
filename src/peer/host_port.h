// host_port.h — strict parsing of HOST:PORT addresses (`rumor peer --http`, `rumor ctl ADDR`).
#pragma once

#include <string>
#include <string_view>

namespace rumor {

struct HostPort {
  std::string host;  // a name or an IPv4 address, or an IPv6 address without brackets
  int port = 0;      // 0..65535 (0: any free port, when binding)

  // "host:port", with brackets around an IPv6 host ("[::1]:9100").
  std::string to_string() const;
};

// Parses "HOST:PORT" or "[IPV6]:PORT". Throws ConfigError naming `what` (e.g. "--http"), the
// text and the valid form when the host is empty or the port is not a number in 0..65535.
HostPort parse_host_port(std::string_view text, std::string_view what);

}  // namespace rumor
