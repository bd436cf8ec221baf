// gossip_options.h — every knob of the gossip engine (rule, topology, staleness control,
// failure detection, catch-up) as command-line options, with the engine's defaults.
#pragma once

#include "rumor/engine.h"

namespace CLI {
class App;
}

namespace rumor {

// Milliseconds as plain integers for the command line; applied to the config by
// apply_gossip_options() after parsing.
struct GossipOptionValues {
  GossipConfig config;
  long heartbeat_ms = 0;
  long failure_floor_ms = 0;
  long failure_ceiling_ms = 0;
  long failure_initial_ms = 0;
  long catch_up_timeout_ms = 0;
};

// Adds the options to `command`, bound to `values` (initialised from the engine's defaults).
void add_gossip_options(CLI::App& command, GossipOptionValues& values);

// The engine config the parsed options describe. Throws ConfigError for a negative duration.
GossipConfig gossip_config(const GossipOptionValues& values);

}  // namespace rumor
