// engine_transport.h — the ZeroMQ transport a GossipEngine uses, built the way the engine
// expects it (message limits, delivery policy). Programs that bind an address other than their
// peer-list entry, or wrap the transport in the fault decorator, build it here and hand it to
// the engine's transport constructor.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "net/transport.h"
#include "rumor/engine.h"

namespace rumor {

// A STATE_REP holds the parameters and up to this many vectors of the same size in all.
inline constexpr std::size_t kMaxStateVectors = 3;

// The transport of `rank` among `endpoints`, bound on `bind` (empty = endpoints[rank]).
// Throws ConfigError for a rank outside the list or an address that cannot be bound.
std::unique_ptr<Transport> make_engine_transport(const GossipConfig& config,
                                                 const std::vector<std::string>& endpoints,
                                                 int rank, std::size_t count,
                                                 const std::string& bind = "");

}  // namespace rumor
