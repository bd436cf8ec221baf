// shard.h — which training examples each peer trains on: iid or label-skewed (Dirichlet)
// shards, computed identically by every peer from (labels, spec, world, seed) alone.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace rumor {

// How the training set is split across peers: "iid" or "dirichlet:ALPHA" (ALPHA > 0).
struct ShardSpec {
  enum class Kind { kIid, kDirichlet };
  Kind kind = Kind::kIid;
  double alpha = 0.0;  // Dirichlet concentration; only for kDirichlet
  // Parses "iid" or "dirichlet:0.5"; throws rumor::ConfigError saying what is valid.
  static ShardSpec parse(std::string_view text);
  // The text parse() reads back to the same spec ("iid", "dirichlet:0.5").
  std::string to_string() const;
};

// Indices into the training set for `rank` of `world` peers (0 <= rank < world).
// Shards of all ranks are disjoint and together cover every example exactly once.
// iid: a seeded permutation cut into `world` nearly equal parts (sizes differ by at most 1),
// each shard's indices in permuted order. dirichlet: per class, proportions p ~ Dir(alpha)
// over ranks (seeded) split that class's shuffled examples; the shard is then shuffled.
// With small alpha a dirichlet shard may be small or even empty.
// Same inputs → same output on every platform (rumor::Rng). Throws ConfigError on bad
// rank/world or alpha <= 0; rumor::Error when a label is outside [0, classes) (dirichlet only:
// iid ignores labels and classes). Costs O(labels.size()) time and memory on every call.
std::vector<std::size_t> shard_indices(std::span<const std::int32_t> labels, int classes,
                                       const ShardSpec& spec, int rank, int world,
                                       std::uint64_t seed);

}  // namespace rumor
