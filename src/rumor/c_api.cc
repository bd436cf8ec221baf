// c_api.cc — the C ABI (rumor/rumor.h) over GossipEngine: argument checks, the translation of
// rumor_config into GossipConfig, and exceptions turned into status codes plus a thread-local
// message. Nothing thrown inside the library leaves these functions.
#include "rumor/rumor.h"

#include <chrono>
#include <exception>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "kernels/backend.h"
#include "rumor/engine.h"
#include "rumor/error.h"
#include "rumor_config.h"

struct rumor_engine {
  std::unique_ptr<rumor::Backend> backend;       // declared first: destroyed after the engine
  std::unique_ptr<rumor::GossipEngine> engine;
};

namespace {

thread_local std::string last_error;

rumor_status fail(rumor_status status, const char* message) noexcept {
  try {
    last_error = message;
  } catch (...) {
    // No room even for the message: the status code still says what went wrong.
  }
  return status;
}

// Runs `body` (which returns a rumor_status) and maps whatever it throws to a status code.
// `config_status` is the code for a ConfigError: a device name that make_backend() rejects is
// RUMOR_ERROR_DEVICE rather than RUMOR_ERROR_CONFIG.
template <class Body>
rumor_status guarded(Body&& body, rumor_status config_status = RUMOR_ERROR_CONFIG) noexcept {
  try {
    return body();
  } catch (const rumor::ConfigError& e) {
    return fail(config_status, e.what());
  } catch (const std::bad_alloc&) {
    return fail(RUMOR_ERROR_OUT_OF_MEMORY, "out of memory");
  } catch (const std::exception& e) {
    return fail(RUMOR_ERROR_RUNTIME, e.what());
  } catch (...) {
    return fail(RUMOR_ERROR_RUNTIME, "unknown exception inside rumor");
  }
}

rumor_status null_argument(const char* function, const char* argument) noexcept {
  try {
    last_error = std::string(function) + ": " + argument + " is NULL";
  } catch (...) {
  }
  return RUMOR_ERROR_INVALID_ARGUMENT;
}

// rumor_config → GossipConfig + endpoints. Throws ConfigError for a null string field.
rumor::GossipConfig to_gossip_config(const rumor_config& c, std::vector<std::string>& endpoints) {
  const auto text = [](const char* value, const char* field) {
    if (value == nullptr) throw rumor::ConfigError(std::string("config.") + field + " is NULL");
    return std::string(value);
  };
  rumor::GossipConfig config;
  config.rule = text(c.rule, "rule");
  config.topology = text(c.topology, "topology");
  config.alpha = c.alpha;
  config.publish_every = c.publish_every;
  config.wire_dtype = text(c.wire_dtype, "wire_dtype");
  config.staleness.max_staleness = c.max_staleness;
  config.staleness.half_life = c.half_life;
  config.staleness.drift_limit = c.drift_limit;
  config.staleness.wait_limit = c.wait_limit;
  config.heartbeat_interval = std::chrono::milliseconds(c.heartbeat_ms);
  config.run_id = c.run_id;
  config.model = text(c.model, "model");
  config.seed = c.seed;
  if (c.num_peers == 0) throw rumor::ConfigError("config.num_peers is 0: list every peer");
  if (c.peers == nullptr) throw rumor::ConfigError("config.peers is NULL");
  endpoints.clear();
  for (std::size_t i = 0; i < c.num_peers; ++i) {
    if (c.peers[i] == nullptr) {
      throw rumor::ConfigError("config.peers[" + std::to_string(i) + "] is NULL");
    }
    endpoints.emplace_back(c.peers[i]);
  }
  if (c.cpu_threads < 0) {
    throw rumor::ConfigError("config.cpu_threads " + std::to_string(c.cpu_threads) +
                             ": must be >= 0 (0 = all cores)");
  }
  if (c.rank < 0 || static_cast<std::size_t>(c.rank) >= c.num_peers) {
    throw rumor::ConfigError("config.rank " + std::to_string(c.rank) +
                             " is outside the peer list (0.." +
                             std::to_string(c.num_peers - 1) + ")");
  }
  return config;
}

}  // namespace

