// peer_client.h — a blocking HTTP client for one peer's endpoint (what `rumor ctl` uses).
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "peer/host_port.h"

namespace rumor {

struct HttpReply {
  int status = 0;    // HTTP status code
  std::string body;
};

class PeerClient {
 public:
  // Connects lazily; every request waits at most `timeout` to connect and again to read.
  PeerClient(HostPort peer, std::chrono::milliseconds timeout);
  ~PeerClient();
  PeerClient(const PeerClient&) = delete;
  PeerClient& operator=(const PeerClient&) = delete;

  // Block until the peer answers. Throw Error "cannot reach peer at HOST:PORT: <why>" when
  // it cannot be reached or does not answer in time; any HTTP status is a reply.
  HttpReply get(const std::string& path);
  HttpReply post_json(const std::string& path, const std::string& body);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The "error" member of a JSON error body, or the body itself when it has none.
std::string error_message(const HttpReply& reply);

}  // namespace rumor
