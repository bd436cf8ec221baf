// shard.cc — iid and Dirichlet label-skew shards; see shard.h.
#include "train/shard.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <numeric>

#include "core/error.h"
#include "core/rng.h"

namespace rumor {
namespace {

// Rng streams derived from the seed, so that shards never share draws with other seeded uses.
constexpr std::uint64_t kIidStream = 0x5348'4152'4400'0000;        // permutation for iid
constexpr std::uint64_t kDirichletStream = 0x5348'4152'4400'0001;  // class shuffles + proportions
constexpr std::uint64_t kShardShuffleStream = 0x5348'4152'4401'0000;  // + rank: final shuffle

constexpr const char* kValidSpecs =
    "expected \"iid\" or \"dirichlet:ALPHA\" with ALPHA a number > 0 (e.g. \"dirichlet:0.5\")";

void check_rank(int rank, int world) {
  if (world < 1) {
    throw ConfigError(detail::concat("world size ", world, " is invalid: expected world >= 1"));
  }
  if (rank < 0 || rank >= world) {
    throw ConfigError(detail::concat("rank ", rank, " is out of range for world size ", world,
                                     ": expected 0 <= rank < ", world));
  }
}

void check_alpha(double alpha) {
  if (!(alpha > 0.0) || !std::isfinite(alpha)) {
    throw ConfigError(detail::concat("dirichlet alpha ", alpha, " is invalid: ", kValidSpecs));
  }
}

std::vector<std::size_t> iid_shard(std::size_t n, int rank, int world, std::uint64_t seed) {
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  Rng rng = Rng::stream(seed, kIidStream);
  rng.shuffle(std::span<std::size_t>(order));
  const auto parts = static_cast<std::size_t>(world);
  const auto r = static_cast<std::size_t>(rank);
  const std::size_t base = n / parts;
  const std::size_t extra = n % parts;  // the first `extra` ranks get one more
  const std::size_t begin = r * base + std::min(r, extra);
  const std::size_t size = base + (r < extra ? 1 : 0);
  return {order.begin() + static_cast<std::ptrdiff_t>(begin),
          order.begin() + static_cast<std::ptrdiff_t>(begin + size)};
}

std::vector<std::size_t> dirichlet_shard(std::span<const std::int32_t> labels, int classes,
                                         double alpha, int rank, int world, std::uint64_t seed) {
  RUMOR_CHECK(classes >= 1, "classes is ", classes, ", expected >= 1");
  std::vector<std::vector<std::size_t>> members(static_cast<std::size_t>(classes));
  for (std::size_t i = 0; i < labels.size(); ++i) {
    RUMOR_CHECK(labels[i] >= 0 && labels[i] < classes, "label ", labels[i], " at index ", i,
                " is outside [0, ", classes, ")");
    members[static_cast<std::size_t>(labels[i])].push_back(i);
  }

  // Every rank replays the same draws for every class and keeps only its own cut, so the
  // shards of all ranks partition the data without any communication.
  Rng rng = Rng::stream(seed, kDirichletStream);
  std::vector<double> weights(static_cast<std::size_t>(world));
  std::vector<std::size_t> shard;
  for (auto& examples : members) {
    rng.shuffle(std::span<std::size_t>(examples));
    double sum = 0.0;
    for (double& w : weights) sum += (w = rng.gamma(alpha));
    const std::size_t n = examples.size();
    if (!(sum > 0.0) || !std::isfinite(sum)) {
      // Every draw underflowed (alpha ≈ 0): the limit of Dir(alpha) puts all mass on one rank.
      const std::uint64_t owner = rng.below(static_cast<std::uint64_t>(world));
      if (owner == static_cast<std::uint64_t>(rank)) {
        shard.insert(shard.end(), examples.begin(), examples.end());
      }
      continue;
    }
    // Rank k takes examples [floor(n·c_{k-1}), floor(n·c_k)) with c_k the cumulative share.
    double cumulative = 0.0;
    std::size_t begin = 0;
    for (int k = 0; k < world; ++k) {
      cumulative += weights[static_cast<std::size_t>(k)];
      std::size_t end = n;
      if (k + 1 < world) {
        end = std::min(
            n, static_cast<std::size_t>(std::floor(static_cast<double>(n) * (cumulative / sum))));
        end = std::max(end, begin);
      }
      if (k == rank) {
        shard.insert(shard.end(), examples.begin() + static_cast<std::ptrdiff_t>(begin),
                     examples.begin() + static_cast<std::ptrdiff_t>(end));
      }
      begin = end;
    }
  }
  Rng shuffler = Rng::stream(seed, kShardShuffleStream + static_cast<std::uint64_t>(rank));
  shuffler.shuffle(std::span<std::size_t>(shard));
  return shard;
}

}  // namespace

ShardSpec ShardSpec::parse(std::string_view text) {
  if (text == "iid") return ShardSpec{};
  constexpr std::string_view kPrefix = "dirichlet:";
  if (text.starts_with(kPrefix)) {
    const std::string_view number = text.substr(kPrefix.size());
    double alpha = 0.0;
    const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), alpha);
    if (ec == std::errc{} && end == number.data() + number.size() && alpha > 0.0 &&
        std::isfinite(alpha)) {
      return ShardSpec{Kind::kDirichlet, alpha};
    }
    throw ConfigError(detail::concat("shard spec \"", text, "\" is invalid: ALPHA \"", number,
                                     "\" is not a finite number > 0; ", kValidSpecs));
  }
  throw ConfigError(detail::concat("shard spec \"", text, "\" is invalid: ", kValidSpecs));
}

std::string ShardSpec::to_string() const {
  if (kind == Kind::kIid) return "iid";
  char text[64];
  const auto result = std::to_chars(text, text + sizeof text, alpha);  // shortest round-trip
  return "dirichlet:" + std::string(text, result.ptr);
}

std::vector<std::size_t> shard_indices(std::span<const std::int32_t> labels, int classes,
                                       const ShardSpec& spec, int rank, int world,
                                       std::uint64_t seed) {
  check_rank(rank, world);
  if (spec.kind == ShardSpec::Kind::kIid) return iid_shard(labels.size(), rank, world, seed);
  check_alpha(spec.alpha);
  return dirichlet_shard(labels, classes, spec.alpha, rank, world, seed);
}

}  // namespace rumor
