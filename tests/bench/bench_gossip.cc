// bench_gossip.cc — what the gossip engine costs and how fast it agrees, printed as two tables in
// which every figure is compared with a reference computed or measured in the same run:
//   1. rounds to consensus per rule and topology, against the rounds predicted by the spectral
//      gap of the topology's synchronous push-sum mixing matrix (computed here);
//   2. publish()+mix() throughput of a 2-peer push-sum cluster, against CpuBackend::axpby over
//      the same number of floats;
//   3. training samples/s per peer of N Trainers (threads, one per core by default) on 1/N
//      shards of Fashion-MNIST with gossip (push-sum, exponential; average, one-peer
//      exponential) against the same N Trainers without engines, each ratio paired with the
//      gossip-off run of the same repeat; with CPU compute (every core trains) and with
//      device-like compute (each step also idles 2 ms, as a host waits for a GPU: the case
//      where communication can hide behind compute).
//
// Usage: bench_gossip [--quick] [--training-peers N] [--only-training] [--repeats N]
//                     [--settings KEY,...]
//   --quick  4 peers, tiny buffers, one repetition: proves the program runs (a CI test); its
//            figures mean nothing.
//   --only-training  table 3 alone; --repeats N: its interleaved runs per row (default 5);
//   --settings: table 3's gossip rows to run (default all; gossip off always runs).
//
// Peers are GossipEngines over inproc ZeroMQ in this process (as tests/gossip/consensus_test.cc
// builds them), each with its own CpuBackend, all driven from the main thread.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <exception>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "core/rng.h"
#include "core/threads.h"
#include "gossip/topology.h"
#include "kernels/cpu/cpu_backend.h"
#include "net/zmq_transport.h"
#include "rumor/engine.h"
#include "tests/gossip/cluster.h"
#include "tests/gossip/training_cluster.h"
#include "train/dataset.h"
#include "train/shard.h"
#include "train/trainer.h"

namespace rumor {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string format(const char* fmt, double value) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, value);
  return buf;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t mid = v.size() / 2;
  return v.size() % 2 == 1 ? v[mid] : 0.5 * (v[mid - 1] + v[mid]);
}

// --- an in-process cluster (tests/gossip/cluster.h) ---

using testing_cluster::Cluster;
using testing_cluster::make_cluster;
using testing_cluster::undelivered;

// Blocks until every parameter message sent so far has been taken in (seen twice in a row:
// a reply may be sent right after its request is counted), or `limit` passes. Sleeps briefly
// between looks so the I/O threads get the cores. Returns whether it settled.
bool settle(const Cluster& cluster, std::chrono::milliseconds limit) {
  const auto deadline = Clock::now() + limit;
  int zero_seen = 0;
  while (Clock::now() < deadline) {
    zero_seen = undelivered(cluster) == 0 ? zero_seen + 1 : 0;
    if (zero_seen == 2) return true;
    std::this_thread::sleep_for(std::chrono::microseconds(20));
  }
  return false;
}

// --- 1. rounds to consensus vs the spectral gap ---

// The synchronous push-sum mixing matrix of `topology` on n peers (column-stochastic):
// w[j][i] = 1/(outdeg(i)+1) for i itself and each out-neighbour j of i.
std::vector<std::vector<double>> push_sum_matrix(const std::string& topology, int n) {
  const Topology t = Topology::parse(topology, n);
  std::vector<std::vector<double>> w(n, std::vector<double>(n, 0.0));
  for (int i = 0; i < n; ++i) {
    const std::vector<int> out = t.base_neighbours(i, 0);
    const double share = 1.0 / static_cast<double>(out.size() + 1);
    w[i][i] += share;
    for (int j : out) w[j][i] += share;
  }
  return w;
}

std::vector<double> multiply(const std::vector<std::vector<double>>& m,
                             const std::vector<double>& v) {
  std::vector<double> out(v.size(), 0.0);
  for (std::size_t i = 0; i < m.size(); ++i) {
    for (std::size_t j = 0; j < v.size(); ++j) out[i] += m[i][j] * v[j];
  }
  return out;
}

double norm(const std::vector<double>& v) {
  double s = 0.0;
  for (double x : v) s += x * x;
  return std::sqrt(s);
}

