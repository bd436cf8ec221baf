// ctl_summary.h — the few lines `rumor ctl ADDR status` prints for a peer's status JSON.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace rumor {

// A human summary of a GET /status answer (see peer/status_format.h): progress, losses,
// gossip counters, one line per neighbour and the fault counters when present. Tolerates
// missing keys (prints "-"), so that older or newer peers can be read.
std::string status_summary(const nlohmann::json& status);

}  // namespace rumor
