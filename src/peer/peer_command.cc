#include "peer/peer_command.h"

#include <CLI/CLI.hpp>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "core/clock.h"
#include "core/error.h"
#include "gossip/engine_transport.h"
#include "net/faulty_transport.h"
#include "peer/data_options.h"
#include "peer/http_server.h"
#include "peer/metrics_log.h"
#include "peer/peer_list.h"
#include "peer/peer_monitor.h"
#include "peer/progress_display.h"
#include "peer/stop_signal.h"
#include "peer/training_options.h"
#include "train/param_file.h"
#include "train/periodic_checkpointer.h"

namespace rumor {
namespace {

nlohmann::json eval_record(const Progress& p, int rank) {
  return {{"event", p.final ? "final" : "eval"},
          {"rank", rank},
          {"epoch", p.epoch},
          {"step", p.step},
          {"total_steps", p.total_steps},
          {"train_loss", p.train_loss},
          {"lr", p.lr},
          {"test_loss", p.test.loss},
          {"test_accuracy", p.test.accuracy},
          {"train_seconds", p.train_seconds},
          {"samples_per_second", p.samples_per_second}};
}

nlohmann::json gossip_record(const GossipStats& s) {
  return {{"sent", s.sent},           {"received", s.received},
          {"applied", s.applied},     {"dropped_stale", s.dropped_stale},
          {"lost_in_transport", s.lost_in_transport},
          {"send_failures", s.send_failures},
          {"waits", s.waits},         {"states_served", s.states_served},
          {"rejected_outliers", s.rejected_outliers},
          {"weight", s.weight}};
}

// Live neighbours and their mean staleness, for the progress line.
void summarise_peers(const GossipStats& s, ProgressLine& line) {
  double staleness = 0.0;
  line.live_neighbours = 0;
  line.peers = static_cast<int>(s.peers.size());
  for (const GossipPeerStats& p : s.peers) {
    if (p.state == "dead") continue;
    ++line.live_neighbours;
    staleness += static_cast<double>(p.staleness);
  }
  line.mean_staleness = line.live_neighbours > 0 ? staleness / line.live_neighbours : 0.0;
  line.waiting = s.waiting;
}

// Makes each step take `factor` times as long as it did: sleeps (factor − 1) × the step's own
// compute time, measured between the hooks. The factor can change at run time (POST /faults).
class Slowdown {
 public:
  void step_started() { started_ = std::chrono::steady_clock::now(); }
  void step_finished(double factor) const {
    if (!(factor > 1.0)) return;
    const auto compute = std::chrono::steady_clock::now() - started_;
    std::this_thread::sleep_for(
        std::chrono::duration_cast<std::chrono::nanoseconds>(compute * (factor - 1.0)));
  }