// Second-largest eigenvalue modulus of a column-stochastic w: the spectral radius of w deflated
// against its stationary vector π (w·π = π, Σπ = 1), D = w − π·1ᵀ. D may have complex
// eigenvalues (directed graphs), so the radius is taken as the mean growth rate of ‖Dᵏv‖ over
// the last half of 4000 power iterations (Gelfand's formula), not from a Rayleigh quotient.
double second_eigenvalue_modulus(const std::vector<std::vector<double>>& w) {
  const std::size_t n = w.size();
  std::vector<double> pi(n, 1.0 / static_cast<double>(n));
  for (int it = 0; it < 4000; ++it) pi = multiply(w, pi);
  std::vector<std::vector<double>> d = w;
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < n; ++j) d[i][j] -= pi[i];
  }
  Rng rng(11);
  std::vector<double> v(n);
  for (auto& x : v) x = 2.0 * rng.uniform() - 1.0;
  const int iterations = 4000;
  double log_growth = 0.0;
  for (int it = 0; it < iterations; ++it) {
    const double before = norm(v);
    v = multiply(d, v);
    const double after = norm(v);
    if (after < 1e-200 * before || after == 0.0) return 0.0;  // D nilpotent (complete graph)
    if (it >= iterations / 2) log_growth += std::log(after / before);
    for (auto& x : v) x /= after;
  }
  return std::exp(log_growth / (iterations - iterations / 2));
}

struct ConsensusRow {
  std::string rule, topology;
  int peers;
  double lambda2, predicted;
  long measured;  // -1: did not reach the tolerance within the cap
  double seconds;
  bool all_settled;
};

constexpr double kTolerance = 1e-4;
constexpr std::size_t kConsensusParams = 16;

// Runs synchronous rounds (every peer mix(), then every peer publish(), then wait until every
// message has been taken in) until max |x − mean| < kTolerance on every parameter.
ConsensusRow consensus_case(const std::string& rule, const std::string& topology, int n,
                            long max_rounds) {
  ConsensusRow row{rule, topology, n, 0.0, 0.0, -1, 0.0, true};
  const double spread0 = (n - 1) / 2.0;  // peer r at r: the farthest peers are (n−1)/2 away
  row.lambda2 = second_eigenvalue_modulus(push_sum_matrix(topology, n));
  row.predicted = row.lambda2 <= 0.0
                      ? 1.0
                      : std::max(1.0, std::ceil(std::log(kTolerance / spread0) /
                                                std::log(row.lambda2)));
  GossipConfig config;
  config.max_norm_ratio = 0;  // peers start at r = 0..N−1: far apart by design
  config.rule = rule;
  config.topology = topology;
  config.model = "bench-gossip";
  auto cluster = make_cluster(n, config,
                              "consensus-" + rule + "-" + topology + "-" + std::to_string(n),
                              kConsensusParams);
  const double mean = (n - 1) / 2.0;
  const auto max_error = [&] {
    double error = 0.0;
    for (const auto& p : cluster->params) {
      for (float v : p) error = std::max(error, std::abs(static_cast<double>(v) - mean));
    }
    return error;
  };
  const auto start = Clock::now();
  for (long round = 0; round < max_rounds; ++round) {
    for (auto& engine : cluster->engines) engine->mix();
    if (max_error() < kTolerance) {
      row.measured = round;
      break;
    }
    for (auto& engine : cluster->engines) engine->publish(round);
    if (!settle(*cluster, std::chrono::milliseconds(2000))) row.all_settled = false;
  }
  row.seconds = seconds_since(start);
  return row;
}

void print_consensus(const std::vector<ConsensusRow>& rows) {
  std::printf("%-16s %-12s %5s %8s %10s %10s %6s %9s\n", "rule", "topology", "peers",
              "lambda2", "predicted", "measured", "ratio", "time (s)");
  std::printf("%s\n", std::string(16 + 1 + 12 + 1 + 5 + 1 + 8 + 1 + 10 + 1 + 10 + 1 + 6 + 1 + 9,
                                   '-').c_str());
  for (const ConsensusRow& r : rows) {
    const std::string measured =
        r.measured < 0 ? "no conv." : std::to_string(r.measured) + (r.all_settled ? "" : "*");
    const std::string ratio = r.measured < 0 ? "-" : format("%.2f", r.measured / r.predicted);
    std::printf("%-16s %-12s %5d %8.4f %10.0f %10s %6s %9.2f\n", r.rule.c_str(),
                r.topology.c_str(), r.peers, r.lambda2, r.predicted, measured.c_str(),
                ratio.c_str(), r.seconds);
  }
}

