// abortable_barrier.h — a reusable barrier for a fixed number of threads that one of them can
// abort when it fails, so that the others stop waiting for it instead of hanging.
//
// std::barrier cannot be abandoned: a thread that throws leaves the others blocked forever.
// Here abort() wakes every waiting thread, and every later arrival, with BarrierAborted.
// Waiters spin briefly before they sleep (when every party can have a core), so short phases
// cost no futex wake-up.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>

#include "core/error.h"

namespace rumor {

// Thrown by a wait that can never complete because another thread gave up (abort()).
class BarrierAborted : public Error {
 public:
  using Error::Error;
};

class AbortableBarrier {
 public:
  // `parties` >= 1 threads arrive at each phase.
  explicit AbortableBarrier(int parties);

  // Blocks until all parties have arrived at this phase; returns the phase's number (0, 1,
  // ...). Throws BarrierAborted ("<prefix>: <reason>") once abort() has been called.
  std::uint64_t arrive_and_wait();
  // Makes every waiting and later arrive_and_wait() throw; the first reason is kept. Any
  // thread, any number of times.
  void abort(const std::string& reason) noexcept;

  int parties() const { return parties_; }

 private:
  BarrierAborted aborted_error() const;

  const int parties_;
  const int spins_;  // how long a waiter spins before it sleeps (0 with more parties than cores)
  std::mutex mutex_;
  std::condition_variable phase_done_;
  int arrived_ = 0;                       // mutex_
  std::atomic<std::uint64_t> phase_{0};   // written under mutex_, read by spinning waiters
  bool aborted_ = false;                  // mutex_
  std::atomic<bool> aborted_flag_{false};  // aborted_, for spinning waiters
  std::string reason_;
};

}  // namespace rumor
