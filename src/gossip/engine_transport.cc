#include "gossip/engine_transport.h"

#include "core/error.h"
#include "net/zmq_transport.h"

namespace rumor {

std::unique_ptr<Transport> make_engine_transport(const GossipConfig& config,
                                                 const std::vector<std::string>& endpoints,
                                                 int rank, std::size_t count,
                                                 const std::string& bind) {
  if (rank < 0 || rank >= static_cast<int>(endpoints.size())) {
    throw ConfigError("rank " + std::to_string(rank) + " is outside the peer list (0.." +
                      std::to_string(static_cast<int>(endpoints.size()) - 1) + ")");
  }
  ZmqTransportOptions options;
  options.rank = static_cast<std::uint32_t>(rank);
  options.num_peers = static_cast<std::uint32_t>(endpoints.size());
  options.bind_endpoint = bind.empty() ? endpoints[rank] : bind;
  options.expect.run_id = config.run_id;
  options.expect.fingerprint = model_fingerprint(config.model, count);
  // Full states (STATE_REP) carry the parameters plus attached state, e.g. momentum.
  options.expect.max_elements = kMaxStateVectors * count;
  options.expect.param_elements = count;
  // Plain push-sum must see every message (a superseded one is lost mass).
  options.latest_wins_params = config.rule != "push-sum";
  // Peers come and go (restarts): retry a lost connection at least every second.
  options.reconnect_interval_max = std::chrono::milliseconds(1000);
  return std::make_unique<ZmqTransport>(std::move(options));
}

}  // namespace rumor