// --- 2. publish()+mix() throughput vs axpby ---

struct ThroughputRow {
  std::string what, size;
  double seconds;
  std::string throughput, reference, ratio;
};

// `sender_thread`: rows for the engine's default (host parameters: publish() checksums and
// sends itself) or, with true, for a sender thread that does that after publish() returned.
void bench_mix(std::size_t n, const std::string& label, int reps, double rep_s, bool sender_thread,
               std::vector<ThroughputRow>& rows) {
  GossipConfig config;
  config.rule = "push-sum";
  config.topology = "complete";
  config.model = "bench-gossip";
  if (sender_thread) config.sender_thread = true;
  auto cluster = make_cluster(2, config,
                              "mix-" + std::to_string(n) + (sender_thread ? "-thread" : ""), n);
  GossipEngine& e0 = *cluster->engines[0];
  GossipEngine& e1 = *cluster->engines[1];

  CpuBackend backend(1);
  std::vector<float> x(n, 0.25f), y(n, 0.5f);
  std::vector<double> axpby_s, owner_s, cycle_s;
  bool settled = true;
  std::int64_t step = 0;
  const auto cycle = [&](bool record) {
    const auto t0 = Clock::now();
    e0.publish(step);
    const double publish0 = seconds_since(t0);
    e1.publish(step);
    if (!settle(*cluster, std::chrono::milliseconds(10000))) settled = false;
    const auto t1 = Clock::now();
    e0.mix();
    const double mix0 = seconds_since(t1);
    e1.mix();
    ++step;
    if (record) {
      owner_s.push_back(publish0 + mix0);
      cycle_s.push_back(seconds_since(t0) / 2.0);
    }
  };
  cycle(false);  // warm-up: connections, first-touch of every buffer
  cycle(false);
  for (int rep = 0; rep < reps; ++rep) {
    int calls = 0;
    const auto start = Clock::now();
    do {
      backend.axpby(n, 0.5f, x.data(), 0.5f, y.data());
      asm volatile("" : : : "memory");
      ++calls;
    } while (seconds_since(start) < rep_s);
    axpby_s.push_back(seconds_since(start) / calls);
    const auto cycles_start = Clock::now();
    do {
      cycle(true);
    } while (seconds_since(cycles_start) < rep_s);
  }
  const double bytes = 12.0 * static_cast<double>(n);  // axpby's read x, y + write y
  const double ref_s = median(axpby_s);
  const double ref_gbps = bytes / ref_s / 1e9;
  const std::string size = label + ", " + format("%.2f", 4.0 * n / 1e6) + " MB";
  if (!sender_thread) {
    rows.push_back({"CpuBackend::axpby (reference)", size, ref_s,
                    format("%.2f GB/s", ref_gbps), "-", "-"});
  }
  const std::string ref = "axpby " + format("%.2f GB/s", ref_gbps);
  const auto add = [&](const std::string& what, double s) {
    rows.push_back({what, size, s, format("%.2f GB/s", bytes / s / 1e9), ref,
                    format("%.3f", ref_s / s)});
  };
  const std::string how = sender_thread ? ", thread" : "";
  add("owner: publish()+mix()" + how, median(owner_s));
  add("cycle per peer" + how + (settled ? "" : " (unsettled!)"), median(cycle_s));
}

void print_throughput(const std::vector<ThroughputRow>& rows) {
  std::printf("%-30s %-30s %10s  %-11s %-16s %6s\n", "what", "size", "time (ms)",
              "GB/s-equiv", "reference", "ratio");
  std::printf("%s\n", std::string(30 + 1 + 30 + 1 + 10 + 2 + 11 + 1 + 16 + 1 + 6, '-').c_str());
  for (const ThroughputRow& r : rows) {
    std::printf("%-30s %-30s %10.3f  %-11s %-16s %6s\n", r.what.c_str(), r.size.c_str(),
                r.seconds * 1e3, r.throughput.c_str(), r.reference.c_str(), r.ratio.c_str());
  }
}

// --- 3. training with gossip on vs off ---

struct TrainingResult {
  std::vector<double> samples_per_second;  // per peer, training time only
};

