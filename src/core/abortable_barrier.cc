#include "core/abortable_barrier.h"

namespace rumor {
namespace {

// How many times a waiter looks at the phase before it sleeps on the condition variable (a
// few microseconds): a phase that ends that soon (threads on their own cores, a short operation
// between barriers) then costs no futex wake-up, and a waiter on an oversubscribed machine gives
// up its core soon. No `pause` in the loop: in virtual machines it can trap to the hypervisor
// (pause-loop exiting), which made 4-thread barriers several times slower on this 2-core VM.
constexpr int kSpins = 2000;

}  // namespace

AbortableBarrier::AbortableBarrier(int parties) : parties_(parties) {
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
  for (int i = 0; i < kSpins; ++i) {
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
