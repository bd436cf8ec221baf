// zmq_transport.cc — ZmqTransport, owner side: options checks, start/stop of the I/O thread,
// and the thread-safe calls that hand work to it. The I/O thread is in zmq_io_loop.cc.
#include "net/zmq_transport.h"

#include <sched.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/error.h"
#include "core/threads.h"
#include "net/zmq_transport_impl.h"

namespace rumor {

namespace {

ZmqTransportOptions checked(ZmqTransportOptions o) {
  if (o.num_peers == 0 || o.rank >= o.num_peers) {
    throw ConfigError(detail::concat("net: rank ", o.rank, " outside a peer list of ", o.num_peers,
                                     " (valid: 0..num_peers-1)"));
  }
  if (o.bind_endpoint.empty()) throw ConfigError("net: empty bind endpoint");
  if (o.send_hwm < 1 || o.receive_hwm < 1 || o.max_pending < 1) {
    throw ConfigError(detail::concat("net: send_hwm ", o.send_hwm, ", receive_hwm ",
                                     o.receive_hwm, ", max_pending ", o.max_pending,
                                     " must all be >= 1"));
  }
  if (o.reconnect_interval.count() < 1 || o.reconnect_interval_max < o.reconnect_interval) {
    throw ConfigError(detail::concat("net: reconnect interval ", o.reconnect_interval.count(),
                                     " ms / max ", o.reconnect_interval_max.count(),
                                     " ms: need 1 <= interval <= max"));
  }
  o.expect.num_peers = o.num_peers;
  o.expect.self_rank = o.rank;
  return o;
}

}  // namespace

std::string_view send_result_name(SendResult result) {
  switch (result) {
    case SendResult::kQueued: return "queued";
    case SendResult::kQueueFull: return "queue_full";
    case SendResult::kNotConnected: return "not_connected";
    case SendResult::kClosed: return "closed";
  }
  return "unknown";
}

WakeFd::WakeFd() : fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  RUMOR_CHECK(fd_ >= 0, "eventfd failed: ", std::strerror(errno));
}

WakeFd::~WakeFd() { ::close(fd_); }

void WakeFd::signal() {
  const std::uint64_t one = 1;
  // EAGAIN only when the counter is saturated, which still wakes the reader: ignore.
  [[maybe_unused]] const ssize_t n = ::write(fd_, &one, sizeof one);
}

void WakeFd::drain() {
  std::uint64_t value = 0;
  [[maybe_unused]] const ssize_t n = ::read(fd_, &value, sizeof value);
}

namespace {

// A context of its own for a transport: one libzmq I/O thread (TCP reads and writes), scheduled
// in the background like the transport's own thread (make_this_thread_background).
std::shared_ptr<zmq::context_t> background_context() {
  auto context = std::make_shared<zmq::context_t>(1);
#if defined(SCHED_BATCH) && defined(ZMQ_THREAD_SCHED_POLICY)
  context->set(zmq::ctxopt::thread_sched_policy, SCHED_BATCH);
#endif
  return context;
}

}  // namespace

ZmqTransport::Impl::Impl(ZmqTransportOptions opts)
    : options(checked(std::move(opts))),
      context(options.context ? options.context : background_context()),
      counters(options.num_peers),
      inbox(options.num_peers, options.inbox_capacity, counters, options.latest_wins_params),
      connected(options.num_peers, false),
      pending(options.num_peers, 0) {}

void ZmqTransport::Impl::post(ZmqCommand command) {
  {
    std::lock_guard lock(mutex);
    commands.push_back(std::move(command));
  }
  wake.signal();
}

void ZmqTransport::Impl::release_pending(std::uint32_t peer, std::size_t count) {
  if (count == 0) return;
  {
    std::lock_guard lock(mutex);
    pending[peer] -= std::min(pending[peer], count);
  }
  room.notify_all();
}