// One gossip configuration of the training table: publish_every 0 = no gossip.
struct GossipSetting {
  std::string key;  // for --settings
  std::string name;
  int publish_every = 0;
  std::string rule = "push-sum";
  std::string topology = "exponential";
  std::optional<bool> sender_thread = std::nullopt;  // unset: the engine's choice (none for host parameters)
  // Device-like compute: after each step's compute the trainer waits kDeviceStep more, as a
  // host thread waits for a GPU, and its core is free meanwhile. Compared with gossip off run
  // the same way.
  bool device_like = false;
};

// The idle time a device-like step adds (about one CPU step of the MLP here). Fixed, unlike a
// wait as long as the step computed (rumor peer --slowdown): that would double whatever the
// gossip threads cost the CPU compute, which a device's own time does not feel.
constexpr std::chrono::microseconds kDeviceStep{2000};

// `peers` Trainers as threads, each on its iid shard, one epoch; unless `setting` is "off",
// each has a GossipEngine (its rule, topology and publishing interval) hooked around its steps.
TrainingResult train_peers(const TrainTestSplit& data, int peers, const GossipSetting& setting,
                           const std::string& tag) {
  const int publish_every = setting.publish_every;
  TrainOptions options;
  options.epochs = 1;
  options.evaluate = false;  // training alone: no peer's evaluation competes with the others
  GossipConfig config;
  config.model = options.model;
  config.rule = setting.rule;
  config.topology = setting.topology;
  config.publish_every = std::max(1, publish_every);
  config.sender_thread = setting.sender_thread;
  auto cluster = testing_cluster::make_training_cluster(data, peers, options, config, tag,
                                                        publish_every > 0);
  TrainingResult result;
  result.samples_per_second.resize(peers);
  std::vector<std::thread> threads;
  for (int r = 0; r < peers; ++r) {
    threads.emplace_back([&, r] {
      name_this_thread("trainer" + std::to_string(r));
      StepHooks hooks = cluster->hooks(r);
      if (setting.device_like) {  // mix(), compute, the device's time, publish()
        hooks.after = [publish = hooks.after](std::int64_t step) {
          std::this_thread::sleep_for(kDeviceStep);
          if (publish) publish(step);
        };
      }
      cluster->trainers[r]->run(
          [&](const Progress& p) {
            if (p.final) result.samples_per_second[r] = p.samples_per_second;
          },
          hooks);
    });
  }
  for (auto& t : threads) t.join();
  return result;
}

// The gossip settings of table 3 (gossip off comes first, always).
std::vector<GossipSetting> training_settings() {
  return {
      {"ps1", "push-sum, every 1", 1},
      {"ps2", "push-sum, every 2", 2},
      {"ps4", "push-sum, every 4", 4},
      {"ps8", "push-sum, every 8", 8},
      {"avg1", "average 1-peer, every 1", 1, "average", "one-peer-exponential"},
      {"avg2", "average 1-peer, every 2", 2, "average", "one-peer-exponential"},
      {"ps1-thread", "push-sum, every 1, thread", 1, "push-sum", "exponential", true},
      {"avg2-thread", "average 1-peer, 2, thread", 2, "average", "one-peer-exponential", true},
      {"avg2-device", "device-like: average, 2", 2, "average", "one-peer-exponential", true,
       true},
      {"ps1-device", "device-like: push-sum, 1", 1, "push-sum", "exponential", true, true},
  };
}

