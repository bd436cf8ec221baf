// peer_list.h — the peer list of a run (`--peers FILE`) and this process's rank in it.
//
// The file has one peer per line: `host:port` (TCP), or a ZeroMQ endpoint `tcp://host:port` or
// `ipc:///path`. `#` starts a comment; blank lines are skipped. Rank r is the r-th peer line.
// Every peer of a run reads the same file.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace rumor {

struct PeerList {
  std::vector<std::string> endpoints;  // ZeroMQ endpoints, index = rank
};

// Parses the text of a peer list; `source` names it in errors ("peers.txt:3: ..."). Throws
// ConfigError for a malformed line, a port outside 1..65535, a duplicate peer or an empty list.
PeerList parse_peer_list(const std::string& text, const std::string& source);
// Reads and parses a peer list file (ConfigError when it cannot be read).
PeerList load_peer_list(const std::filesystem::path& path);

// The endpoint a peer binds for its list entry: the entry itself when its host is a numeric
// address, `localhost` or an ipc path; otherwise (a host name) every interface, `tcp://*:PORT`,
// since ZeroMQ binds interfaces, not names. `bind_override` (`--bind HOST:PORT`) wins.
std::string bind_endpoint(const std::string& endpoint, const std::string& bind_override);

// This process's rank: `flag` (--rank) when given, else the first of SLURM_PROCID,
// OMPI_COMM_WORLD_RANK, PMI_RANK and RANK that is set, read through `getenv`. Throws
// ConfigError when none is set, a value is not a number, or the rank is not below `world`.
using Getenv = std::function<const char*(const char*)>;
int resolve_rank(std::optional<int> flag, int world, const Getenv& getenv = ::getenv);

}  // namespace rumor
