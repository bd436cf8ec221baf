// rumor/config.h — the public configuration structs of the gossip engine's staleness control
// and failure detector, as they appear in GossipConfig (rumor/engine.h). Installed as
// <rumor/config.h>; the library's own gossip/staleness.h and gossip/failure_detector.h include
// it. What the fields mean in detail: docs/GOSSIP.md.
#pragma once

#include <chrono>
#include <cstdint>

namespace rumor {

// How much an old message still counts, and when a peer must wait for its neighbours.
// A message's staleness s = its sender's latest known step − the message's step. Messages with
// s > max_staleness are dropped; the others are weighted by 1 / (1 + s / half_life).
struct StalenessConfig {
  std::int64_t max_staleness = 100;  // steps; messages staler than this are dropped
  double half_life = 20.0;           // steps; 0 disables the decay
  std::int64_t drift_limit = 0;      // steps ahead of the slowest live neighbour; 0 = no gate
  std::int64_t wait_limit = 0;       // own steps without a fresh message; 0 = no gate
};

// When a silent peer becomes suspect, then dead. Timeouts adapt per peer: median + k·MAD of
// the last `window` gaps between its messages, clamped to [floor, ceiling]; `initial` until
// `min_samples` gaps are known. Dead after `dead_factor` timeouts of silence.
struct FailureDetectorConfig {
  double k = 8.0;                                    // MADs above the median gap
  std::chrono::milliseconds floor{1000};
  std::chrono::milliseconds ceiling{10'000};
  std::chrono::milliseconds initial{2'000};          // timeout before enough samples
  double dead_factor = 2.0;                          // dead after this many timeouts
  int window = 64;                                   // gaps remembered per peer
  int min_samples = 4;
};

}  // namespace rumor
