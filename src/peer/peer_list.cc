#include "peer/peer_list.h"

#include <arpa/inet.h>

#include <charconv>
#include <fstream>
#include <set>
#include <sstream>

#include "core/error.h"

namespace rumor {
namespace {

std::string trim(const std::string& s) {
  const auto begin = s.find_first_not_of(" \t\r");
  if (begin == std::string::npos) return "";
  return s.substr(begin, s.find_last_not_of(" \t\r") - begin + 1);
}

std::optional<long> parse_number(const std::string& text) {
  long value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

// "host:port" or "[v6]:port" → tcp://host:port; checks the port.
std::string tcp_endpoint(const std::string& address, const std::string& where) {
  const auto colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    throw ConfigError(where + ": '" + address +
                      "' is not a peer; write host:port, tcp://host:port or ipc:///path");
  }
  const std::string host = address.substr(0, colon);
  const auto port = parse_number(address.substr(colon + 1));
  if (!port || *port < 1 || *port > 65535) {
    throw ConfigError(where + ": port of '" + address + "' must be a number in 1..65535");
  }
  return "tcp://" + host + ":" + std::to_string(*port);
}

std::string endpoint_of(const std::string& entry, const std::string& where) {
  if (entry.starts_with("ipc://")) {
    if (entry.size() == 6) throw ConfigError(where + ": ipc:// needs a path");
    return entry;
  }
  if (entry.starts_with("tcp://")) return tcp_endpoint(entry.substr(6), where);
  if (entry.find("://") != std::string::npos) {
    throw ConfigError(where + ": '" + entry + "': only tcp:// and ipc:// peers are supported");
  }
  return tcp_endpoint(entry, where);
}

bool is_numeric_host(std::string host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  unsigned char buffer[sizeof(in6_addr)];
  return host == "localhost" || host == "*" || inet_pton(AF_INET, host.c_str(), buffer) == 1 ||
         inet_pton(AF_INET6, host.c_str(), buffer) == 1;
}

}  // namespace

PeerList parse_peer_list(const std::string& text, const std::string& source) {
  PeerList list;
  std::set<std::string> seen;
  std::istringstream in(text);
  int line_number = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_number;
    const std::string entry = trim(line.substr(0, line.find('#')));
    if (entry.empty()) continue;
    const std::string where = source + ":" + std::to_string(line_number);
    if (entry.find_first_of(" \t") != std::string::npos) {
      throw ConfigError(where + ": one peer per line, got '" + entry + "'");
    }
    std::string endpoint = endpoint_of(entry, where);
    if (!seen.insert(endpoint).second) {
      throw ConfigError(where + ": peer '" + entry + "' is listed twice");
    }
    list.endpoints.push_back(std::move(endpoint));
  }
  if (list.endpoints.empty()) {
    throw ConfigError(source + ": no peers listed (one host:port per line)");
  }
  return list;
}

PeerList load_peer_list(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError("--peers: cannot read '" + path.string() + "'");
  std::ostringstream text;
  text << in.rdbuf();
  return parse_peer_list(text.str(), path.string());
}

std::string bind_endpoint(const std::string& endpoint, const std::string& bind_override) {
  if (!bind_override.empty()) return endpoint_of(bind_override, "--bind");
  if (!endpoint.starts_with("tcp://")) return endpoint;
  const std::string address = endpoint.substr(6);
  const auto colon = address.rfind(':');
  if (is_numeric_host(address.substr(0, colon))) return endpoint;
  return "tcp://*" + address.substr(colon);
}

int resolve_rank(std::optional<int> flag, int world, const Getenv& getenv) {
  std::string from = "--rank";
  long rank = 0;
  if (flag) {
    rank = *flag;
  } else {
    bool found = false;
    for (const char* name : {"SLURM_PROCID", "OMPI_COMM_WORLD_RANK", "PMI_RANK", "RANK"}) {
      const char* value = getenv(name);
      if (value == nullptr) continue;
      const auto number = parse_number(trim(value));
      if (!number) {
        throw ConfigError(std::string(name) + "='" + value + "' is not a rank (a number)");
      }
      rank = *number;
      from = name;
      found = true;
      break;
    }
    if (!found) {
      throw ConfigError("--rank: not given, and none of SLURM_PROCID, OMPI_COMM_WORLD_RANK, "
                        "PMI_RANK, RANK is set");
    }
  }
  if (rank < 0 || rank >= world) {
    throw ConfigError(from + ": rank " + std::to_string(rank) + " is outside the peer list (" +
                      std::to_string(world) + " peers: ranks 0.." + std::to_string(world - 1) +
                      ")");
  }
  return static_cast<int>(rank);
}

}  // namespace rumor
