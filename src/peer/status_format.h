// status_format.h — a PeerStatus as JSON (GET /status) and as Prometheus text (GET /metrics).
//
// The JSON keeps the struct's names; absent optionals are null. The Prometheus text follows
// the text exposition format 0.0.4: every family has # HELP and # TYPE lines, names start with
// rumor_, counters end in _total, every sample carries rank="R" and per-neighbour samples also
// peer="N". Absent optionals (test loss and accuracy, fault counters) produce no samples.
// docs/MONITORING.md lists every key and metric.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "peer/peer_status.h"

namespace rumor {

nlohmann::json status_json(const PeerStatus& status);

// The metrics, one family after another, ending with a newline.
std::string prometheus_text(const PeerStatus& status);

}  // namespace rumor