 private:
  std::chrono::steady_clock::time_point started_;
};

// After the engine replaced the leader's parameters and momentum with a live peer's (catch-up),
// the node continues from that peer's step: data position and learning-rate schedule follow,
// and the other local replicas take the leader's new state. `state` is the leader's
// checkpoint taken right after the mix() that caught up: a catch-up during the run happens
// before a step, and that step (its batch, its learning rate) belongs to the replaced run, so
// what it trained on top of the received state is dropped.
void follow_catch_up(const CatchUp& caught, Checkpoint state, ReplicaGroup& replicas, int rank) {
  Trainer& trainer = replicas.leader();
  state.step = std::clamp<std::int64_t>(caught.step, 0, trainer.total_steps());
  state.epoch = state.step == 0 ? 0 : (state.step - 1) / trainer.steps_per_epoch() + 1;
  state.loss_steps = 0;
  std::fill(state.loss_sums.begin(), state.loss_sums.end(), 0.0f);
  trainer.restore(state);
  replicas.copy_leader_state();
  std::printf("rank %d: caught up from peer %d, continuing at step %lld\n", rank, caught.from,
              static_cast<long long>(state.step));
  std::fflush(stdout);
}

// Whether the engine caught up since `seen` (and then remembers it there).
bool new_catch_up(const GossipEngine& engine, std::optional<CatchUp>& seen) {
  const std::optional<CatchUp> last = engine.last_catch_up();
  if (!last || (seen && seen->from == last->from && seen->step == last->step)) return false;
  seen = last;
  return true;
}

// Before the first step: waits until `needed` other peers have been heard from, or `limit`
// passed, so that peers started a few seconds apart do not train alone at first. A peer
// rejoining a running cluster (`rejoining`) also stops waiting once its failure detector has
// declared every other peer dead (≈ 4 s for peers never heard from): the cluster has finished
// or is out of reach, and nobody is coming. Returns how many peers were heard from.
int wait_for_peers(const GossipEngine& engine, int needed, double limit_seconds, bool rejoining,
                   bool quiet) {
  const int others = engine.world() - 1;
  needed = std::min(needed, others);
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                            std::chrono::duration<double>(limit_seconds));
  int last_reported = -1;
  while (true) {
    const std::vector<GossipPeerStats> peers = engine.stats().peers;
    const int n = static_cast<int>(std::count_if(
        peers.begin(), peers.end(), [](const GossipPeerStats& p) { return p.step >= 0; }));
    if (n >= needed) return n;
    if (std::chrono::steady_clock::now() >= deadline) {
      std::printf("rank %d: heard from %d of %d peers after %.0f s; starting anyway\n",
                  engine.rank(), n, others, limit_seconds);
      return n;
    }
    if (rejoining && std::all_of(peers.begin(), peers.end(), [](const GossipPeerStats& p) {
          return p.state == "dead";
        })) {
      std::printf("rank %d: every other peer is dead (the run has ended or is out of reach); "
                  "starting alone\n", engine.rank());
      return n;
    }
    if (n != last_reported && !quiet) {
      std::printf("rank %d: waiting for peers (%d of %d heard from)\n", engine.rank(), n, others);
      std::fflush(stdout);
      last_reported = n;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling the I/O thread's view
  }
}

// A replica or the local group failed mid-run (e.g. NCCL): keeps what the leader learnt (its
// checkpoint, when checkpoints are on), records the failure and throws the error the program
// exits with, saying where the checkpoint is.
[[noreturn]] void stop_after_failure(const std::exception& error, int rank,
                                     const Trainer& trainer, PeriodicCheckpointer* saver,
                                     const CheckpointStore* store, MetricsLog& metrics) {
  std::string kept = "no checkpoint (no --checkpoint-dir)";
  if (saver != nullptr && store != nullptr) {
    try {
      saver->save_now();  // unless this step is saved already
      kept = "checkpoint of step " + std::to_string(trainer.step()) + " in " +
             store->dir().string() + " (continue with --resume)";
    } catch (const std::exception& save_error) {
      kept = "the checkpoint could not be written either: " + std::string(save_error.what());
    }
  }
  metrics.write({{"event", "failed"}, {"rank", rank}, {"step", trainer.step()},
                 {"error", error.what()}});
  throw Error("rank " + std::to_string(rank) + " stopped at step " +
              std::to_string(trainer.step()) + ": " + error.what() + "; " + kept);
}

}  // namespace

CLI::App* add_peer_command(CLI::App& app, PeerCommandArgs& args) {
  CLI::App* cmd = app.add_subcommand(
      "peer", "Train one replica on this rank's shard and gossip with the peers of a peer list");
  cmd->option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  cmd->add_option("--config", "TOML file whose keys set these options (flags win)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--peers", args.peers_path,
                  "Peer list: one host:port (or tcp://, ipc:// endpoint) per line; line = rank")
      ->required();
  cmd->add_option("--rank", args.rank,
                  "This peer's rank (default: SLURM_PROCID, OMPI_COMM_WORLD_RANK, PMI_RANK or "
                  "RANK from the environment)");
  cmd->add_option("--bind", args.bind,
                  "Listen on this HOST:PORT instead of the peer-list entry (e.g. 0.0.0.0:5555)");
  add_training_options(*cmd, args.train, args.device, args.threads);
  add_local_replica_options(*cmd, args.local);
  add_data_options(*cmd, args.data_dir, args.limit_test);
  cmd->add_option("--shard", args.shard, "How the training set is split: iid or dirichlet:ALPHA")
      ->capture_default_str();
  cmd->add_option("--limit-train", args.limit_train,
                  "Use only the first N examples of the shard (0 = all)")
      ->capture_default_str();
  add_gossip_options(*cmd, args.gossip);
  cmd->add_option("--startup-wait", args.startup_wait_seconds,
                  "Seconds to wait before the first step for every peer to be up (resuming or "
                  "catching up: for one peer; 0 = start at once)")
      ->capture_default_str();
  cmd->add_option("--slowdown", args.slowdown,
                  "Compute this many times slower (a straggler, for benchmarks and scenarios)")
      ->capture_default_str();
  cmd->add_option("--out", args.out_dir, "Folder for metrics.jsonl and params.bin "
                                         "(default runs/peer-RANK)");
  cmd->add_option("--metrics", args.metrics_path, "JSONL metrics file (default <out>/metrics.jsonl)");
  cmd->add_option("--save", args.save_path, "Final parameters file (default <out>/params.bin)");
  cmd->add_option("--progress-every", args.progress_seconds,
                  "Seconds between progress lines when stdout is not a terminal (0 = none)")
      ->capture_default_str();
  cmd->add_flag("--quiet,-q", args.quiet, "Print only the final summary");
  add_checkpoint_options(*cmd, args.checkpoint);
  cmd->add_option("--http", args.http,
                  "Status endpoint HOST:PORT (GET /status, /metrics; port 0 = any free port, "
                  "written to <out>/http.addr), or off")
      ->capture_default_str();
  cmd->add_flag("--enable-faults", args.enable_faults,
                "Allow POST /faults to inject drops, delay, partitions and slow compute at run "
                "time (see rumor ctl)");
  return cmd;
}

int run_peer_command(const PeerCommandArgs& args) {
  if (args.threads < 0) throw ConfigError("--threads: must be >= 0 (0 = all cores)");
  if (!(args.slowdown >= 1.0) || !std::isfinite(args.slowdown)) {
    throw ConfigError("--slowdown: must be a number >= 1 (1 = full speed), got " +
                      std::to_string(args.slowdown));
  }
  if (!(args.progress_seconds >= 0.0)) throw ConfigError("--progress-every: must be >= 0");
  if (!(args.startup_wait_seconds >= 0.0)) throw ConfigError("--startup-wait: must be >= 0");
  validate_checkpoint_args(args.checkpoint);
  const std::vector<std::string> devices = replica_devices(args.device, args.local);
  const LocalSync local_sync = LocalSync::parse(args.local.sync);
  const PeerList peers = load_peer_list(args.peers_path);
  const int world = static_cast<int>(peers.endpoints.size());
  const int rank =
      resolve_rank(args.rank >= 0 ? std::optional<int>(args.rank) : std::nullopt, world);
  GossipConfig gossip = gossip_config(args.gossip);
  gossip.model = args.train.model;

  const std::filesystem::path out =
      args.out_dir.empty() ? std::filesystem::path("runs") / ("peer-" + std::to_string(rank))
                           : std::filesystem::path(args.out_dir);
  const std::filesystem::path metrics_path =
      args.metrics_path.empty() ? out / "metrics.jsonl" : std::filesystem::path(args.metrics_path);
  const std::filesystem::path save_path =
      args.save_path.empty() ? out / "params.bin" : std::filesystem::path(args.save_path);

  const ShardedData data = load_sharded_data(args.data_dir, args.shard, rank, world,
                                             args.train.seed, args.limit_train, args.limit_test);
  SteadyClock clock;
  LocalReplicas replicas(devices, args.threads, args.train, data.train, data.test, clock,
                         local_sync);
  Trainer& trainer = replicas.leader();
  const int local = replicas.size();  // samples per step are local × --batch
  std::optional<CheckpointStore> store;
  std::filesystem::path resumed_from;
  if (!args.checkpoint.dir.empty()) {
    store.emplace(args.checkpoint.dir, args.checkpoint.keep);
    resumed_from = resume_or_start(*store, trainer, rank, args.checkpoint.resume);
  }
  if (!resumed_from.empty()) gossip.catch_up = false;  // its own state is the better start
  replicas.group().copy_leader_state();

  const std::size_t count = trainer.model().parameter_count();
  const std::string bind = bind_endpoint(peers.endpoints[rank], args.bind);
  std::unique_ptr<Transport> transport =
      make_engine_transport(gossip, peers.endpoints, rank, count, bind);
  FaultyTransport* faulty = nullptr;
  if (args.enable_faults) {
    auto decorated = std::make_unique<FaultyTransport>(std::move(transport), FaultConfig{},
                                                       static_cast<std::uint64_t>(rank) + 1);
    faulty = decorated.get();
    transport = std::move(decorated);
  }
  GossipEngine engine(gossip, std::move(transport), peers.endpoints, rank,
                      replicas.leader_backend(),
                      trainer.model().params().data(), count);
  engine.attach_state(trainer.optimizer().velocity().data(), count);
  PeerMonitor monitor(rank, world, trainer.total_steps(), args.train.epochs, engine, faulty,
                      args.slowdown, local, clock);
  std::optional<HttpServer> http;
  if (args.http != "off") {
    HttpHandlers handlers;
    handlers.status = [&monitor] { return monitor.status(); };
    handlers.get_faults = [&monitor] { return monitor.faults(); };
    if (args.enable_faults) {
      handlers.set_faults = [&monitor](const RuntimeFaults& f) { monitor.set_faults(f); };
    }
    http.emplace(args.http, std::move(handlers));
    std::filesystem::create_directories(out);
    std::ofstream(out / "http.addr") << http->address() << "\n";
  }
  MetricsLog metrics(metrics_path,
                     resumed_from.empty() ? MetricsLog::Mode::kReplace : MetricsLog::Mode::kAppend);

  std::printf("rumor peer: rank %d of %d listening on %s%s; model %s (%zu parameters) on %s; "
              "%zu train / %zu test examples (shard %s); %d epochs x %lld steps, batch %d; "
              "rule %s, topology %s%s\n",
              rank, world, bind.c_str(),
              http ? (", status on http://" + http->address()).c_str() : "",
              args.train.model.c_str(), count, replicas.description().c_str(), data.train.count,
              data.test.count, args.shard.c_str(), args.train.epochs,
              static_cast<long long>(trainer.steps_per_epoch()), args.train.batch,
              gossip.rule.c_str(), gossip.topology.c_str(),
              args.enable_faults ? "; fault injection enabled" : "");
  std::fflush(stdout);

  StopSignal stop;
  // A fresh run waits for the whole cluster; a peer rejoining a running one (--resume,
  // --catch-up) only for someone to mix with.
  const bool rejoining = !resumed_from.empty() || gossip.catch_up;
  wait_for_peers(engine, rejoining ? 1 : world - 1, args.startup_wait_seconds, rejoining,
                 args.quiet);
  std::optional<CatchUp> caught;  // the last catch-up the trainer followed
  if (gossip.catch_up) {
    engine.mix();  // pulls the state of a live peer (--catch-up)
    if (new_catch_up(engine, caught)) {
      follow_catch_up(*caught, trainer.checkpoint(rank), replicas.group(), rank);
    }
  }

  ProgressDisplay display(stdout, !args.quiet && ::isatty(STDOUT_FILENO) == 1,
                          args.quiet ? Clock::Duration(0)
                                     : std::chrono::duration_cast<Clock::Duration>(
                                           std::chrono::duration<double>(args.progress_seconds)),
                          clock);
  ProgressLine line;
  line.rank = rank;
  line.total_steps = trainer.total_steps();
  line.epochs = args.train.epochs;
  Slowdown slowdown;
  std::optional<PeriodicCheckpointer> saver;
  if (store) saver.emplace(trainer, *store, rank, args.checkpoint.every);
  const auto started = clock.now();
  const std::int64_t first_step = trainer.step();

  NodeHooks node;
  // A catch-up during the run (--catch-up-lag) happens in mix(), before a step: the state it
  // brought is kept here, the step runs out, run() ends after it, and the trainer continues
  // from the peer's step with that state.
  std::optional<Checkpoint> caught_state;
  node.mix = [&](std::int64_t) {
    const bool changed = engine.mix() > 0;
    if (!new_catch_up(engine, caught)) return changed;
    caught_state = trainer.checkpoint(rank);
    return true;
  };
  node.replica_step = [&](int member, std::int64_t) {
    if (monitor.fail_replica() == member) {
      throw Error("replica " + std::to_string(member) +
                  " failed: injected through POST /faults (fail_replica)");
    }
  };
  StepHooks& hooks = node.step;
  hooks.before = [&](std::int64_t) { slowdown.step_started(); };
  hooks.after = [&](std::int64_t step) {
    slowdown.step_finished(monitor.slowdown());
    engine.publish(step);
    if (saver) saver->after_step();
    const std::int64_t done = step + 1;
    const int epoch = static_cast<int>(step / trainer.steps_per_epoch()) + 1;
    const double seconds = seconds_between(started, clock.now());
    const double rate = seconds > 0 ? static_cast<double>(done - first_step) * args.train.batch *
                                          local / seconds
                                    : 0.0;
    monitor.step_done(done, epoch, rate);
    if (!display.due()) return;
    line.step = done;
    line.epoch = epoch;
    line.samples_per_second = rate;
    summarise_peers(engine.stats(), line);
    display.update(line);
  };
  hooks.should_stop = [&] { return caught_state.has_value() || stop.stop_requested(); };

  std::optional<Progress> last;
  const auto report = [&](const Progress& leader) {
    Progress p = leader;
    p.samples_per_second *= local;  // the node's rate: every replica trained a batch
    nlohmann::json record = eval_record(p, rank);
    record["gossip"] = gossip_record(engine.stats());
    metrics.write(std::move(record));
    monitor.evaluated(p);
    line.train_loss = p.train_loss;
    line.test_accuracy = p.test.accuracy;
    if (!args.quiet) {
      char text[200];
      std::snprintf(text, sizeof(text),
                    "rank %d  epoch %d/%d  step %lld/%lld  loss %.4f  test_acc %.4f  "
                    "%.0f samples/s",
                    rank, p.epoch, p.epochs, static_cast<long long>(p.step),
                    static_cast<long long>(p.total_steps), p.train_loss, p.test.accuracy,
                    p.samples_per_second);
      display.print(text);
    }
    last = p;
  };
  try {
    for (;;) {
      replicas.group().run(report, node);
      if (!caught_state || stop.stop_requested()) break;
      follow_catch_up(*caught, std::move(*caught_state), replicas.group(), rank);
      caught_state.reset();
    }
  } catch (const std::exception& error) {
    display.finish();
    stop_after_failure(error, rank, trainer, saver ? &*saver : nullptr, store ? &*store : nullptr,
                       metrics);
  }
  display.finish();
  if (saver) saver->save_now();
  const GossipStats stats = engine.stats();

  if (trainer.step() < trainer.total_steps()) {  // stopped by a signal
    metrics.write({{"event", "stopped"},
                   {"rank", rank},
                   {"signal", stop.signal_name()},
                   {"step", trainer.step()},
                   {"total_steps", trainer.total_steps()},
                   {"gossip", gossip_record(stats)}});
    std::printf("rank %d stopped by %s after step %lld of %lld; %s\n", rank, stop.signal_name(),
                static_cast<long long>(trainer.step()),
                static_cast<long long>(trainer.total_steps()),
                store ? ("checkpoint in " + store->dir().string() + " (continue with --resume)")
                            .c_str()
                      : "no checkpoint (no --checkpoint-dir)");
    return 0;  // the engine says BYE to the neighbours as it goes
  }
  if (!last) {  // resumed from the final checkpoint: nothing left to train
    last.emplace();
    last->epoch = args.train.epochs;
    last->step = trainer.step();
    last->total_steps = trainer.total_steps();
    last->test = trainer.evaluate();
  }
  if (save_path.has_parent_path()) std::filesystem::create_directories(save_path.parent_path());
  save_param_file(save_path, ParamFile{args.train.model, trainer.model().params().to_host()});
  // Replicas kept by gradients are bit-identical, by params:H identical after the last
  // average: anything else is a bug worth seeing.
  const double divergence = replicas.group().max_divergence();
  metrics.write({{"event", "summary"},
                 {"local_replicas", local},
                 {"local_divergence", divergence},
                 {"rank", rank},
                 {"step", last->step},
                 {"total_steps", last->total_steps},
                 {"test_accuracy", last->test.accuracy},
                 {"test_loss", last->test.loss},
                 {"train_seconds", last->train_seconds},
                 {"samples_per_second", last->samples_per_second},
                 {"gossip", gossip_record(stats)}});
  std::printf("rank %d final test accuracy %.4f (loss %.4f): %lld steps, %.1f s training, "
              "%.0f samples/s; gossip sent %llu, received %llu, applied %llu, dropped stale "
              "%llu, rejected %llu\nparameters: %s\nmetrics:    %s\n",
              rank, last->test.accuracy, last->test.loss, static_cast<long long>(last->step),
              last->train_seconds, last->samples_per_second,
              static_cast<unsigned long long>(stats.sent),
              static_cast<unsigned long long>(stats.received),
              static_cast<unsigned long long>(stats.applied),
              static_cast<unsigned long long>(stats.dropped_stale),
              static_cast<unsigned long long>(stats.rejected_outliers), save_path.c_str(),
              metrics_path.c_str());
  if (local > 1) {
    std::printf("local replicas: %d, %s (largest parameter difference from the leader %g)\n",
                local, divergence == 0.0 ? "identical" : "NOT identical", divergence);
  }
  return 0;
}

}  // namespace rumor
