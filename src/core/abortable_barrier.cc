#include "core/abortable_barrier.h"

#include <thread>

namespace rumor {
namespace {

// How many times a waiter looks at the phase before it sleeps on the condition variable, when
// every party can have a core of its own (about 0.1 ms here): a phase that ends that soon then
// costs no futex sleep and wake-up, which took 2-4x the time of a 1 MB all-reduce between two
// threads here. With more parties than cores a spinning waiter would only delay the parties it
// waits for, so it sleeps at once. No `pause` in the loop: in virtual machines it can trap to
// the hypervisor (pause-loop exiting), which made barriers several times slower on this VM.
constexpr int kSpins = 100000;

int spins_for(int parties) {
  const unsigned cores = std::thread::hardware_concurrency();
  return cores != 0 && static_cast<unsigned>(parties) <= cores ? kSpins : 0;
}

}  // namespace

AbortableBarrier::AbortableBarrier(int parties) : parties_(parties), spins_(spins_for(parties)) {
  RUMOR_CHECK(parties >= 1, "a barrier needs at least one party, got ", parties);
}

BarrierAborted AbortableBarrier::aborted_error() const { return BarrierAborted(reason_); }

std::uint64_t AbortableBarrier::arrive_and_wait() {
  std::unique_lock lock(mutex_);
  if (aborted_) throw aborted_error();
  const std::uint64_t phase = phase_.load(std::memory_order_relaxed);
  if (++arrived_ == parties_) {
    arrived_ = 0;
    phase_.store(phase + 1, std::memory_order_release);
    phase_done_.notify_all();
    return phase;
  }
  lock.unlock();
  for (int i = 0; i < spins_; ++i) {
    if (phase_.load(std::memory_order_acquire) != phase || aborted_flag_.load()) break;
  }
  lock.lock();
  phase_done_.wait(lock, [&] {
    return phase_.load(std::memory_order_relaxed) != phase || aborted_;
  });
  if (phase_.load(std::memory_order_relaxed) == phase) throw aborted_error();
  return phase;
}

void AbortableBarrier::abort(const std::string& reason) noexcept {
  const std::lock_guard lock(mutex_);
  if (!aborted_) {
    aborted_ = true;
    aborted_flag_.store(true);
    reason_ = reason;
  }
  phase_done_.notify_all();
}

}  // namespace rumor
