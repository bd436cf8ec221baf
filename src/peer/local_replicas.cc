#include "peer/local_replicas.h"

#include <CLI/CLI.hpp>

#include <set>

#include "core/error.h"
#include "kernels/cpu/cpu_local_group.h"

namespace rumor {
namespace {

constexpr int kMaxReplicas = 64;

std::string trimmed(const std::string& text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string::npos) return "";
  return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

std::vector<std::string> split_devices(const std::string& list) {
  std::vector<std::string> devices;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = list.find(',', start);
    devices.push_back(trimmed(list.substr(start, comma - start)));
    if (comma == std::string::npos) return devices;
    start = comma + 1;
  }
}

std::vector<Dataset> deal(const Dataset& shard, int replicas) {
  const std::size_t each = shard.count / static_cast<std::size_t>(replicas);
  std::vector<Dataset> slices;
  for (int r = 0; r < replicas; ++r) {
    std::vector<std::size_t> indices(each);
    for (std::size_t i = 0; i < each; ++i) indices[i] = i * replicas + r;
    slices.push_back(shard.subset(indices));
  }
  return slices;
}

}  // namespace

void add_local_replica_options(CLI::App& cmd, LocalReplicaArgs& args) {
  cmd.add_option("--devices", args.devices,
                 "Hierarchical node: one replica per listed GPU (e.g. cuda:0,cuda:1), kept "
                 "together by NCCL all-reduce; the node gossips as one peer");
  cmd.add_option("--local-replicas", args.replicas,
                 "Hierarchical node on the CPU: K replicas on threads, kept together by a "
                 "shared-memory all-reduce (default 1, or one per --devices entry)");
  cmd.add_option("--local-sync", args.sync,
                 "How the replicas of a node agree: gradients (all-reduce every step: "
                 "identical replicas) or params:H (average parameters every H steps)")
      ->capture_default_str();
}

std::vector<std::string> replica_devices(const std::string& device, const LocalReplicaArgs& args) {
  if (args.replicas < 0 || args.replicas > kMaxReplicas) {
    throw ConfigError("--local-replicas: must be in 1.." + std::to_string(kMaxReplicas) +
                      ", got " + std::to_string(args.replicas));
  }
  if (!args.devices.empty()) {
    const std::vector<std::string> devices = split_devices(args.devices);
    std::set<std::string> seen;
    for (const std::string& d : devices) {
      if (d.empty()) throw ConfigError("--devices: empty entry in '" + args.devices + "'");
      if (!seen.insert(d).second) {
        throw ConfigError("--devices: " + d + " is listed twice; give each replica its own " +
                          (d == "cpu" ? "entry, or use --local-replicas K on the CPU"
                                      : std::string("GPU")));
      }
    }
    if (args.replicas != 0 && args.replicas != static_cast<int>(devices.size())) {
      throw ConfigError("--local-replicas " + std::to_string(args.replicas) + " disagrees with " +
                        "--devices, which lists " + std::to_string(devices.size()) +
                        " devices; give one of them");
    }
    if (static_cast<int>(devices.size()) > kMaxReplicas) {
      throw ConfigError("--devices: at most " + std::to_string(kMaxReplicas) + " replicas");
    }
    return devices;
  }
  const int replicas = args.replicas == 0 ? 1 : args.replicas;
  if (replicas > 1 && device != "cpu") {
    throw ConfigError("--local-replicas " + std::to_string(replicas) + " on " + device +
                      ": replicas on GPUs need one GPU each; list them with --devices (e.g. "
                      "--devices cuda:0,cuda:1)");
  }
  return std::vector<std::string>(replicas, device);
}

LocalReplicas::LocalReplicas(const std::vector<std::string>& devices, int threads,
                             const TrainOptions& options, const Dataset& shard,
                             const Dataset& test, const Clock& clock, LocalSync sync) {
  const int k = static_cast<int>(devices.size());
  RUMOR_CHECK(k >= 1, "a node needs at least one replica");
  for (const std::string& device : devices) backends_.push_back(make_backend(device, threads));
  slices_ = deal(shard, k);
  if (k > 1 && slices_.front().count < static_cast<std::size_t>(options.batch)) {
    throw ConfigError("--local-replicas: the shard's " + std::to_string(shard.count) +
                      " examples give each of " + std::to_string(k) + " replicas " +
                      std::to_string(slices_.front().count) + ", fewer than --batch " +
                      std::to_string(options.batch));
  }
  std::vector<Backend*> members;
  std::vector<Trainer*> trainers;
  for (int r = 0; r < k; ++r) {
    TrainOptions replica = options;
    replica.evaluate = r == 0;  // the leader evaluates the parameters they share
    trainers_.push_back(
        std::make_unique<Trainer>(*backends_[r], replica, slices_[r], test, clock));
    members.push_back(backends_[r].get());
    trainers.push_back(trainers_.back().get());
  }
  // One replica has nothing to agree with, whatever its device: a group of one does nothing.
  local_group_ = k == 1 ? std::make_unique<CpuLocalGroup>(1) : make_local_group(members);
  group_ = std::make_unique<ReplicaGroup>(trainers, *local_group_, sync);
}

std::string LocalReplicas::description() const {
  if (size() == 1) return backends_.front()->name();
  std::string names;
  for (const auto& backend : backends_) names += (names.empty() ? "" : ", ") + backend->name();
  const LocalSync& sync = group_->sync();
  const std::string how = sync.kind == LocalSync::Kind::kGradients
                              ? "gradients all-reduced every step"
                              : "parameters averaged every " + std::to_string(sync.every) +
                                    " steps";
  return std::to_string(size()) + " replicas on " + names + "; " + how + " (" +
         local_group_->kind() + ")";
}

}  // namespace rumor
