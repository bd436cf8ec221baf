#include "peer/gossip_options.h"

#include <CLI/CLI.hpp>

#include "core/error.h"

namespace rumor {
namespace {

std::chrono::milliseconds milliseconds(long value, const char* flag) {
  if (value < 0) throw ConfigError(std::string(flag) + ": must be >= 0 ms");
  return std::chrono::milliseconds(value);
}

}  // namespace

GossipConfig peer_gossip_defaults() {
  GossipConfig c;
  c.rule = "average";
  c.topology = "one-peer-exponential";
  c.catch_up_lag = 100;
  c.publish_every = 2;
  return c;
}

void add_gossip_options(CLI::App& cmd, GossipOptionValues& v) {
  GossipConfig& c = v.config;
  v.heartbeat_ms = static_cast<long>(c.heartbeat_interval.count());
  v.failure_floor_ms = static_cast<long>(c.failure.floor.count());
  v.failure_ceiling_ms = static_cast<long>(c.failure.ceiling.count());
  v.failure_initial_ms = static_cast<long>(c.failure.initial.count());
  v.catch_up_timeout_ms = static_cast<long>(c.catch_up_timeout.count());
  const std::string g = "Gossip";
  cmd.add_option("--rule", c.rule, "Mixing rule: push-sum, robust-push-sum, pairwise, average")
      ->group(g)->capture_default_str();
  cmd.add_option("--topology", c.topology,
                 "ring, torus, exponential, one-peer-exponential, complete, random:K, file:PATH")
      ->group(g)->capture_default_str();
  cmd.add_option("--alpha", c.alpha, "average rule: weight of a neighbour's parameters")
      ->group(g)->capture_default_str();
  cmd.add_option("--publish-every", c.publish_every, "Steps between publishes")
      ->group(g)->capture_default_str();
  cmd.add_option("--wire-dtype", c.wire_dtype, "Parameters on the wire: f32, bf16, f16")
      ->group(g)->capture_default_str();
  cmd.add_option("--run-id", c.run_id, "Peers of one run must agree on it")
      ->group(g)->capture_default_str();
  cmd.add_option("--max-norm-ratio", c.max_norm_ratio,
                 "Reject a neighbour's parameters whose L2 norm is more than this many times "
                 "ours, or less than 1/this (0 = accept all)")
      ->group(g)->capture_default_str();
  cmd.add_option("--heartbeat-ms", v.heartbeat_ms, "Milliseconds between heartbeats")
      ->group(g)->capture_default_str();
  cmd.add_flag("--catch-up,!--no-catch-up", c.catch_up,
               "Pull the full state from a live peer before the first step (joining a running "
               "cluster without a checkpoint)")
      ->group(g);
  cmd.add_option("--catch-up-lag", c.catch_up_lag,
                 "Also pull it whenever a live peer is more than this many steps ahead (0 = never)")
      ->group(g)->capture_default_str();
  cmd.add_option("--catch-up-timeout-ms", v.catch_up_timeout_ms,
                 "Give up waiting for a state after this many ms")
      ->group(g)->capture_default_str();

  const std::string s = "Staleness";
  StalenessConfig& st = c.staleness;
  cmd.add_option("--max-staleness", st.max_staleness,
                 "Drop parameter messages older than this many of their sender's steps")
      ->group(s)->capture_default_str();
  cmd.add_option("--staleness-half-life", st.half_life,
                 "Steps of staleness that halve a message's weight (0 = no decay)")
      ->group(s)->capture_default_str();
  cmd.add_option("--drift-limit", st.drift_limit,
                 "Wait when more than this many steps ahead of the slowest live neighbour (0 = off)")
      ->group(s)->capture_default_str();
  cmd.add_option("--wait-limit", st.wait_limit,
                 "Wait after this many own steps without a fresh message (0 = off)")
      ->group(s)->capture_default_str();

  const std::string f = "Failure detection";
  FailureDetectorConfig& fd = c.failure;
  cmd.add_option("--failure-k", fd.k, "Suspect after median + k·MAD of a peer's message gaps")
      ->group(f)->capture_default_str();
  cmd.add_option("--failure-floor-ms", v.failure_floor_ms, "Shortest suspicion timeout (ms)")
      ->group(f)->capture_default_str();
  cmd.add_option("--failure-ceiling-ms", v.failure_ceiling_ms, "Longest suspicion timeout (ms)")
      ->group(f)->capture_default_str();
  cmd.add_option("--failure-initial-ms", v.failure_initial_ms,
                 "Suspicion timeout before enough gaps were measured (ms)")
      ->group(f)->capture_default_str();
  cmd.add_option("--dead-factor", fd.dead_factor, "Dead after this many suspicion timeouts")
      ->group(f)->capture_default_str();
}

GossipConfig gossip_config(const GossipOptionValues& v) {
  GossipConfig c = v.config;
  c.heartbeat_interval = milliseconds(v.heartbeat_ms, "--heartbeat-ms");
  if (c.heartbeat_interval.count() == 0) throw ConfigError("--heartbeat-ms: must be > 0");
  c.failure.floor = milliseconds(v.failure_floor_ms, "--failure-floor-ms");
  c.failure.ceiling = milliseconds(v.failure_ceiling_ms, "--failure-ceiling-ms");
  c.failure.initial = milliseconds(v.failure_initial_ms, "--failure-initial-ms");
  c.catch_up_timeout = milliseconds(v.catch_up_timeout_ms, "--catch-up-timeout-ms");
  return c;
}

}  // namespace rumor
