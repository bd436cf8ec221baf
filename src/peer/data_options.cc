#include "peer/data_options.h"

#include <CLI/CLI.hpp>

#include "core/error.h"
#include "train/shard.h"

namespace rumor {

void add_data_options(CLI::App& command, std::string& data_dir, std::size_t& limit_test) {
  command.add_option("--data", data_dir, "Folder with the four Fashion-MNIST .gz files")
      ->default_str(kFashionMnistDir);
  command.add_option("--limit-test", limit_test,
                     "Evaluate on the first N test examples only (0 = all)")
      ->capture_default_str();
}

ShardedData load_sharded_data(const std::string& data_dir, const std::string& shard_spec,
                              int rank, int world, std::uint64_t seed, std::size_t limit_train,
                              std::size_t limit_test) {
  const ShardSpec spec = ShardSpec::parse(shard_spec);
  if (world < 1) throw ConfigError("--world: must be at least 1, got " + std::to_string(world));
  if (rank < 0 || rank >= world) {
    throw ConfigError("--rank: must be in 0.." + std::to_string(world - 1) + " for --world " +
                      std::to_string(world) + ", got " + std::to_string(rank));
  }
  TrainTestSplit split = load_fashion_mnist(data_dir.empty() ? kFashionMnistDir : data_dir);
  const auto indices =
      shard_indices(split.train.labels, split.train.classes, spec, rank, world, seed);
  ShardedData data{split.train.subset(indices), std::move(split.test)};
  if (limit_train > 0) data.train = data.train.head(limit_train);
  if (limit_test > 0) data.test = data.test.head(limit_test);
  return data;
}

}  // namespace rumor
