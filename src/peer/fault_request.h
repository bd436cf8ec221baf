// fault_request.h — the faults a running peer injects, as set through POST /faults and read
// through GET /faults: transport faults (FaultyTransport's FaultConfig) and a compute slowdown.
//
// Body fields (every one optional; an absent field keeps its current value):
//   drop, duplicate, reorder, corrupt   probabilities in [0, 1]
//   delay_ms, jitter_ms, reorder_hold_ms whole milliseconds in [0, 3600000]
//   partition                           array of ranks cut off in both directions ([] heals)
//   slowdown                            compute slowed by this factor, >= 1 (1 = none)
//   fail_replica                        local replica (0..K-1) that fails at its next step, as a
//                                       lost GPU would; -1 = none (hierarchical nodes)
// docs/MONITORING.md documents them with examples.
#pragma once

#include <nlohmann/json.hpp>

#include <string_view>

#include "net/faulty_transport.h"

namespace rumor {

struct RuntimeFaults {
  FaultConfig transport;
  double slowdown = 1.0;  // each training step takes this many times as long
  int fail_replica = -1;  // local replica that fails at its next step; -1 = none
};

// `current` with the fields of `body` (a JSON object) applied. Throws ConfigError naming the
// key and what is valid when the body is not an object, a key is unknown, a value has the
// wrong type or is out of range. Does not modify anything on error.
RuntimeFaults apply_fault_request(const nlohmann::json& body, const RuntimeFaults& current);
// The same from the raw request body; invalid JSON is a ConfigError too.
RuntimeFaults parse_fault_request(std::string_view body, const RuntimeFaults& current);

// Every field, in the body's format: apply_fault_request(to_json(f), anything) == f.
nlohmann::json to_json(const RuntimeFaults& faults);

}  // namespace rumor
