// zmq_io_loop.cc — ZmqTransport's I/O thread: owns the inbox ROUTER and one DEALER per
// neighbour, moves commands from the owner into sockets, validates what arrives.
//
// One loop: zmq_poll on the wake eventfd, the ROUTER (readable) and every DEALER that has
// something pending (writable); then run commands, hand pending messages to libzmq without
// blocking, read a bounded batch of incoming messages, and expire pending messages that waited
// longer than pending_ttl. Nothing here blocks except zmq_poll.
#include <cerrno>
#include <charconv>
#include <optional>
#include <string>

#include "core/error.h"
#include "core/log.h"
#include "net/zmq_transport_impl.h"

namespace rumor {

namespace {

using SteadyTime = std::chrono::steady_clock::time_point;

// Incoming messages read per loop iteration before commands get another look.
constexpr int kReceiveBatch = 16;
// A frame count above this is already a kExtraFrame; further frames are read and discarded.
constexpr std::size_t kMaxKeptFrames = 3;

std::string routing_id(std::uint32_t rank) { return std::to_string(rank); }

// The rank a routing id names (decimal, as routing_id() writes it), if it is a valid peer.
std::optional<std::uint32_t> parse_routing_id(const zmq::message_t& id, std::uint32_t num_peers) {
  const char* begin = static_cast<const char*>(id.data());
  const char* end = begin + id.size();
  std::uint32_t rank = 0;
  const auto [ptr, ec] = std::from_chars(begin, end, rank);
  if (ec != std::errc() || ptr != end || id.size() == 0 || rank >= num_peers) return std::nullopt;
  return rank;
}

void free_payload_owner(void* /*data*/, void* hint) {
  std::unique_ptr<std::shared_ptr<const void>> owner(static_cast<std::shared_ptr<const void>*>(hint));
}

// Frame 2 without copying: libzmq holds a reference to the payload's owner until it has sent
// the bytes (it calls free_payload_owner from its own I/O thread). A payload without an owner
// is copied, since nothing would keep its bytes alive.
zmq::message_t payload_frame(const Payload& payload) {
  if (payload.empty()) return zmq::message_t();
  if (!payload.owner()) return zmq::message_t(payload.data(), payload.size());
  auto owner = std::make_unique<std::shared_ptr<const void>>(payload.owner());
  zmq::message_t frame(const_cast<std::byte*>(payload.data()), payload.size(), &free_payload_owner,
                       owner.get());
  owner.release();  // now libzmq's, returned through free_payload_owner
  return frame;
}

class IoLoop {
 public:
  explicit IoLoop(ZmqTransport::Impl& shared)
      : s_(shared), router_(*s_.context, zmq::socket_type::router), links_(s_.options.num_peers) {
    const auto& o = s_.options;
    const std::uint64_t max_payload = o.expect.max_elements * 4;  // largest dtype: float32
    router_.set(zmq::sockopt::linger, 0);
    router_.set(zmq::sockopt::rcvhwm, o.receive_hwm);
    router_.set(zmq::sockopt::router_handover, 1);  // a restarted peer takes over its identity
    router_.set(zmq::sockopt::maxmsgsize,
                static_cast<std::int64_t>(std::max<std::uint64_t>(max_payload, kMaxHeaderBytes)));
    router_.bind(o.bind_endpoint);
  }

  std::string bound_endpoint() { return router_.get(zmq::sockopt::last_endpoint); }

  // Unbinding first makes an inproc name free again before this returns (closing alone frees
  // it later, on libzmq's reaper thread), so a restarted peer can bind it at once.
  ~IoLoop() {
    try {
      router_.unbind(bound_endpoint());
    } catch (const zmq::error_t&) {
      // Already gone: nothing to free.
    }
  }

  void run() {
    while (!stop_) {
      poll();
      handle_commands();
      for (std::uint32_t peer = 0; peer < links_.size(); ++peer) flush(peer);
      receive_batch();
      expire(std::chrono::steady_clock::now());
    }
    // Sockets close with linger 0 as the loop is destroyed; queued messages are released.
    for (std::uint32_t peer = 0; peer < links_.size(); ++peer) discard(peer);
  }

 private:
  struct Link {
    std::optional<zmq::socket_t> dealer;
    std::string endpoint;
    bool carried = false;          // libzmq has taken a message on this dealer
    std::deque<ZmqCommand> queue;  // kSend commands not yet taken by libzmq
  };