ZmqTransport::ZmqTransport(ZmqTransportOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {
  std::promise<std::string> bound;
  std::future<std::string> endpoint = bound.get_future();
  impl_->io_thread = std::thread([impl = impl_.get(), p = std::move(bound)]() mutable {
    name_this_thread("rumor-zmq" + std::to_string(impl->options.rank));
    make_this_thread_background();
    impl->io_main(std::move(p));
  });
  try {
    impl_->endpoint = endpoint.get();
  } catch (...) {
    impl_->io_thread.join();  // io_main returns right after a failed bind
    throw;
  }
}

ZmqTransport::~ZmqTransport() {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->closed = true;
  }
  impl_->room.notify_all();
  ZmqCommand stop;
  stop.kind = ZmqCommand::Kind::kStop;
  impl_->post(std::move(stop));
  impl_->io_thread.join();
  impl_->inbox.close();
}

std::uint32_t ZmqTransport::rank() const { return impl_->options.rank; }
std::uint32_t ZmqTransport::num_peers() const { return impl_->options.num_peers; }
std::string ZmqTransport::endpoint() const { return impl_->endpoint; }
NetCounters ZmqTransport::counters() const { return impl_->counters.snapshot(); }

void ZmqTransport::connect(std::uint32_t peer, const std::string& endpoint) {
  if (peer >= impl_->options.num_peers || peer == impl_->options.rank) {
    throw ConfigError(detail::concat("net: cannot connect rank ", impl_->options.rank,
                                     " to peer ", peer, " (valid: other ranks below ",
                                     impl_->options.num_peers, ")"));
  }
  ZmqCommand command;
  command.kind = ZmqCommand::Kind::kConnect;
  command.peer = peer;
  command.endpoint = endpoint;
  command.done = std::make_shared<std::promise<void>>();
  std::future<void> done = command.done->get_future();
  {
    std::lock_guard lock(impl_->mutex);
    if (impl_->closed) throw Error("net: connect on a closed transport");
  }
  impl_->post(std::move(command));
  done.get();  // rethrows the I/O thread's ConfigError
  std::lock_guard lock(impl_->mutex);
  impl_->connected[peer] = true;
}

void ZmqTransport::disconnect(std::uint32_t peer) {
  if (peer >= impl_->options.num_peers) return;
  ZmqCommand command;
  command.kind = ZmqCommand::Kind::kDisconnect;
  command.peer = peer;
  command.done = std::make_shared<std::promise<void>>();
  std::future<void> done = command.done->get_future();
  {
    std::lock_guard lock(impl_->mutex);
    if (impl_->closed) return;
    impl_->connected[peer] = false;
  }
  impl_->post(std::move(command));
  done.get();
}

void ZmqTransport::refresh(std::uint32_t peer) {
  if (peer >= impl_->options.num_peers) return;
  {
    std::lock_guard lock(impl_->mutex);
    if (impl_->closed || !impl_->connected[peer]) return;
  }
  ZmqCommand command;
  command.kind = ZmqCommand::Kind::kRefresh;
  command.peer = peer;
  impl_->post(std::move(command));
}

SendResult ZmqTransport::send(std::uint32_t peer, Message message,
                              std::chrono::milliseconds wait) {
  Impl& s = *impl_;
  if (peer >= s.options.num_peers) return SendResult::kNotConnected;
  ZmqCommand command;
  command.kind = ZmqCommand::Kind::kSend;
  command.peer = peer;
  command.header = encode_header(message.header);  // outside the lock: the sender's CPU time
  command.message = std::move(message);
  {
    std::unique_lock lock(s.mutex);
    const auto has_room = [&] { return s.closed || s.pending[peer] < s.options.max_pending; };
    if (!has_room() && wait.count() > 0) s.room.wait_for(lock, wait, has_room);
    if (s.closed) return SendResult::kClosed;
    if (!s.connected[peer]) return SendResult::kNotConnected;
    if (s.pending[peer] >= s.options.max_pending) {
      s.counters.add_drop(peer, DropReason::kQueueFull);
      return SendResult::kQueueFull;
    }
    ++s.pending[peer];
    command.queued = std::chrono::steady_clock::now();
    s.commands.push_back(std::move(command));
  }
  s.wake.signal();
  return SendResult::kQueued;
}

std::optional<Message> ZmqTransport::receive(std::chrono::milliseconds timeout) {
  return impl_->inbox.pop(timeout);
}

}  // namespace rumor
