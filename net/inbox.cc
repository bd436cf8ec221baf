// inbox.cc — latest-wins PARAMS mailbox, bounded FIFO, replay check on arrival and delivery.
#include "net/inbox.h"

namespace rumor {

Inbox::Inbox(std::uint32_t num_peers, std::size_t fifo_capacity, CounterTable& counters,
             bool latest_wins_params)
    : params_(num_peers),
      fifo_capacity_(fifo_capacity),
      latest_wins_params_(latest_wins_params),
      guard_(num_peers),
      counters_(counters) {}

void Inbox::push(Message message) {
  const std::uint32_t sender = message.header.sender;
  std::optional<Message> displaced;  // freed after the lock is released (may be 40 MB)
  {
    std::lock_guard lock(mutex_);
    if (sender >= params_.size() || !guard_.is_fresh(message.header)) {
      counters_.add_drop(sender, DropReason::kStale);
      return;
    }
    if (message.header.type == MessageType::kParams && latest_wins_params_) {
      std::optional<Message>& slot = params_[sender];
      if (slot) {
        if (sequence_key(slot->header) >= sequence_key(message.header)) {
          counters_.add_drop(sender, DropReason::kStale);  // an older one overtaken in transit
          return;
        }
        counters_.add_drop(sender, DropReason::kSuperseded);
        displaced = std::move(slot);
      } else {
        ++params_waiting_;
      }
      slot = std::move(message);
    } else {
      if (fifo_.size() >= fifo_capacity_) {
        counters_.add_drop(sender, DropReason::kInboxFull);
        return;
      }
      fifo_.push_back(std::move(message));
    }
  }
  ready_.notify_one();
}

std::optional<Message> Inbox::take_locked() {
  while (!fifo_.empty()) {
    Message msg = std::move(fifo_.front());
    fifo_.pop_front();
    if (guard_.is_fresh(msg.header)) {
      guard_.commit(msg.header);
      return msg;
    }
    counters_.add_drop(msg.header.sender, DropReason::kStale);
  }
  const auto n = static_cast<std::uint32_t>(params_.size());
  for (std::uint32_t i = 0; i < n && params_waiting_ > 0; ++i) {
    const std::uint32_t sender = (next_params_sender_ + i) % n;
    std::optional<Message>& slot = params_[sender];
    if (!slot) continue;
    Message msg = std::move(*slot);
    slot.reset();
    --params_waiting_;
    next_params_sender_ = (sender + 1) % n;
    if (guard_.is_fresh(msg.header)) {
      guard_.commit(msg.header);
      return msg;
    }
    counters_.add_drop(sender, DropReason::kStale);
  }
  return std::nullopt;
}

std::optional<Message> Inbox::pop(std::chrono::nanoseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock lock(mutex_);
  for (;;) {
    if (auto msg = take_locked()) return msg;
    if (closed_) return std::nullopt;
    if (ready_.wait_until(lock, deadline) == std::cv_status::timeout) {
      return take_locked();
    }
  }
}

void Inbox::close() {
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
  }
  ready_.notify_all();
}

std::size_t Inbox::size() const {
  std::lock_guard lock(mutex_);
  return fifo_.size() + params_waiting_;
}

}  // namespace rumor