  void poll() {
    items_.clear();
    items_.push_back({nullptr, s_.wake.fd(), ZMQ_POLLIN, 0});
    items_.push_back({router_.handle(), 0, ZMQ_POLLIN, 0});
    for (Link& link : links_) {
      if (link.dealer && !link.queue.empty()) {
        items_.push_back({link.dealer->handle(), 0, ZMQ_POLLOUT, 0});
      }
    }
    const long timeout_ms = poll_timeout(std::chrono::steady_clock::now()).count();
    if (zmq_poll(items_.data(), static_cast<int>(items_.size()), timeout_ms) < 0 &&
        zmq_errno() != EINTR) {
      throw zmq::error_t();
    }
  }

  // Until the oldest pending message expires; forever when nothing is pending.
  std::chrono::milliseconds poll_timeout(SteadyTime now) const {
    std::optional<SteadyTime> first;
    for (const Link& link : links_) {
      if (!link.queue.empty() && (!first || link.queue.front().queued < *first)) {
        first = link.queue.front().queued;
      }
    }
    if (!first) return std::chrono::milliseconds(-1);
    const auto left = *first + s_.options.pending_ttl - now;
    return std::max(std::chrono::milliseconds(0),
                    std::chrono::ceil<std::chrono::milliseconds>(left));
  }

  void handle_commands() {
    s_.wake.drain();
    std::deque<ZmqCommand> batch;
    {
      std::lock_guard lock(s_.mutex);
      batch.swap(s_.commands);
    }
    for (ZmqCommand& command : batch) {
      switch (command.kind) {
        case ZmqCommand::Kind::kConnect: open_link(command); break;
        case ZmqCommand::Kind::kRefresh: refresh_link(command.peer); break;
        case ZmqCommand::Kind::kDisconnect:
          discard(command.peer);
          links_[command.peer].dealer.reset();
          command.done->set_value();
          break;
        case ZmqCommand::Kind::kSend:
          if (links_[command.peer].dealer) {
            links_[command.peer].queue.push_back(std::move(command));
          } else {  // disconnected after send() accepted it
            s_.release_pending(command.peer, 1);
          }
          break;
        case ZmqCommand::Kind::kStop: stop_ = true; break;
      }
    }
  }

  void open_link(ZmqCommand& command) {
    try {
      links_[command.peer].dealer = make_dealer(command.endpoint);  // closes an older link
      links_[command.peer].endpoint = command.endpoint;
      links_[command.peer].carried = false;
      command.done->set_value();
    } catch (const zmq::error_t& e) {
      command.done->set_exception(std::make_exception_ptr(ConfigError(detail::concat(
          "net: cannot connect to peer ", command.peer, " at '", command.endpoint, "': ", e.what(),
          " (expected tcp://host:port, ipc://path or inproc://name)"))));
    }
  }

  // A link that never carried anything holds no message in libzmq: reopening it loses nothing
  // and skips the reconnect backoff.
  void refresh_link(std::uint32_t peer) {
    Link& link = links_[peer];
    if (!link.dealer || link.carried) return;
    try {
      link.dealer = make_dealer(link.endpoint);
    } catch (const zmq::error_t& e) {
      log(LogLevel::kWarn, "net: cannot reopen the link to peer ", peer, ": ", e.what());
    }
  }

  zmq::socket_t make_dealer(const std::string& endpoint) {
    const auto& o = s_.options;
    zmq::socket_t dealer(*s_.context, zmq::socket_type::dealer);
    dealer.set(zmq::sockopt::linger, 0);
    dealer.set(zmq::sockopt::routing_id, routing_id(o.rank));
    dealer.set(zmq::sockopt::sndhwm, o.send_hwm);
    dealer.set(zmq::sockopt::immediate, 1);  // queue only on live connections
    dealer.set(zmq::sockopt::reconnect_ivl, static_cast<int>(o.reconnect_interval.count()));
    dealer.set(zmq::sockopt::reconnect_ivl_max,
               static_cast<int>(o.reconnect_interval_max.count()));
    dealer.connect(endpoint);
    return dealer;
  }

  // Hands queued messages to libzmq until it would block.
  void flush(std::uint32_t peer) {
    Link& link = links_[peer];
    std::size_t sent = 0;
    while (link.dealer && !link.queue.empty()) {
      ZmqCommand& next = link.queue.front();
      zmq::message_t header(next.header.data(), next.header.size());
      if (!link.dealer->send(header, zmq::send_flags::sndmore | zmq::send_flags::dontwait)) break;
      // Once the first frame is accepted libzmq takes the rest of the message without blocking.
      zmq::message_t payload = payload_frame(next.message.payload);
      if (!link.dealer->send(payload, zmq::send_flags::dontwait)) {
        log(LogLevel::kError, "net: libzmq refused frame 2 after frame 1 (peer ", peer, ")");
      }
      s_.counters.add_out(peer, next.header.size() + next.message.payload.size());
      link.carried = true;
      link.queue.pop_front();
      ++sent;
    }
    s_.release_pending(peer, sent);
  }