extern "C" {

rumor_config rumor_config_default(void) {
  // Strings point into this object, which lives as long as the program.
  static const rumor::GossipConfig defaults;
  static const rumor::StalenessConfig& staleness = defaults.staleness;
  rumor_config c{};
  c.peers = nullptr;
  c.num_peers = 0;
  c.rank = 0;
  c.rule = defaults.rule.c_str();
  c.topology = defaults.topology.c_str();
  c.alpha = defaults.alpha;
  c.publish_every = defaults.publish_every;
  c.wire_dtype = defaults.wire_dtype.c_str();
  c.max_staleness = staleness.max_staleness;
  c.half_life = staleness.half_life;
  c.drift_limit = staleness.drift_limit;
  c.wait_limit = staleness.wait_limit;
  c.heartbeat_ms = static_cast<int>(defaults.heartbeat_interval.count());
  c.run_id = defaults.run_id;
  c.model = defaults.model.c_str();
  c.seed = defaults.seed;
  c.cpu_threads = 1;
  return c;
}

rumor_status rumor_engine_create(const rumor_config* config, float* params, size_t count,
                                 const char* device, rumor_engine** out) {
  if (out == nullptr) return null_argument("rumor_engine_create", "out");
  *out = nullptr;
  if (config == nullptr) return null_argument("rumor_engine_create", "config");
  if (params == nullptr) return null_argument("rumor_engine_create", "params");
  if (device == nullptr) return null_argument("rumor_engine_create", "device");
  if (count == 0) {
    return fail(RUMOR_ERROR_INVALID_ARGUMENT, "rumor_engine_create: count is 0");
  }
  std::vector<std::string> endpoints;
  rumor::GossipConfig gossip_config;
  if (const rumor_status s = guarded([&] {
        gossip_config = to_gossip_config(*config, endpoints);
        return RUMOR_OK;
      });
      s != RUMOR_OK) {
    return s;
  }
  auto handle = std::make_unique<rumor_engine>();
  if (const rumor_status s = guarded(
          [&] {
            handle->backend = rumor::make_backend(device, config->cpu_threads);
            return RUMOR_OK;
          },
          RUMOR_ERROR_DEVICE);
      s != RUMOR_OK) {
    return s;
  }
  return guarded([&] {
    handle->engine = std::make_unique<rumor::GossipEngine>(
        gossip_config, endpoints, config->rank, *handle->backend, params, count);
    *out = handle.release();
    return RUMOR_OK;
  });
}

rumor_status rumor_publish(rumor_engine* engine, int64_t step) {
  if (engine == nullptr) return null_argument("rumor_publish", "engine");
  return guarded([&] {
    engine->engine->publish(step);
    return RUMOR_OK;
  });
}

rumor_status rumor_mix(rumor_engine* engine, int* applied) {
  if (engine == nullptr) return null_argument("rumor_mix", "engine");
  return guarded([&] {
    const int n = engine->engine->mix();
    engine->backend->synchronize();  // CUDA: the mixed parameters are final on return
    if (applied != nullptr) *applied = n;
    return RUMOR_OK;
  });
}

rumor_status rumor_stats(const rumor_engine* engine, struct rumor_stats* out) {
  if (engine == nullptr) return null_argument("rumor_stats", "engine");
  if (out == nullptr) return null_argument("rumor_stats", "out");
  return guarded([&] {
    const rumor::GossipStats s = engine->engine->stats();
    struct rumor_stats r {};
    r.rank = engine->engine->rank();
    r.world = engine->engine->world();
    r.step = s.step;
    r.rounds = s.rounds;
    r.sent = s.sent;
    r.received = s.received;
    r.applied = s.applied;
    r.dropped_stale = s.dropped_stale;
    r.dropped = s.dropped_stale;
    for (const rumor::GossipPeerStats& peer : s.peers) {
      if (peer.state != "dead") ++r.live_peers;
      r.dropped += peer.dropped;
    }
    r.waits = s.waits;
    r.weight = s.weight;
    *out = r;
    return RUMOR_OK;
  });
}

rumor_status rumor_engine_destroy(rumor_engine* engine) {
  if (engine == nullptr) return RUMOR_OK;
  const std::unique_ptr<rumor_engine> owned(engine);
  return guarded([&] {
    owned->engine.reset();
    return RUMOR_OK;
  });
}

const char* rumor_last_error(void) { return last_error.c_str(); }

const char* rumor_status_string(rumor_status status) {
  switch (status) {
    case RUMOR_OK: return "ok";
    case RUMOR_ERROR_INVALID_ARGUMENT: return "invalid argument";
    case RUMOR_ERROR_CONFIG: return "configuration error";
    case RUMOR_ERROR_DEVICE: return "device error";
    case RUMOR_ERROR_RUNTIME: return "runtime error";
    case RUMOR_ERROR_OUT_OF_MEMORY: return "out of memory";
  }
  return "unknown status";
}

const char* rumor_version(void) { return RUMOR_VERSION; }

}  // extern "C"