// Prints the table, or the reason there is none (no data set).
// `peers` trainers as threads: one per core by default. Per-peer samples/s is a figure of the
// gossip's cost when every trainer has a core; with more trainers than cores (--training-peers
// 4 here) it is also one of the scheduler, which lets some peers run ahead of others.
void bench_training(bool quick, int peers, int repeats, const std::set<std::string>& selected) {
  std::printf("\n3. Training, %d peers (threads) on 1/%d iid shards, 1 epoch, gossip on vs off\n\n",
              peers, peers);
  TrainTestSplit data;
  try {
    data = load_fashion_mnist();
  } catch (const std::exception& e) {
    std::printf("skipped: Fashion-MNIST not readable (%s)\n", e.what());
    return;
  }
  if (quick) data = {data.train.head(2048), data.test.head(512)};
  // Every configuration runs `repeats` times, interleaved (off, then each setting, off, ...), so
  // that drifting machine load hits them all alike; each ratio compares a run with gossip off's
  // run of the same repeat.
  std::vector<GossipSetting> configs = {{"off", "gossip off", 0}};
  for (const GossipSetting& setting : training_settings()) {
    if (!selected.empty() && !selected.contains(setting.key)) continue;
    if (setting.device_like && std::none_of(configs.begin(), configs.end(),
                                            [](const auto& c) { return c.device_like; })) {
      configs.push_back({"off-device", "device-like: gossip off", 0, "", "", std::nullopt, true});
    }
    configs.push_back(setting);
  }
  // Each row's reference: gossip off run the same way (device-like or not).
  std::vector<std::size_t> reference(configs.size(), 0);
  for (std::size_t c = 0; c < configs.size(); ++c) {
    for (std::size_t i = 0; i < configs.size(); ++i) {
      if (configs[i].publish_every == 0 && configs[i].device_like == configs[c].device_like) {
        reference[c] = i;
      }
    }
  }
  std::vector<std::vector<TrainingResult>> runs(configs.size());
  for (int rep = 0; rep < repeats; ++rep) {
    for (std::size_t c = 0; c < configs.size(); ++c) {
      runs[c].push_back(train_peers(data, peers, configs[c],
                                    "train-" + std::to_string(c) + "-" + std::to_string(rep)));
    }
  }
  const auto mean = [](const std::vector<double>& v) {
    double s = 0.0;
    for (double x : v) s += x;
    return s / static_cast<double>(v.size());
  };
  const auto sorted = [](std::vector<double> values) {
    std::sort(values.begin(), values.end());
    return values;
  };
  const auto median_of = [&](const std::vector<double>& values) {
    return sorted(values)[values.size() / 2];
  };
  const auto peer_rate = [&](const TrainingResult& r) { return mean(r.samples_per_second); };
  const auto slowest_peer = [](const TrainingResult& r) {
    return *std::min_element(r.samples_per_second.begin(), r.samples_per_second.end());
  };
  // A figure of every run of configuration c, and its ratio to gossip off's run of the same
  // repeat (a second or two earlier): a pair shares the machine's load of that moment, which
  // on a VM drifts by more than the gossip costs from one repeat to the next.
  const auto figures = [&](std::size_t c, const auto& figure) {
    std::vector<double> values;
    for (const TrainingResult& r : runs[c]) values.push_back(figure(r));
    return values;
  };
  const auto paired_ratios = [&](std::size_t c, const auto& figure) {
    std::vector<double> ratios;
    for (int rep = 0; rep < repeats; ++rep) {
      ratios.push_back(figure(runs[c][rep]) / figure(runs[reference[c]][rep]));
    }
    return ratios;
  };
  std::printf("%-26s %10s %10s %7s %13s %7s\n", "run", "samples/s", "slowest", "ratio",
              "ratio range", "slowest");
  std::printf("%s\n", std::string(26 + 2 * 11 + 8 + 14 + 8, '-').c_str());
  for (std::size_t c = 0; c < configs.size(); ++c) {
    const double rate = median_of(figures(c, peer_rate));
    const double slowest = median_of(figures(c, slowest_peer));
    std::string ratio = "-", range = "-", slowest_ratio = "-";
    if (configs[c].publish_every > 0) {
      const std::vector<double> ratios = sorted(paired_ratios(c, peer_rate));
      ratio = format("%.3f", ratios[ratios.size() / 2]);
      range = format("%.3f", ratios.front()) + "-" + format("%.3f", ratios.back());
      slowest_ratio = format("%.3f", median_of(paired_ratios(c, slowest_peer)));
    }
    std::printf("%-26s %10.0f %10.0f %7s %13s %7s\n", configs[c].name.c_str(), rate, slowest,
                ratio.c_str(), range.c_str(), slowest_ratio.c_str());
  }
  std::printf(
      "\nsamples/s: per peer, the mean of the peers' own rates (slowest: one peer's), training\n"
      "  time only (the Trainer's own figure, the step hooks mix() and publish() included; no\n"
      "  evaluation); the median over %d interleaved runs. All %d peers run at once as\n"
      "  threads, with gossip or without, on %u hardware threads.\n"
      "ratio: a run's samples/s against gossip off's run of the same repeat (each repeat runs\n"
      "  gossip off first, then every row once); the median and the range over the %d repeats.\n"
      "  slowest: the same for the slowest peer, which is when the cluster's epoch ends. With\n"
      "  more trainers than cores the scheduler lets some peers run ahead while others wait,\n"
      "  more so without gossip: that lifts gossip off's mean, not its slowest peer. With a\n"
      "  core per trainer the two ratios agree.\n"
      "  Gossip: push-sum on the exponential graph (the library's default: 2 messages per\n"
      "  publish) or the average rule on the one-peer exponential graph (1 message; every 2\n"
      "  steps is rumor peer's default), publishing every N steps; mix() before every step\n"
      "  applies whatever arrived; publish() checksums and sends itself (the engine's default\n"
      "  for parameters in host memory). 'thread': GossipConfig::sender_thread true (publish()\n"
      "  hands that to the engine's sender thread, the default for device memory).\n"
      "device-like: after each step's compute the trainer's thread waits %lld us more, as a\n"
      "  host thread waits for a GPU step, its core free meanwhile; the engine runs as for\n"
      "  device parameters (sender thread), and the reference is gossip off run the same way.\n"
      "  This is the case 'communication hidden behind compute' is about.\n",
      repeats, peers, std::thread::hardware_concurrency(), repeats,
      static_cast<long long>(kDeviceStep.count()));
}

