// inbox.h — where validated messages wait for the owner thread: a latest-wins mailbox per
// sender for PARAMS, a bounded FIFO for everything else, and the replay check.
//
// The I/O thread push()es, any thread pop()s (thread-safe, one mutex). Only the newest PARAMS
// from each sender waits: a newer one replaces it (the old one is counted kSuperseded); an
// older one arriving late is dropped as kStale. Other types keep their order, up to a capacity
// (beyond it: kInboxFull). A message is checked against the ReplayGuard on arrival and again on
// delivery, and delivery commits it, so nothing is delivered twice or after something newer of
// the same sender and type.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <vector>

#include "net/counters.h"
#include "net/message.h"
#include "net/replay_guard.h"

namespace rumor {

class Inbox {
 public:
  // `counters` must outlive the inbox; drops are counted there against the sender. With
  // latest_wins_params false, PARAMS queue in the FIFO like every other type (for mixing rules
  // that must see every message, such as push-sum).
  Inbox(std::uint32_t num_peers, std::size_t fifo_capacity, CounterTable& counters,
        bool latest_wins_params = true);

  // Queues a validated message (header.sender < num_peers). Never blocks beyond the mutex.
  void push(Message message);

  // The next message: non-PARAMS in arrival order first, then PARAMS round-robin over senders.
  // Waits up to `timeout`; nullopt on timeout or once closed and empty.
  std::optional<Message> pop(std::chrono::nanoseconds timeout);

  // Wakes every waiter; later pops return at once when empty. Pushes are still accepted.
  void close();

  std::size_t size() const;

 private:
  std::optional<Message> take_locked();

  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Message> fifo_;
  std::vector<std::optional<Message>> params_;  // latest-wins slot per sender
  std::size_t params_waiting_ = 0;
  std::uint32_t next_params_sender_ = 0;
  std::size_t fifo_capacity_;
  bool latest_wins_params_;
  ReplayGuard guard_;
  CounterTable& counters_;
  bool closed_ = false;
};

}  // namespace rumor
