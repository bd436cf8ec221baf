#include "core/abortable_barrier.h"

namespace rumor {

AbortableBarrier::AbortableBarrier(int parties) : parties_(parties) {
  RUMOR_CHECK(parties >= 1, "a barrier needs at least one party, got ", parties);
}

BarrierAborted AbortableBarrier::aborted_error() const { return BarrierAborted(reason_); }

std::uint64_t AbortableBarrier::arrive_and_wait() {
  std::unique_lock lock(mutex_);
  if (aborted_) throw aborted_error();
  const std::uint64_t phase = phase_;
  if (++arrived_ == parties_) {
    arrived_ = 0;
    ++phase_;
    phase_done_.notify_all();
    return phase;
  }
  phase_done_.wait(lock, [&] { return phase_ != phase || aborted_; });
  if (phase_ == phase) throw aborted_error();
  return phase;
}

void AbortableBarrier::abort(const std::string& reason) noexcept {
  const std::lock_guard lock(mutex_);
  if (!aborted_) {
    aborted_ = true;
    reason_ = reason;
  }
  phase_done_.notify_all();
}

}  // namespace rumor
