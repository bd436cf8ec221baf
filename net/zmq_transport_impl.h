// zmq_transport_impl.h — internal to ZmqTransport: the state shared by the owner side
// (zmq_transport.cc) and the I/O thread (zmq_io_loop.cc). Not part of the net/ interface.
//
// Ownership: the I/O thread owns every ZeroMQ socket (they live in its IoLoop); everything
// here is either immutable after construction, internally synchronised (counters, inbox,
// wake fd), or guarded by `mutex`.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <zmq.hpp>

#include "net/counters.h"
#include "net/inbox.h"
#include "net/zmq_transport.h"

namespace rumor {

// An eventfd that wakes the I/O thread's poll. signal() is thread-safe and never blocks.
class WakeFd {
 public:
  WakeFd();
  ~WakeFd();
  WakeFd(const WakeFd&) = delete;
  WakeFd& operator=(const WakeFd&) = delete;
  int fd() const { return fd_; }
  void signal();
  void drain();  // resets the counter (I/O thread)

 private:
  int fd_;
};

// One unit of work for the I/O thread.
struct ZmqCommand {
  enum class Kind { kConnect, kDisconnect, kRefresh, kSend, kStop };
  Kind kind = Kind::kStop;
  std::uint32_t peer = 0;
  std::string endpoint;                        // kConnect
  std::shared_ptr<std::promise<void>> done;    // kConnect, kDisconnect: completion / error
  Message message;                             // kSend
  std::vector<std::byte> header;               // kSend: encoded frame 1 (by the sender thread)
  std::chrono::steady_clock::time_point queued;  // kSend: for pending_ttl
};

struct ZmqTransport::Impl {
  explicit Impl(ZmqTransportOptions opts);

  // Appends a command and wakes the I/O thread. Caller must hold no lock.
  void post(ZmqCommand command);
  // The I/O thread took `count` messages for `peer` out of the pending queue.
  void release_pending(std::uint32_t peer, std::size_t count);
  // The I/O thread's body; `bound` receives the resolved endpoint or the bind error.
  void io_main(std::promise<std::string> bound);

  const ZmqTransportOptions options;
  std::shared_ptr<zmq::context_t> context;
  CounterTable counters;
  Inbox inbox;
  WakeFd wake;
  std::string endpoint;  // set once before the constructor returns

  std::mutex mutex;
  std::condition_variable room;       // a pending count dropped
  std::deque<ZmqCommand> commands;    // owner → I/O thread
  std::vector<bool> connected;        // by peer, as the owner side sees it
  std::vector<std::size_t> pending;   // by peer: accepted by send(), not yet taken by libzmq
  bool closed = false;

  std::thread io_thread;
};

}  // namespace rumor
