// topology.h — who a peer sends to in each gossip round.
//
// A topology gives every rank its out-neighbours for round t. Kinds (by name):
//   ring                  r±1
//   torus                 2-D grid rows×cols (the most square factorisation), r's four
//                         neighbours with wrap-around
//   exponential           r + 2^k for k = 0 … ⌈log2 n⌉−1   (directed, as in SGP)
//   one-peer-exponential  r + 2^(t mod ⌈log2 n⌉): one neighbour per round, cycling k
//   complete              every other rank
//   random:K              K distinct ranks drawn once from the seed; the first is always r+1,
//                         so the graph is strongly connected
//   file:PATH             one line per rank: its neighbours, separated by spaces or commas
// Dead peers are skipped: a neighbour that is not alive is replaced by the nearest live rank
// beyond it, walking away from the sender in the edge's direction (forward for r+d with
// d ≤ n/2, backward otherwise), so a ring keeps both sides and every built-in kind keeps its
// live graph strongly connected (tested under random failures).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace rumor {

class Topology {
 public:
  // Builds the topology named by `spec` for `world` peers. Throws ConfigError naming the valid
  // kinds, or a bad file (path, line and what is wrong).
  static Topology parse(std::string_view spec, int world, std::uint64_t seed = 0);

  int world() const { return world_; }
  const std::string& name() const { return name_; }
  // Whether neighbours change from round to round (one-peer-exponential).
  bool time_varying() const { return time_varying_; }

  // The out-neighbours of `rank` in round `round` ignoring liveness (no duplicates, never rank).
  std::vector<int> base_neighbours(int rank, std::int64_t round) const;

  // The out-neighbours of `rank` in `round` among live peers: each dead base neighbour is
  // replaced as described above; duplicates and `rank` itself are removed. Empty when no other
  // peer is alive. alive.size() must equal world().
  std::vector<int> neighbours(int rank, std::int64_t round, const std::vector<bool>& alive) const;

 private:
  enum class Kind { kRing, kTorus, kExponential, kOnePeerExponential, kComplete, kExplicit };

  Topology(Kind kind, std::string name, int world)
      : kind_(kind), name_(std::move(name)), world_(world) {}

  Kind kind_;
  std::string name_;
  int world_;
  bool time_varying_ = false;
  int rows_ = 1;                           // torus
  int cols_ = 1;                           // torus
  int log2_world_ = 0;                     // exponential kinds: ⌈log2 world⌉
  std::vector<std::vector<int>> explicit_;  // random:K and file: per-rank neighbours
};

}  // namespace rumor
