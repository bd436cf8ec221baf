#include "gossip/staleness.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace rumor {

StalenessPolicy::StalenessPolicy(StalenessConfig config) : config_(config) {
  if (config.max_staleness < 0) throw ConfigError("max-staleness: must be >= 0");
  if (!(config.half_life >= 0.0) || !std::isfinite(config.half_life)) {
    throw ConfigError("staleness-half-life: must be a finite number >= 0 (0 = no decay)");
  }
  if (config.drift_limit < 0) throw ConfigError("max-drift: must be >= 0 (0 = no gate)");
  if (config.wait_limit < 0) throw ConfigError("max-wait-steps: must be >= 0 (0 = no gate)");
}

std::int64_t StalenessPolicy::staleness(std::int64_t message_step,
                                        std::int64_t sender_latest_step) {
  return std::max<std::int64_t>(0, sender_latest_step - message_step);
}

std::optional<double> StalenessPolicy::weight(std::int64_t staleness) const {
  if (staleness > config_.max_staleness) return std::nullopt;
  if (config_.half_life <= 0.0) return 1.0;
  return 1.0 / (1.0 + static_cast<double>(std::max<std::int64_t>(0, staleness)) /
                          config_.half_life);
}

bool StalenessPolicy::must_wait_for_drift(std::int64_t my_step,
                                          std::int64_t slowest_live_step) const {
  return config_.drift_limit > 0 && my_step - slowest_live_step > config_.drift_limit;
}

bool StalenessPolicy::must_wait_for_fresh(std::int64_t my_step,
                                          std::int64_t last_fresh_step) const {
  return config_.wait_limit > 0 && my_step - last_fresh_step > config_.wait_limit;
}

}  // namespace rumor
