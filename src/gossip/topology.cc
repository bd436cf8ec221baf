#include "gossip/topology.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "core/rng.h"

namespace rumor {
namespace {

constexpr const char* kValidKinds =
    "ring, torus, exponential, one-peer-exponential, complete, random:K, file:PATH";

int ceil_log2(int n) {
  int k = 0;
  while ((1 << k) < n) ++k;
  return k;
}

// Adds `peer` to `out` unless it is `self` or already there.
void add_unique(std::vector<int>& out, int peer, int self) {
  if (peer != self && std::find(out.begin(), out.end(), peer) == out.end()) out.push_back(peer);
}

std::vector<std::vector<int>> random_k(int world, int k, std::uint64_t seed) {
  std::vector<std::vector<int>> graph(world);
  for (int r = 0; r < world; ++r) {
    Rng rng = Rng::stream(seed, static_cast<std::uint64_t>(r));
    add_unique(graph[r], (r + 1) % world, r);
    while (static_cast<int>(graph[r].size()) < std::min(k, world - 1)) {
      add_unique(graph[r], static_cast<int>(rng.below(world)), r);
    }
  }
  return graph;
}

std::vector<std::vector<int>> read_topology_file(const std::string& path, int world) {
  std::ifstream in(path);
  if (!in) throw ConfigError("topology file " + path + ": cannot open");
  std::vector<std::vector<int>> graph;
  std::string line;
  int line_number = 0;
  while (std::getline(in, line)) {
    ++line_number;
    if (const auto hash = line.find('#'); hash != std::string::npos) line.erase(hash);
    std::replace(line.begin(), line.end(), ',', ' ');
    std::istringstream fields(line);
    std::string field;
    std::vector<int> row;
    bool any = false;
    const int rank = static_cast<int>(graph.size());
    while (fields >> field) {
      any = true;
      int peer = -1;
      const auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), peer);
      if (ec != std::errc{} || end != field.data() + field.size() || peer < 0 || peer >= world ||
          peer == rank) {
        throw ConfigError("topology file " + path + ":" + std::to_string(line_number) + ": '" +
                          field + "' is not a rank in 0.." + std::to_string(world - 1) +
                          " other than " + std::to_string(rank));
      }
      add_unique(row, peer, rank);
    }
    if (!any && line.find_first_not_of(" \t\r") == std::string::npos) continue;
    graph.push_back(std::move(row));
  }
  if (static_cast<int>(graph.size()) != world) {
    throw ConfigError("topology file " + path + ": has " + std::to_string(graph.size()) +
                      " rank lines, the peer list has " + std::to_string(world) + " peers");
  }
  for (int r = 0; r < world; ++r) {
    if (world > 1 && graph[r].empty()) {
      throw ConfigError("topology file " + path + ": rank " + std::to_string(r) +
                        " has no neighbours");
    }
  }
  return graph;
}

}  // namespace

Topology Topology::parse(std::string_view spec, int world, std::uint64_t seed) {
  if (world < 1) throw ConfigError("topology: world must be at least 1");
  const std::string name(spec);
  if (spec == "ring") return Topology(Kind::kRing, name, world);
  if (spec == "complete") return Topology(Kind::kComplete, name, world);
  if (spec == "torus") {
    Topology t(Kind::kTorus, name, world);
    for (int rows = 1; rows * rows <= world; ++rows) {
      if (world % rows == 0) t.rows_ = rows;
    }
    t.cols_ = world / t.rows_;
    return t;
  }
  if (spec == "exponential" || spec == "one-peer-exponential") {
    Topology t(spec == "exponential" ? Kind::kExponential : Kind::kOnePeerExponential, name,
               world);
    t.log2_world_ = ceil_log2(world);
    t.time_varying_ = t.kind_ == Kind::kOnePeerExponential;
    return t;
  }
  if (spec.starts_with("random:")) {
    const std::string_view k_text = spec.substr(7);
    int k = 0;
    const auto [end, ec] = std::from_chars(k_text.data(), k_text.data() + k_text.size(), k);
    if (ec != std::errc{} || end != k_text.data() + k_text.size() || k < 1) {
      throw ConfigError("topology '" + name + "': K must be a positive integer (random:K)");
    }
    Topology t(Kind::kExplicit, name, world);
    t.explicit_ = random_k(world, k, seed);
    return t;
  }
  if (spec.starts_with("file:")) {
    Topology t(Kind::kExplicit, name, world);
    t.explicit_ = read_topology_file(std::string(spec.substr(5)), world);
    return t;
  }
  throw ConfigError("topology '" + name + "' is not valid; valid: " + kValidKinds);
}

std::vector<int> Topology::base_neighbours(int rank, std::int64_t round) const {
  RUMOR_CHECK(rank >= 0 && rank < world_, "rank ", rank, " outside 0..", world_ - 1);
  std::vector<int> out;
  const int n = world_;
  switch (kind_) {
    case Kind::kRing:
      add_unique(out, (rank + 1) % n, rank);
      add_unique(out, (rank + n - 1) % n, rank);
      break;
    case Kind::kTorus: {
      const int row = rank / cols_, col = rank % cols_;
      add_unique(out, row * cols_ + (col + 1) % cols_, rank);
      add_unique(out, row * cols_ + (col + cols_ - 1) % cols_, rank);
      add_unique(out, ((row + 1) % rows_) * cols_ + col, rank);
      add_unique(out, ((row + rows_ - 1) % rows_) * cols_ + col, rank);
      break;
    }
    case Kind::kExponential:
      for (int k = 0; k < log2_world_; ++k) add_unique(out, (rank + (1 << k)) % n, rank);
      break;
    case Kind::kOnePeerExponential:
      if (log2_world_ > 0) {
        const int k = static_cast<int>(round % log2_world_);
        add_unique(out, (rank + (1 << k)) % n, rank);
      }
      break;
    case Kind::kComplete:
      for (int p = 1; p < n; ++p) add_unique(out, (rank + p) % n, rank);
      break;
    case Kind::kExplicit:
      out = explicit_[rank];
      break;
  }
  return out;
}

std::vector<int> Topology::neighbours(int rank, std::int64_t round,
                                      const std::vector<bool>& alive) const {
  RUMOR_CHECK(static_cast<int>(alive.size()) == world_, "alive has ", alive.size(),
              " entries for ", world_, " peers");
  std::vector<int> out;
  for (int candidate : base_neighbours(rank, round)) {
    const int distance = (candidate - rank + world_) % world_;
    const int direction = 2 * distance <= world_ ? 1 : world_ - 1;  // +1 or -1 (mod n)
    for (int step = 0, peer = candidate; step < world_; ++step, peer = (peer + direction) % world_) {
      if (peer != rank && alive[peer]) {
        add_unique(out, peer, rank);
        break;
      }
    }
  }
  return out;
}

}  // namespace rumor
