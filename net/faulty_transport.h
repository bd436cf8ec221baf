// faulty_transport.h — a Transport decorator that injects network faults: drop, delay (fixed +
// jitter), duplicate, reorder, corrupt, partition. For tests and failure-injection scenarios;
// production code never branches on it — it is simply not wrapped around the transport.
//
// Faults act on outgoing messages (send), except the partition, which also discards incoming
// messages from partitioned peers (receive), so one peer's config cuts a link both ways. Every
// random decision comes from one seeded Rng, drawn in a fixed pattern per send() call: the same
// seed and the same sequence of sends give the same faults. The config can be replaced at any
// time (set_config). Delayed and held-back messages are sent by the decorator's own timer
// thread through the inner transport's (thread-safe) send.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <stop_token>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/rng.h"
#include "net/forwarding_transport.h"

namespace rumor {

// A Byzantine peer sends well-formed messages (valid checksum) whose parameters are wrong:
// NaN, random garbage, or scaled by a factor. Receivers must notice and reject them.
enum class Byzantine { kNone, kNaN, kGarbage, kScale };
std::string byzantine_name(Byzantine mode, double scale);
// "none", "nan", "garbage" or "scale:F"; throws ConfigError naming the valid forms.
std::pair<Byzantine, double> parse_byzantine(const std::string& spec);

struct FaultConfig {
  double drop = 0.0;       // probability a message is silently lost
  double duplicate = 0.0;  // probability it is sent twice
  double reorder = 0.0;    // probability it is held back until the next message to the same
                           // peer has gone out (or reorder_hold has passed)
  double corrupt = 0.0;    // probability one random payload bit (checksum bit when the payload
                           // is empty) is flipped after the checksum was computed
  std::chrono::milliseconds delay{0};   // added to every message
  std::chrono::milliseconds jitter{0};  // plus uniform in [0, jitter] (messages may overtake)
  std::chrono::milliseconds reorder_hold{200};  // longest a reordered message is held back
  std::set<std::uint32_t> partitioned{};  // peers cut off, in both directions
  Byzantine byzantine = Byzantine::kNone;  // what happens to outgoing parameters
  double byzantine_scale = -1.0;           // kScale: the factor

  // Throws ConfigError naming the field when a probability is outside [0, 1] or a duration
  // is negative.
  void validate() const;
};

struct FaultStats {
  std::uint64_t dropped = 0;
  std::uint64_t duplicated = 0;
  std::uint64_t reordered = 0;
  std::uint64_t corrupted = 0;
  std::uint64_t byzantine = 0;        // parameter messages sent with wrong values
  std::uint64_t delayed = 0;          // messages that went through the timer thread
  std::uint64_t partitioned_out = 0;  // sends to a partitioned peer, discarded
  std::uint64_t partitioned_in = 0;   // receptions from a partitioned peer, discarded
  std::uint64_t send_failed = 0;      // delayed messages the inner transport refused
};

class FaultyTransport final : public ForwardingTransport {
 public:
  FaultyTransport(std::unique_ptr<Transport> inner, FaultConfig config, std::uint64_t seed);
  // Stops the timer thread; messages still delayed or held are discarded.
  ~FaultyTransport() override;

  void set_config(FaultConfig config);  // validates; applies to later sends and receives
  FaultConfig config() const;
  FaultStats stats() const;

  // A dropped or partitioned message still returns kQueued (the network ate it, not the
  // queue). A message sent at once returns the inner transport's result; a delayed one
  // returns kQueued and a later refusal is counted in stats().send_failed.
  [[nodiscard]] SendResult send(std::uint32_t peer, Message message,
                                std::chrono::milliseconds wait) override;
  std::optional<Message> receive(std::chrono::milliseconds timeout) override;

 private:
  using Time = std::chrono::steady_clock::time_point;
  struct Delayed {
    std::uint32_t peer;
    Message message;
  };
  struct Held {
    Message message;
    Time release_at;
  };

  // The message with its parameters replaced as `mode` says, and a valid checksum.
  Message byzantine_copy(const Message& message, std::uint64_t draw);
  Message corrupted_copy(const Message& message, std::uint64_t bit_draw);
  // Sends `message` now, then whatever is held back for the same peer.
  SendResult send_now(std::uint32_t peer, Message message, std::chrono::milliseconds wait);
  void timer_main(std::stop_token stop);

  mutable std::mutex mutex_;
  std::condition_variable_any wake_;
  FaultConfig config_;
  Rng rng_;
  FaultStats stats_;
  BufferPool pool_{2};
  std::multimap<std::pair<Time, std::uint64_t>, Delayed> line_;  // (due, order) → message
  std::uint64_t line_order_ = 0;
  std::uint64_t changes_ = 0;  // bumped on new work or config: wakes the timer thread
  std::vector<std::size_t> in_line_;          // by peer: messages in line_
  std::vector<std::optional<Held>> held_;     // by peer: the message being reordered
  std::jthread timer_;                        // last: stopped before the members it uses
};

}  // namespace rumor
