// transport.h — the interface peers talk through: send a message to a neighbour, receive the
// next validated message, read the counters.
//
// Implementations: ZmqTransport (net/zmq_transport.h, ZeroMQ) and FaultyTransport
// (net/faulty_transport.h, a fault-injecting decorator around any Transport). Everything here
// is thread-safe. Would-block is a return value: send() never waits longer than it is told,
// receive() returns nullopt at its deadline.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "net/counters.h"
#include "net/message.h"

namespace rumor {

enum class SendResult {
  kQueued,        // accepted; the transport owns the message now
  kQueueFull,     // the neighbour's outgoing queue is full (counted as a kQueueFull drop)
  kNotConnected,  // connect() was never called for this neighbour (a caller bug)
  kClosed,        // the transport is shutting down
};
std::string_view send_result_name(SendResult result);

class Transport {
 public:
  virtual ~Transport() = default;

  virtual std::uint32_t rank() const = 0;
  virtual std::uint32_t num_peers() const = 0;
  // The endpoint this peer's inbox is bound to, with a wildcard port resolved
  // (e.g. "tcp://127.0.0.1:41233"): what neighbours pass to connect().
  virtual std::string endpoint() const = 0;

  // Opens the outgoing link to `peer` (≠ rank(), < num_peers()) at `endpoint`. Returns once the
  // link exists, not once connected: the connection is made, and remade after failures, in the
  // background with capped exponential backoff. Reconnecting a connected peer to a new endpoint
  // replaces the link. Throws ConfigError for an invalid peer or endpoint.
  virtual void connect(std::uint32_t peer, const std::string& endpoint) = 0;
  // Closes the outgoing link to `peer`, discarding what is queued for it.
  virtual void disconnect(std::uint32_t peer) = 0;
  // `peer` is known to be up (a message from it just arrived): a link to it that has never
  // carried a message is reopened now rather than after its reconnect backoff, which can be
  // seconds when the peer started later than us. Never discards a message. Does not block.
  virtual void refresh(std::uint32_t /*peer*/) {}

  // Queues `message` for `peer`; the payload is sent without copying and must not change
  // afterwards. When the peer's queue is full, waits up to `wait` for room (0: not at all).
  [[nodiscard]] virtual SendResult send(std::uint32_t peer, Message message,
                                        std::chrono::milliseconds wait) = 0;
  [[nodiscard]] SendResult try_send(std::uint32_t peer, Message message) {
    return send(peer, std::move(message), std::chrono::milliseconds(0));
  }

  // The next delivered message, waiting up to `timeout`; nullopt when none came in time.
  virtual std::optional<Message> receive(std::chrono::milliseconds timeout) = 0;
  std::optional<Message> try_receive() { return receive(std::chrono::milliseconds(0)); }

  virtual NetCounters counters() const = 0;
};

}  // namespace rumor
