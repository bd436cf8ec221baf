#include "gossip/mixing_rule.h"

#include "core/error.h"
#include "gossip/rules.h"

namespace rumor {

std::vector<float> payload_floats(const Message& message) {
  std::vector<float> values(message.header.count);
  payload_to_floats(message, values);
  return values;
}

std::unique_ptr<MixingRule> make_mixing_rule(std::string_view name, std::size_t n,
                                             double alpha) {
  if (name == "average") {
    if (!(alpha > 0.0 && alpha <= 1.0)) {
      throw ConfigError("alpha: the average rule's neighbour weight must be in (0, 1], got " +
                        std::to_string(alpha));
    }
    return std::make_unique<AverageRule>(n, alpha);
  }
  if (name == "push-sum") return std::make_unique<PushSumRule>(n, /*robust=*/false);
  if (name == "robust-push-sum") return std::make_unique<PushSumRule>(n, /*robust=*/true);
  if (name == "pairwise") return std::make_unique<PairwiseRule>(n);
  throw ConfigError("rule '" + std::string(name) + "' is not valid; valid: " + kMixingRules);
}

}  // namespace rumor
