// counters.h — per-neighbour traffic counters: bytes and messages in/out, drops by reason.
//
// Incremented from the I/O thread and from senders (queue-full drops), read by anyone:
// relaxed atomics, snapshots are per-field consistent but not a global instant.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "net/drop_reason.h"

namespace rumor {

struct PeerCounters {
  std::uint64_t bytes_in = 0;      // all frames received from this peer (before validation)
  std::uint64_t messages_in = 0;   // messages received from this peer (before validation)
  std::uint64_t bytes_out = 0;     // frames handed to ZeroMQ for this peer
  std::uint64_t messages_out = 0;  // messages handed to ZeroMQ for this peer
  std::array<std::uint64_t, kNumDropReasons> drops{};

  std::uint64_t dropped(DropReason reason) const { return drops[static_cast<int>(reason)]; }
  std::uint64_t dropped_total() const;
  std::uint64_t rejected_total() const;  // the drops whose message was bad (is_rejection)
  PeerCounters& operator+=(const PeerCounters& other);
};

struct NetCounters {
  std::vector<PeerCounters> peers;  // indexed by rank
  PeerCounters unattributed;        // traffic whose sender could not be identified
  PeerCounters total() const;
};

// The live, thread-safe table behind NetCounters.
class CounterTable {
 public:
  explicit CounterTable(std::uint32_t num_peers);

  // `peer` nullopt or out of range: counted as unattributed.
  void add_in(std::optional<std::uint32_t> peer, std::uint64_t bytes);
  void add_out(std::uint32_t peer, std::uint64_t bytes);
  void add_drop(std::optional<std::uint32_t> peer, DropReason reason);
  NetCounters snapshot() const;

 private:
  struct Slot {
    std::atomic<std::uint64_t> bytes_in{0}, messages_in{0}, bytes_out{0}, messages_out{0};
    std::array<std::atomic<std::uint64_t>, kNumDropReasons> drops{};
  };
  Slot& slot(std::optional<std::uint32_t> peer);

  std::uint32_t num_peers_;
  std::unique_ptr<Slot[]> slots_;  // num_peers_ + 1; the last is "unattributed"
};

// Rate-limited logging of drops: the first drop of each reason is logged at once, later ones at
// most once per `interval` per reason with the number suppressed. Single-threaded (I/O thread).
class DropLogger {
 public:
  explicit DropLogger(std::chrono::steady_clock::duration interval = std::chrono::seconds(10));
  void note(DropReason reason, std::optional<std::uint32_t> peer,
            std::chrono::steady_clock::time_point now);

 private:
  std::chrono::steady_clock::duration interval_;
  std::array<std::optional<std::chrono::steady_clock::time_point>, kNumDropReasons> last_logged_;
  std::array<std::uint64_t, kNumDropReasons> suppressed_{};
};

}  // namespace rumor
