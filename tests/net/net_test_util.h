// net_test_util.h — helpers for transport tests: endpoints per transport kind, options,
// messages whose content is known, and waiting on a condition with a deadline (never sleeping
// a fixed time to "let it connect").
#pragma once

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <zmq.hpp>

#include "net/message.h"
#include "net/zmq_transport.h"

namespace rumor::testing {

using namespace std::chrono_literals;

enum class Kind { kInproc, kIpc, kTcp };

inline std::string kind_name(Kind kind) {
  switch (kind) {
    case Kind::kInproc: return "inproc";
    case Kind::kIpc: return "ipc";
    case Kind::kTcp: return "tcp";
  }
  return "?";
}

// Polls `done` until it holds or `timeout` passes; true when it held. The poll interval is
// short; the deadline only bounds a failing test.
inline bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

inline constexpr std::uint64_t kTestRun = 1234;
inline constexpr std::uint64_t kTestFingerprint = 0xf00dULL;

// Endpoints and options for a small cluster of one kind. inproc peers share context(); tcp and
// ipc peers get a private context each, as separate processes would, so that destroying one
// closes its listening socket before the destructor returns (a restart can bind it again).
class TestNet {
 public:
  explicit TestNet(Kind kind) : kind_(kind) {}

  // A fresh endpoint to bind: OS-chosen port for tcp, unique names for ipc and inproc.
  std::string bind_endpoint() {
    static std::atomic<int> counter{0};
    const int id = counter++;
    switch (kind_) {
      case Kind::kInproc: return "inproc://rumor-test-" + std::to_string(id);
      case Kind::kIpc:
        return "ipc:///tmp/rumor-test-" + std::to_string(::getpid()) + "-" + std::to_string(id);
      case Kind::kTcp: return "tcp://127.0.0.1:*";
    }
    return {};
  }

  ZmqTransportOptions options(std::uint32_t rank, std::uint32_t num_peers,
                              std::string endpoint = {}) {
    ZmqTransportOptions o;
    o.rank = rank;
    o.num_peers = num_peers;
    o.bind_endpoint = endpoint.empty() ? bind_endpoint() : std::move(endpoint);
    o.expect.run_id = kTestRun;
    o.expect.fingerprint = kTestFingerprint;
    o.expect.max_elements = 1 << 20;
    o.reconnect_interval = 10ms;
    o.reconnect_interval_max = 100ms;
    if (kind_ == Kind::kInproc) o.context = context_;
    return o;
  }

  std::unique_ptr<ZmqTransport> make(std::uint32_t rank, std::uint32_t num_peers,
                                     std::string endpoint = {}) {
    return std::make_unique<ZmqTransport>(options(rank, num_peers, std::move(endpoint)));
  }

  // For inproc transports and for raw test sockets.
  const std::shared_ptr<zmq::context_t>& context() const { return context_; }
  Kind kind() const { return kind_; }

 private:
  Kind kind_;
  std::shared_ptr<zmq::context_t> context_ = std::make_shared<zmq::context_t>(1);
};

inline MessageFactory::Identity identity(std::uint32_t rank, std::uint64_t incarnation = 1) {
  return {kTestRun, kTestFingerprint, rank, incarnation};
}

// A PARAMS-like message whose n values are all `value`.
inline Message filled(MessageFactory& factory, MessageType type, std::size_t n, float value,
                      BufferPool& pool, WireDType dtype = WireDType::kFloat32) {
  const std::vector<float> values(n, value);
  return factory.make_floats(type, /*step=*/1, values, dtype, pool);
}

// Receives until `timeout`; nullopt when nothing came.
inline std::optional<Message> receive_within(Transport& t, std::chrono::milliseconds timeout = 10s) {
  return t.receive(timeout);
}

}  // namespace rumor::testing