constexpr const char* kUsage =
    "bench_gossip [--quick] [--training-peers N] [--only-training] [--repeats N]\n"
    "             [--settings KEY,KEY...]";

int usage_error(const std::string& message) {
  std::fprintf(stderr, "bench_gossip: %s\nusage: %s\n", message.c_str(), kUsage);
  return 2;
}

int run(int argc, char** argv) {
  bool quick = false;
  bool only_training = false;
  int training_peers = std::max(2, static_cast<int>(std::thread::hardware_concurrency()));
  int repeats = 5;
  std::set<std::string> settings;  // empty: all
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--quick") {
      quick = true;
    } else if (arg == "--training-peers" && i + 1 < argc) {
      const std::string value = argv[++i];
      training_peers = std::atoi(value.c_str());
      if (training_peers < 2 || training_peers > 64) {
        return usage_error("--training-peers " + value + ": expected 2..64");
      }
    } else if (arg == "--only-training") {
      only_training = true;
    } else if (arg == "--repeats" && i + 1 < argc) {
      const std::string value = argv[++i];
      repeats = std::atoi(value.c_str());
      if (repeats < 1 || repeats > 99) {
        return usage_error("--repeats " + value + ": expected 1..99");
      }
    } else if (arg == "--settings" && i + 1 < argc) {
      std::stringstream list(argv[++i]);
      for (std::string key; std::getline(list, key, ',');) {
        const auto all = training_settings();
        if (std::none_of(all.begin(), all.end(), [&](const auto& s) { return s.key == key; })) {
          std::string keys;
          for (const auto& s : all) keys += (keys.empty() ? "" : ", ") + s.key;
          return usage_error("--settings: no setting '" + key + "' (valid: " + keys + ")");
        }
        settings.insert(key);
      }
    } else if (arg == "-h" || arg == "--help") {
      std::printf("usage: %s\n"
                  "  --training-peers N  trainers in table 3 (default: one per core, at least 2)\n"
                  "  --only-training     table 3 alone\n"
                  "  --repeats N         interleaved runs per row of table 3 (default 5)\n"
                  "  --settings KEYS     table 3's rows besides gossip off (default all): ps1, ps2,\n"
                  "                      ps4, ps8 (push-sum every N), avg1, avg2 (average, one\n"
                  "                      peer, every N), ps1-thread, avg2-thread (with a sender\n"
                  "                      thread), avg2-device, ps1-device (device-like compute:\n"
                  "                      each step also idles 2 ms)\n",
                  kUsage);
      return 0;
    } else {
      return usage_error("unknown argument '" + std::string(arg) + "'");
    }
  }
  std::printf("bench_gossip: GossipEngines over inproc ZeroMQ, CpuBackend(1) each, %u hardware "
              "threads%s\n",
              std::thread::hardware_concurrency(),
              quick ? "; QUICK (figures are meaningless)" : "");
  const auto start = Clock::now();
  if (quick) repeats = 1;
  if (only_training) {
    bench_training(quick, training_peers, repeats, settings);
    std::printf("\nTotal run %.1f s.\n", seconds_since(start));
    return 0;
  }

  const std::vector<int> sizes = quick ? std::vector<int>{4} : std::vector<int>{8, 16};
  const long max_rounds = quick ? 400 : 5000;
  std::vector<ConsensusRow> consensus;
  for (const char* rule : {"push-sum", "robust-push-sum", "pairwise"}) {
    for (int n : sizes) {
      for (const char* topology : {"ring", "torus", "exponential", "complete"}) {
        consensus.push_back(consensus_case(rule, topology, n, max_rounds));
      }
    }
  }
  std::printf("\n1. Rounds to consensus (max |x - mean| < %g, peer r starts at r, %zu params)\n\n",
              kTolerance, kConsensusParams);
  print_consensus(consensus);
  std::printf(
      "\nround: every peer mix(), then every peer publish(), then wait until every message sent\n"
      "  has been taken in by its receiver (synchronous rounds driven from one thread; free-\n"
      "  running peers as in training deliver late or early and take a different number).\n"
      "measured: rounds until every parameter of every peer is within %g of the exact mean.\n"
      "predicted: ceil(ln(%g / ((N-1)/2)) / ln(lambda2)); lambda2 = second-largest eigenvalue\n"
      "  modulus of the synchronous push-sum matrix W (W[j][i] = 1/(outdeg(i)+1) for i and each\n"
      "  out-neighbour j), computed here by power iteration on W deflated against its\n"
      "  stationary vector. It is an asymptotic rate: the constant in front (how much of the\n"
      "  start lies along the slowest eigenvectors) is not modelled, so ratios near 1 mean\n"
      "  'as fast as the graph allows', not an exact match. push-sum realises W exactly;\n"
      "  robust-push-sum is the same mixing with running totals on the wire. pairwise is a\n"
      "  different matrix (one exchange per peer per round, requests only to higher ranks, at\n"
      "  most one outstanding, deferred while busy), so its ratio compares it with push-sum's\n"
      "  rate on the same graph, not with its own prediction (on 'complete', lambda2 = 0:\n"
      "  push-sum averages in one round, pairwise needs about log2(N) rounds of exchanges).\n"
      "  * : some round did not settle within 2 s (a reply still in flight); 'no conv.': not\n"
      "  within %ld rounds.\n",
      kTolerance, kTolerance, max_rounds);

  std::vector<ThroughputRow> throughput;
  const int reps = quick ? 1 : 9;
  const double rep_s = quick ? 0.0 : 0.2;
  if (quick) {
    bench_mix(1001, "1001 floats", reps, rep_s, false, throughput);
  } else {
    for (const std::size_t n : {std::size_t{235'146}, std::size_t{10'000'000}}) {
      const std::string label = n == 235'146 ? "235146 floats (MLP)" : "10M floats";
      bench_mix(n, label, reps, rep_s, false, throughput);
      bench_mix(n, label, reps, rep_s, true, throughput);
    }
  }
  std::printf("\n2. publish()+mix() of a 2-peer push-sum cluster vs axpby on the same n\n\n");
  print_throughput(throughput);
  std::printf(
      "\nowner: what peer 0's training thread spends in publish() (copy the parameters into a\n"
      "  pooled snapshot, the rule stamps its message, the checksum pass also sums the squares,\n"
      "  the message goes to the transport) plus mix() (fold the accumulated contribution into\n"
      "  the parameters in one pass). ', thread': GossipConfig::sender_thread true, the default\n"
      "  for device memory: the engine's sender thread checksums and sends after publish()\n"
      "  returned, so the owner pays the copy and the mix only.\n"
      "cycle per peer: half of one full cycle of both peers driven from one thread: both\n"
      "  publish, wait until the messages are sent and the I/O threads have received, validated\n"
      "  (checksum, finiteness and the norm in one pass) and accumulated both, both mix. It\n"
      "  includes the inproc transfer and the waits.\n"
      "GB/s-equiv: 12 bytes per float (what axpby reads and writes) / time, so ratio =\n"
      "  axpby time / gossip time (1.0 = gossip costs one axpby; 2 cores shared by the owner,\n"
      "  the engines' and transports' I/O threads and ZeroMQ's). The MLP-sized axpby runs\n"
      "  from cache (0.94 MB per buffer), the 10M one from memory.\n"
      "time: median over %d repetitions of ~%.0f ms of back-to-back calls or cycles, axpby and\n"
      "  cycles alternating.\n",
      reps, rep_s * 1e3);
  bench_training(quick, training_peers, repeats, settings);
  std::printf("\nTotal run %.1f s.\n", seconds_since(start));
  return 0;
}

}  // namespace
}  // namespace rumor

int main(int argc, char** argv) { return rumor::run(argc, argv); }
