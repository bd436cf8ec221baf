// bench_failure_detector.cc — how fast the failure detector declares a silent peer dead, and how
// often it doubts a live one, per setting, printed in units of the heartbeat interval (the
// reference: 100 ms, the engine's default):
//   1. k ∈ {2, 4, 8, 16} × floor ∈ {100, 250, 500, 1000} ms, dead after 2 timeouts (ceiling
//      10 s, initial 2 s throughout);
//   2. dead_factor ∈ {1.5, 2, 3} at the point chosen from table 1: the fastest median detection
//      with no false death and at most kRareSuspicions suspicions per peer-minute.
//
// The cluster: 8 GossipEngines over inproc ZeroMQ in this process, every transport behind the
// fault decorator with 0–50 ms of uniform jitter on every message, and every peer "training":
// an owner thread that keeps a core busy for kStep per step (then sleeps, with --duty below 1,
// so that it computes that fraction of the time), then mix() and publish() (the `average` rule
// on the exponential graph, kParams floats). The engines' I/O threads compete for CPU with the
// owners as they do next to a trainer: 8 owners at duty 1 keep 4 threads busy per core on
// 2 cores; at duty 0.25 they use both cores, on average, without oversubscribing them.
//
// Every setting is measured on the same traffic (a paired comparison: this machine's load
// drifts, and stalls come in bursts): between each engine and its transport sits a tap that
// feeds every message the engine receives into one FailureDetector per setting and updates them
// once per heartbeat interval on the engine's I/O thread, as the engine does its own. One slice:
//   (b) after a warm-up, --seconds with nobody failing: every alive → suspect/dead transition
//       is a false suspicion, every → dead a false death;
//   (a) then one peer is cut off in both directions (the decorator's partition: a crash, seen
//       from the network); detection time = until every other peer's detector says dead.
// Victims rotate over the ranks, one per slice. The engines themselves run the default
// detector; their own counts are printed as a check of the tap.
//
// Each setting runs twice: as the engine runs it, crediting stalls of the observer's own I/O
// thread (gossip/failure_detector.h), and without that credit, whose false deaths are the last
// column. All peers share this process: a stall of the whole process (seen here on this VM)
// silences every peer and every observer at once, so with the credit nobody counts it; across
// hosts, the others would rightly suspect the stalled peer.
//
// Usage: bench_failure_detector [--quick] [--slices N] [--seconds S] [--duty D]
//   --slices N   slices (victims), default 8;  --seconds S  watched per slice, default 60
//   --duty D     fraction of the time each owner computes, in (0, 1], default 0.25
//   --quick      one short slice: proves the program runs (a CI test); figures mean nothing.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>
#include <zmq.hpp>

#include "core/clock.h"
#include "core/log.h"
#include "gossip/failure_detector.h"
#include "kernels/cpu/cpu_backend.h"
#include "net/faulty_transport.h"
#include "net/zmq_transport.h"
#include "rumor/engine.h"
#include "tests/bench/detector_tap.h"
#include "tests/gossip/cluster.h"

namespace rumor {
namespace {

using std::chrono::milliseconds;
using Time = Clock::TimePoint;

constexpr int kPeers = 8;
constexpr std::size_t kParams = 16'384;        // 64 KB per message
constexpr milliseconds kHeartbeat{100};        // the reference unit of every time printed
constexpr milliseconds kJitter{50};
constexpr milliseconds kStep{5};               // busy compute per owner step
constexpr milliseconds kDetectionCap{30'000};  // a slice stops waiting after this
constexpr double kRareSuspicions = 0.5;        // per peer-minute, for the automatic choice

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string one, five, fifteen;
  in >> one >> five >> fifteen;
  return in ? one + " " + five + " " + fifteen : "unknown";
}

// Every k × floor × dead_factor with pauses credited, then the same without (second half).
std::vector<Setting> all_settings() {
  std::vector<Setting> settings;
  for (bool credit : {true, false}) {
    for (double k : {2.0, 4.0, 8.0, 16.0}) {
      for (int floor : {100, 250, 500, 1000}) {
        for (double dead_factor : {1.5, 2.0, 3.0}) {
          FailureDetectorConfig c;
          c.k = k;
          c.floor = milliseconds(floor);
          c.dead_factor = dead_factor;
          settings.push_back({c, credit});
        }
      }
    }
  }
  return settings;
}

// 8 engines (default detector) over inproc ZeroMQ → fault decorator (jitter) → tap, each with a
// busy owner thread.
struct Cluster {
  std::shared_ptr<zmq::context_t> context = std::make_shared<zmq::context_t>(1);
  std::vector<FaultyTransport*> faulty;
  std::vector<TapTransport*> taps;
  std::vector<std::unique_ptr<CpuBackend>> backends;
  std::vector<std::vector<float>> params;
  std::vector<std::unique_ptr<GossipEngine>> engines;
  std::atomic<bool> stop{false};
  std::vector<std::thread> owners;  // joined by the destructor before the engines go

