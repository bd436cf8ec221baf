// zmq_transport.h — the ZeroMQ implementation of Transport.
//
// Sockets: one ROUTER bound on this peer's endpoint (the inbox) and one DEALER per neighbour
// whose routing id is this peer's rank, so the receiver knows who is talking. One I/O thread
// creates, uses and closes every socket; the owner (any thread) talks to it through a
// mutex-guarded command queue plus an eventfd that wakes its zmq_poll, and receives through
// the Inbox. Sends are non-blocking with small high-water marks: a neighbour that cannot take
// more makes send() return kQueueFull. Payloads go out zero-copy (the message keeps its buffer
// alive until libzmq is done with it); received payloads are not copied either. Reconnection is
// ZeroMQ's, with capped exponential backoff. Endpoints: tcp://, ipc://, inproc:// (inproc
// peers must share one context: pass it in the options).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "net/transport.h"

namespace zmq {
class context_t;
}

namespace rumor {

struct ZmqTransportOptions {
  std::uint32_t rank = 0;
  std::uint32_t num_peers = 0;
  // Where the inbox binds: "tcp://127.0.0.1:*" (OS-chosen port), "ipc:///tmp/p3",
  // "inproc://p3". endpoint() returns it resolved.
  std::string bind_endpoint;
  // What the inbox accepts. num_peers and self_rank are filled in from the fields above.
  // max_elements also sets ZMQ_MAXMSGSIZE (× 4 bytes): larger frames close the connection.
  Expectations expect;

  int send_hwm = 2;             // messages libzmq queues per neighbour socket
  int receive_hwm = 4;          // messages libzmq queues in the inbox socket
  std::size_t max_pending = 4;  // messages per neighbour not yet taken by libzmq; beyond: kQueueFull
  std::chrono::milliseconds pending_ttl{2000};  // older pending messages are dropped (kExpired)
  std::size_t inbox_capacity = 1024;            // non-PARAMS messages waiting for receive()
  // PARAMS wait in a latest-wins slot per sender (a newer one supersedes the older); false
  // queues them in the FIFO with everything else, so none is lost to supersession.
  bool latest_wins_params = true;
  std::chrono::milliseconds reconnect_interval{100};      // first retry after a lost connection
  std::chrono::milliseconds reconnect_interval_max{5000};  // backoff cap
  std::shared_ptr<zmq::context_t> context;  // null: a private context with one I/O thread
};

class ZmqTransport final : public Transport {
 public:
  // Starts the I/O thread and binds the inbox; blocks until bound. Throws ConfigError for bad
  // options or an endpoint that cannot be bound (naming it and ZeroMQ's reason).
  explicit ZmqTransport(ZmqTransportOptions options);
  // Stops the I/O thread; what is still queued is discarded (linger 0). Blocks until joined.
  ~ZmqTransport() override;
  ZmqTransport(const ZmqTransport&) = delete;
  ZmqTransport& operator=(const ZmqTransport&) = delete;

  std::uint32_t rank() const override;
  std::uint32_t num_peers() const override;
  std::string endpoint() const override;
  void connect(std::uint32_t peer, const std::string& endpoint) override;
  void disconnect(std::uint32_t peer) override;
  void refresh(std::uint32_t peer) override;
  [[nodiscard]] SendResult send(std::uint32_t peer, Message message,
                                std::chrono::milliseconds wait) override;
  std::optional<Message> receive(std::chrono::milliseconds timeout) override;
  NetCounters counters() const override;

  struct Impl;  // state shared by the owner side and the I/O thread (zmq_transport.cc)

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace rumor
