// http_server.h — the peer's HTTP endpoint: status, Prometheus metrics and runtime fault
// injection for `rumor peer --http HOST:PORT` (docs/MONITORING.md).
//
//   GET  /status   PeerStatus as JSON (application/json)
//   GET  /metrics  PeerStatus as Prometheus text (text/plain; version=0.0.4)
//   GET  /faults   the current RuntimeFaults as JSON
//   POST /faults   apply a JSON body of fault fields, answer the new RuntimeFaults
// Errors are JSON objects {"error": "..."}: 403 for /faults when fault injection is disabled,
// 400 for a bad body, 404 for an unknown route, 413 for a body over 64 KiB, 500 when a
// handler throws.
//
// Threads: the server runs its own accept thread and a small pool of connection threads. The
// handlers are called from those threads, one at a time (never concurrently with each other),
// so a GET /faults + POST /faults pair is atomic. They must not call back into the server.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "peer/fault_request.h"
#include "peer/peer_status.h"

namespace rumor {

struct HttpHandlers {
  std::function<PeerStatus()> status;                     // required
  std::function<RuntimeFaults()> get_faults;              // required when set_faults is set
  // Applies new faults; may throw ConfigError to refuse them (the client gets 400 and the
  // message). Empty: fault injection is disabled and /faults answers 403.
  std::function<void(const RuntimeFaults&)> set_faults;
};

class HttpServer {
 public:
  // Binds `address` ("HOST:PORT", port 0 = a free port chosen by the system) and starts
  // serving before returning. Throws ConfigError naming --http and the address when it is
  // malformed, the host cannot be resolved or the port cannot be bound (e.g. in use).
  HttpServer(const std::string& address, HttpHandlers handlers);
  // Stops accepting, finishes the requests in progress and joins the server's threads.
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The bound address as "host:port", with the actual port when 0 was asked for.
  std::string address() const;
  int port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rumor