  Cluster(int slice, const std::vector<Setting>& settings, double duty) {
    GossipConfig config;
    config.model = "bench-failure-detector";
    config.heartbeat_interval = kHeartbeat;
    // Not push-sum: publishing every 5 ms into 0-50 ms of jitter, its messages turned
    // non-finite here (the transport drops them), leaving only heartbeats. The detector cares
    // only about the traffic: one message per neighbour per step either way.
    config.rule = "average";
    FaultConfig faults;
    faults.jitter = kJitter;
    std::vector<std::unique_ptr<Transport>> transports;
    std::vector<std::string> endpoints;
    for (int r = 0; r < kPeers; ++r) {
      const std::string bind = "inproc://fd-" + std::to_string(slice) + "-" + std::to_string(r);
      auto faulty_transport = std::make_unique<FaultyTransport>(
          std::make_unique<ZmqTransport>(testing_cluster::peer_transport_options(
              r, kPeers, config, kParams, bind, context)),
          faults, static_cast<std::uint64_t>(slice * kPeers + r + 1));
      faulty.push_back(faulty_transport.get());
      auto tap = std::make_unique<TapTransport>(std::move(faulty_transport), settings,
                                                kHeartbeat);
      taps.push_back(tap.get());
      endpoints.push_back(tap->endpoint());
      transports.push_back(std::move(tap));
      backends.push_back(std::make_unique<CpuBackend>(1));
      params.emplace_back(kParams, static_cast<float>(r));
    }
    for (int r = 0; r < kPeers; ++r) {
      engines.push_back(std::make_unique<GossipEngine>(config, std::move(transports[r]),
                                                       endpoints, r, *backends[r],
                                                       params[r].data(), kParams));
    }
    for (int r = 0; r < kPeers; ++r) {
      owners.emplace_back([this, r, duty] {
        const auto idle = std::chrono::duration<double, std::milli>(kStep) * (1.0 / duty - 1.0);
        for (std::int64_t step = 0; !stop.load(); ++step) {
          const auto busy_until = std::chrono::steady_clock::now() + kStep;
          while (std::chrono::steady_clock::now() < busy_until) {
          }
          if (duty < 1.0) std::this_thread::sleep_for(idle);
          engines[r]->mix();
          engines[r]->publish(step);
        }
      });
    }
  }
  ~Cluster() {
    stop.store(true);
    for (auto& t : owners) t.join();
    engines.clear();  // before the context and the buffers
  }

