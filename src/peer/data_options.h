// data_options.h — the dataset options shared by `rumor` subcommands (--data, --limit-test)
// and loading the shard a replica trains on.
#pragma once

#include <cstdint>
#include <string>

#include "train/dataset.h"

namespace CLI {
class App;
}

namespace rumor {

// Adds --data DIR (default: Debian's Fashion-MNIST) and --limit-test N to `command`.
void add_data_options(CLI::App& command, std::string& data_dir, std::size_t& limit_test);

struct ShardedData {
  Dataset train;  // this rank's shard (optionally cut to its first limit_train examples)
  Dataset test;   // the test set (optionally cut to its first limit_test examples)
};

// Loads Fashion-MNIST from `data_dir` (empty = default folder) and cuts out `rank`'s shard
// of `world` by `shard_spec` ("iid" or "dirichlet:ALPHA"). limit_* of 0 mean no limit.
// Throws ConfigError for bad shard/rank/world values, DataError for bad files.
ShardedData load_sharded_data(const std::string& data_dir, const std::string& shard_spec,
                              int rank, int world, std::uint64_t seed, std::size_t limit_train,
                              std::size_t limit_test);

}  // namespace rumor
