// staleness.h — staleness control: how much an old message still counts, and when a peer
// must wait for its neighbours. Two different quantities (DESIGN.md, "Staleness control"):
//
//  * staleness of a message: how many steps its sender has taken since making the snapshot,
//    s = sender's latest known step − message step (from heartbeats; never negative).
//    Messages with s > max_staleness are dropped; otherwise their mixing weight is scaled by
//    1 / (1 + s / half_life)  (half the weight at s = half_life; half_life 0 = no decay).
//  * drift between peers: my step − a neighbour's step. With drift_limit > 0 (SSP), a peer
//    more than drift_limit steps ahead of its slowest live neighbour waits. With wait_limit > 0
//    (bounded delay, as in overlap SGP), a peer that has received nothing fresh for more than
//    wait_limit of its own steps waits. The engine releases both waits when the awaited
//    neighbour is declared dead.
// Pure decisions: no clock, no state; the engine supplies the steps.
#pragma once

#include <cstdint>
#include <optional>

#include "rumor/config.h"  // StalenessConfig (public)

namespace rumor {

class StalenessPolicy {
 public:
  // Throws ConfigError naming the field when a value is negative or not finite.
  explicit StalenessPolicy(StalenessConfig config);
  const StalenessConfig& config() const { return config_; }

  // s = max(0, sender_latest_step − message_step).
  static std::int64_t staleness(std::int64_t message_step, std::int64_t sender_latest_step);

  // The factor in (0, 1] to scale a message's mixing weight by, or nullopt to drop it.
  std::optional<double> weight(std::int64_t staleness) const;

  // SSP gate: true when my_step is more than drift_limit ahead of slowest_live_step.
  bool must_wait_for_drift(std::int64_t my_step, std::int64_t slowest_live_step) const;

  // Bounded delay: true when more than wait_limit own steps passed since the step at which the
  // last fresh (applied) message arrived.
  bool must_wait_for_fresh(std::int64_t my_step, std::int64_t last_fresh_step) const;

 private:
  StalenessConfig config_;
};

}  // namespace rumor