  // Cuts `victim` off in both directions.
  void cut_off(int victim) {
    FaultConfig faults = faulty[victim]->config();
    for (int r = 0; r < kPeers; ++r) {
      if (r != victim) faults.partitioned.insert(static_cast<std::uint32_t>(r));
    }
    faulty[victim]->set_config(faults);
  }
  // Counts of the engines' own detectors: suspicions, deaths.
  std::pair<std::uint64_t, std::uint64_t> engine_counts() const {
    std::uint64_t suspicions = 0, deaths = 0;
    for (const auto& engine : engines) {
      for (const GossipPeerStats& p : engine->stats().peers) {
        suspicions += p.suspected;
        deaths += p.declared_dead;
      }
    }
    return {suspicions, deaths};
  }
};

struct Tally {
  std::uint64_t suspicions = 0, deaths = 0;
  std::vector<double> detection_ms;  // per slice; -1: not detected within the cap
};

struct Run {
  std::vector<Tally> tallies;  // per setting
  double peer_minutes = 0.0;
  std::uint64_t engine_suspicions = 0, engine_deaths = 0;
  std::uint64_t pauses = 0;  // I/O-thread stalls credited, all engines
};

// One slice (see the file comment); adds to `run`.
void run_slice(const std::vector<Setting>& settings, int slice, double duty,
               milliseconds warm_up, double watch_s, Run& run) {
  Cluster cluster(slice, settings, duty);
  std::this_thread::sleep_for(warm_up);

  // (b) nobody fails: every suspicion and death is false.
  const auto snapshot = [&] {
    std::vector<std::pair<std::uint64_t, std::uint64_t>> per_setting(settings.size());
    for (std::size_t s = 0; s < settings.size(); ++s) {
      for (const TapTransport* tap : cluster.taps) {
        const auto [suspicions, deaths] = tap->counts(s);
        per_setting[s].first += suspicions;
        per_setting[s].second += deaths;
      }
    }
    return per_setting;
  };
  const auto pauses = [&] {
    std::uint64_t sum = 0;
    for (const TapTransport* tap : cluster.taps) sum += tap->pauses();
    return sum;
  };
  const auto before = snapshot();
  const auto pauses_before = pauses();
  const auto engine_before = cluster.engine_counts();
  const auto watch_start = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(watch_s));
  const auto after = snapshot();
  run.pauses += pauses() - pauses_before;
  const auto engine_after = cluster.engine_counts();
  run.peer_minutes += kPeers *
      std::chrono::duration<double>(std::chrono::steady_clock::now() - watch_start).count() / 60;
  for (std::size_t s = 0; s < settings.size(); ++s) {
    run.tallies[s].suspicions += after[s].first - before[s].first;
    run.tallies[s].deaths += after[s].second - before[s].second;
  }
  run.engine_suspicions += engine_after.first - engine_before.first;
  run.engine_deaths += engine_after.second - engine_before.second;

