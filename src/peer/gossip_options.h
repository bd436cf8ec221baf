// gossip_options.h — every knob of the gossip engine (rule, topology, staleness control,
// failure detection, catch-up) as command-line options, with the peer program's defaults.
#pragma once

#include "rumor/engine.h"

namespace CLI {
class App;
}

namespace rumor {

// The engine's defaults, except four that `rumor peer` chooses for training time to accuracy
// (docs/GOSSIP.md, "How the defaults were chosen"): the one-sided `average` rule over the
// one-peer exponential graph, publishing every 2 steps, and a peer 100 steps behind pulls a
// neighbour's state. The
// library keeps push-sum (it preserves the mean of what it averages exactly) and no catch-up
// (replacing a user's parameters and step must be asked for).
GossipConfig peer_gossip_defaults();

// Milliseconds as plain integers for the command line; applied to the config by
// apply_gossip_options() after parsing.
struct GossipOptionValues {
  GossipConfig config = peer_gossip_defaults();
  long heartbeat_ms = 0;
  long failure_floor_ms = 0;
  long failure_ceiling_ms = 0;
  long failure_initial_ms = 0;
  long catch_up_timeout_ms = 0;
};

// Adds the options to `command`, bound to `values` (initialised from peer_gossip_defaults()).
void add_gossip_options(CLI::App& command, GossipOptionValues& values);

// The engine config the parsed options describe. Throws ConfigError for a negative duration.
GossipConfig gossip_config(const GossipOptionValues& values);

}  // namespace rumor