  void expire(SteadyTime now) {
    for (std::uint32_t peer = 0; peer < links_.size(); ++peer) {
      auto& queue = links_[peer].queue;
      std::size_t expired = 0;
      while (!queue.empty() && now - queue.front().queued >= s_.options.pending_ttl) {
        queue.pop_front();
        s_.counters.add_drop(peer, DropReason::kExpired);
        ++expired;
      }
      s_.release_pending(peer, expired);
    }
  }

  void discard(std::uint32_t peer) {
    const std::size_t n = links_[peer].queue.size();
    links_[peer].queue.clear();
    s_.release_pending(peer, n);
  }

  void receive_batch() {
    for (int i = 0; i < kReceiveBatch; ++i) {
      zmq::message_t identity;
      if (!router_.recv(identity, zmq::recv_flags::dontwait)) return;
      std::vector<zmq::message_t> frames;
      std::uint64_t bytes = 0;
      bool more = identity.more();
      while (more) {  // the rest of a multipart message is already here
        zmq::message_t part;
        if (!router_.recv(part, zmq::recv_flags::dontwait)) break;
        more = part.more();
        bytes += part.size();
        if (frames.size() < kMaxKeptFrames) frames.push_back(std::move(part));
      }
      accept(identity, frames, bytes);
    }
  }

  void accept(const zmq::message_t& identity, std::vector<zmq::message_t>& frames,
              std::uint64_t bytes) {
    const std::optional<std::uint32_t> id_rank = parse_routing_id(identity, s_.options.num_peers);
    std::shared_ptr<zmq::message_t> payload;
    std::vector<FrameView> views;
    for (std::size_t i = 0; i < frames.size(); ++i) {
      if (i == 1) {  // the payload outlives this function inside the delivered Message
        payload = std::make_shared<zmq::message_t>(std::move(frames[1]));
        views.emplace_back(static_cast<const std::byte*>(payload->data()), payload->size());
      } else {
        views.emplace_back(static_cast<const std::byte*>(frames[i].data()), frames[i].size());
      }
    }
    DecodeResult result = decode_message(views, payload, s_.options.expect);
    const std::optional<std::uint32_t> who = result.sender ? result.sender : id_rank;
    s_.counters.add_in(who, bytes);
    std::optional<DropReason> drop;
    if (!result.ok()) drop = result.reason;
    else if (result.sender != id_rank) drop = DropReason::kIdentityMismatch;
    if (drop) {
      s_.counters.add_drop(who, *drop);
      logger_.note(*drop, who, std::chrono::steady_clock::now());
      return;
    }
    s_.inbox.push(std::move(*result.message));
  }

  ZmqTransport::Impl& s_;
  zmq::socket_t router_;
  std::vector<Link> links_;
  std::vector<zmq::pollitem_t> items_;
  DropLogger logger_;
  bool stop_ = false;
};

}  // namespace

void ZmqTransport::Impl::io_main(std::promise<std::string> bound) {
  std::optional<IoLoop> loop;
  try {
    loop.emplace(*this);
    bound.set_value(loop->bound_endpoint());
  } catch (const zmq::error_t& e) {
    bound.set_exception(std::make_exception_ptr(ConfigError(detail::concat(
        "net: cannot bind '", options.bind_endpoint, "': ", e.what(),
        " (expected tcp://host:port or tcp://host:*, ipc://path or inproc://name)"))));
    return;
  }
  try {
    loop->run();
  } catch (const std::exception& e) {
    // A broken environment (e.g. out of file descriptors): stop serving, let callers see kClosed.
    log(LogLevel::kError, "net: I/O thread stopped: ", e.what());
    std::deque<ZmqCommand> orphans;
    {
      std::lock_guard lock(mutex);
      closed = true;
      orphans.swap(commands);
    }
    for (ZmqCommand& command : orphans) {
      if (command.done) {
        command.done->set_exception(
            std::make_exception_ptr(Error("net: the I/O thread has stopped")));
      }
    }
    room.notify_all();
    inbox.close();
  }
}

}  // namespace rumor