  // (a) cut the victim off; wait until every setting's detectors all say dead (or the cap).
  const int victim = slice % kPeers;
  const Time cut = SteadyClock().now();
  cluster.cut_off(victim);
  std::vector<double> detected(settings.size(), -1.0);
  while (SteadyClock().now() - cut < kDetectionCap &&
         std::count(detected.begin(), detected.end(), -1.0) > 0) {
    std::this_thread::sleep_for(kHeartbeat / 4);
    for (std::size_t s = 0; s < settings.size(); ++s) {
      if (detected[s] >= 0) continue;
      double slowest = 0.0;
      for (int r = 0; r < kPeers && slowest >= 0; ++r) {
        if (r == victim) continue;
        const auto since = cluster.taps[r]->dead_since(s, victim);
        slowest = !since ? -1.0
                         : std::max(slowest, std::chrono::duration<double, std::milli>(
                                                 std::max(*since, cut) - cut).count());
      }
      detected[s] = slowest;
    }
  }
  for (std::size_t s = 0; s < settings.size(); ++s) {
    run.tallies[s].detection_ms.push_back(detected[s]);
  }
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t mid = v.size() / 2;
  return v.size() % 2 == 1 ? v[mid] : 0.5 * (v[mid - 1] + v[mid]);
}

bool all_detected(const Tally& t) {
  return std::none_of(t.detection_ms.begin(), t.detection_ms.end(),
                      [](double ms) { return ms < 0; });
}

double rate(std::uint64_t count, const Run& run) {
  return static_cast<double>(count) / run.peer_minutes;
}

// One row per index in `rows` (settings with pauses credited); the last column is the false
// deaths of the same setting without the credit (its twin in the second half).
void print_rows(const std::vector<Setting>& settings, const Run& run,
                const std::vector<std::size_t>& rows, std::size_t chosen) {
  const double hb = static_cast<double>(kHeartbeat.count());
  std::printf("%5s %6s %5s | %8s %8s %8s | %10s %7s | %9s %9s | %10s\n", "k", "floor", "dead",
              "detect", "detect", "detect", "suspicions", "deaths", "susp per", "deaths per",
              "deaths");
  std::printf("%5s %6s %5s | %8s %8s %8s | %10s %7s | %9s %9s | %10s\n", "", "(hb)", "(x)",
              "med (hb)", "max (hb)", "med (ms)", "(count)", "(count)", "peer-min", "peer-min",
              "no credit");
  std::printf("%s\n", std::string(105, '-').c_str());
  for (std::size_t s : rows) {
    const FailureDetectorConfig& c = settings[s].config;
    const Tally& t = run.tallies[s];
    const Tally& plain = run.tallies[s + settings.size() / 2];
    const double med = median(t.detection_ms);
    const double max = *std::max_element(t.detection_ms.begin(), t.detection_ms.end());
    char med_hb[16] = "miss", max_hb[16] = "miss", med_ms[16] = "miss";
    if (med >= 0) std::snprintf(med_hb, sizeof med_hb, "%.2f", med / hb);
    if (med >= 0) std::snprintf(med_ms, sizeof med_ms, "%.0f", med);
    if (all_detected(t)) std::snprintf(max_hb, sizeof max_hb, "%.2f", max / hb);
    std::printf("%5g %6.1f %5g | %8s %8s %8s | %10llu %7llu | %9.2f %9.2f | %10llu%s\n", c.k,
                static_cast<double>(c.floor.count()) / hb, c.dead_factor, med_hb, max_hb,
                med_ms, static_cast<unsigned long long>(t.suspicions),
                static_cast<unsigned long long>(t.deaths), rate(t.suspicions, run),
                rate(t.deaths, run), static_cast<unsigned long long>(plain.deaths),
                s == chosen ? "  <-" : "");
  }
}

// Among settings with pauses credited and dead_factor 2: the fastest median detection with no
// false death and rare suspicions (second: true); when none qualifies, the fewest false
// deaths, then suspicions (second: false).
std::pair<std::size_t, bool> choose(const std::vector<Setting>& settings, const Run& run) {
  std::optional<std::size_t> best, fallback;
  for (std::size_t s = 0; s < settings.size(); ++s) {
    if (!settings[s].credit_pauses || settings[s].config.dead_factor != 2.0) continue;
    const Tally& t = run.tallies[s];
    const bool fits = all_detected(t) && t.deaths == 0 &&
                      rate(t.suspicions, run) <= kRareSuspicions;
    // <=: a tie (the floor decides) goes to the larger k, more tolerant at the same speed.
    if (fits && (!best || median(t.detection_ms) <=
                              median(run.tallies[*best].detection_ms))) {
      best = s;
    }
    const auto key = [&](std::size_t i) {
      return std::make_pair(run.tallies[i].deaths, run.tallies[i].suspicions);
    };
    if (!fallback || key(s) <= key(*fallback)) fallback = s;
  }
  return best ? std::make_pair(*best, true) : std::make_pair(*fallback, false);
}

int usage_error(const std::string& message) {
  std::fprintf(stderr,
               "bench_failure_detector: %s\n"
               "usage: bench_failure_detector [--quick] [--slices N] [--seconds S] "
               "[--duty D]\n",
               message.c_str());
  return 2;
}

int run(int argc, char** argv) {
  bool quick = false;
  int slices = 8;
  double watch_s = 60.0;
  double duty = 0.25;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--quick") {
      quick = true;
    } else if (arg == "--slices" && has_value) {
      slices = std::atoi(argv[++i]);
      if (slices < 1) return usage_error("--slices must be at least 1");
    } else if (arg == "--seconds" && has_value) {
      watch_s = std::atof(argv[++i]);
      if (!(watch_s > 0)) return usage_error("--seconds must be positive");
    } else if (arg == "--duty" && has_value) {
      duty = std::atof(argv[++i]);
      if (!(duty > 0 && duty <= 1)) return usage_error("--duty must be in (0, 1]");
    } else if (arg == "-h" || arg == "--help") {
      std::printf("usage: bench_failure_detector [--quick] [--slices N] [--seconds S] "
                  "[--duty D]\n");
      return 0;
    } else {
      return usage_error("unknown or incomplete argument '" + std::string(arg) + "'");
    }
  }
  set_log_level(LogLevel::kWarn);  // transitions are counted, not logged
  const milliseconds warm_up = quick ? milliseconds(600) : milliseconds(3000);
  if (quick) {
    slices = 1;
    watch_s = 0.5;
  }
  std::printf("bench_failure_detector: %d GossipEngines over inproc ZeroMQ, jitter 0-%lld ms, "
              "owners busy %lld ms per step at duty %g, %u hardware threads, load average "
              "%s%s\n",
              kPeers, static_cast<long long>(kJitter.count()),
              static_cast<long long>(kStep.count()), duty, std::thread::hardware_concurrency(),
              load_average().c_str(), quick ? "; QUICK (figures are meaningless)" : "");
  const auto start = std::chrono::steady_clock::now();
  const std::vector<Setting> settings = all_settings();
  Run run{std::vector<Tally>(settings.size()), 0.0, 0, 0, 0};
  for (int slice = 0; slice < slices; ++slice) {
    run_slice(settings, slice, duty, warm_up, watch_s, run);
    std::fprintf(stderr, "bench_failure_detector: slice %d/%d done, load average %s\n",
                 slice + 1, slices, load_average().c_str());
  }

  const auto [chosen, qualified] = choose(settings, run);
  const FailureDetectorConfig& at = settings[chosen].config;
  std::vector<std::size_t> grid, factors;
  for (std::size_t s = 0; s < settings.size() / 2; ++s) {  // pauses credited
    const FailureDetectorConfig& c = settings[s].config;
    if (c.dead_factor == 2.0) grid.push_back(s);
    if (c.k == at.k && c.floor == at.floor) factors.push_back(s);
  }
  std::printf("\n1. k x floor, dead after 2 timeouts (ceiling 10 s, initial 2 s)\n\n");
  print_rows(settings, run, grid, chosen);
  std::printf("\n2. dead_factor at k = %g, floor = %lld ms\n\n", at.k,
              static_cast<long long>(at.floor.count()));
  print_rows(settings, run, factors, settings.size());
  std::vector<std::size_t> safe;  // every setting without a false death, fastest first
  for (std::size_t s = 0; s < settings.size() / 2; ++s) {
    if (run.tallies[s].deaths == 0 && all_detected(run.tallies[s])) safe.push_back(s);
  }
  std::sort(safe.begin(), safe.end(), [&](std::size_t a, std::size_t b) {
    return median(run.tallies[a].detection_ms) < median(run.tallies[b].detection_ms);
  });
  safe.resize(std::min<std::size_t>(safe.size(), 8));
  std::printf("\n3. the fastest settings without a false death (of all k x floor x dead)\n\n");
  print_rows(settings, run, safe, settings.size());
  const FailureDetectorConfig defaults;
  std::printf(
      "\nhb: the heartbeat interval, %lld ms (any message also counts as a heartbeat).\n"
      "detect: from cutting one peer off (both directions) until all %d others' detectors say\n"
      "  dead; median and max over %d slices, one victim each ('miss': not within %lld s).\n"
      "  Detectors are updated once per heartbeat interval.\n"
      "suspicions, deaths: alive -> suspect/dead and -> dead transitions while nobody failed,\n"
      "  summed over the %d peers' detectors (each watching %d others): %d slices x %g s after\n"
      "  a %.1f s warm-up = %.1f peer-minutes. Per peer-minute: per peer watching the others\n"
      "  for one minute.\n"
      "no credit: false deaths of the same setting without crediting the observer's own\n"
      "  stalls (its engine's I/O thread not running for over 2 heartbeat intervals: %llu such\n"
      "  stalls credited in all).\n"
      "<-: the fastest median detection with no false death and at most %.1f suspicions per\n"
      "  peer-minute%s.\n"
      "Check: the engines' own detectors (k %g, floor %lld ms, dead %g) counted %llu\n"
      "  suspicions and %llu deaths over the same time.\n"
      "All settings see the same traffic: one cluster, one tap per engine.\n"
      "Total run %.0f s; load average now %s.\n",
      static_cast<long long>(kHeartbeat.count()), kPeers - 1, slices,
      static_cast<long long>(kDetectionCap.count() / 1000), kPeers, kPeers - 1, slices, watch_s,
      std::chrono::duration<double>(warm_up).count(), run.peer_minutes,
      static_cast<unsigned long long>(run.pauses), kRareSuspicions,
      qualified ? "" : " (none qualified: the fewest false deaths, then suspicions)",
      defaults.k, static_cast<long long>(defaults.floor.count()), defaults.dead_factor,
      static_cast<unsigned long long>(run.engine_suspicions),
      static_cast<unsigned long long>(run.engine_deaths),
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
      load_average().c_str());
  return 0;
}

}  // namespace
}  // namespace rumor

int main(int argc, char** argv) { return rumor::run(argc, argv); }
