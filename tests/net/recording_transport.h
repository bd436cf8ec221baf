// recording_transport.h — a Transport test double: records every send with its time and
// delivers whatever the test injects. Lets fault-injection tests see exactly what passed.
#pragma once

#include <chrono>
#include <deque>
#include <mutex>
#include <vector>

#include "net/transport.h"

namespace rumor::testing {

class RecordingTransport final : public Transport {
 public:
  struct Sent {
    std::uint32_t peer;
    Message message;
    std::chrono::steady_clock::time_point at;
  };

  explicit RecordingTransport(std::uint32_t num_peers) : num_peers_(num_peers) {}

  std::uint32_t rank() const override { return 0; }
  std::uint32_t num_peers() const override { return num_peers_; }
  std::string endpoint() const override { return "inproc://recording"; }
  void connect(std::uint32_t, const std::string&) override {}
  void disconnect(std::uint32_t) override {}
  SendResult send(std::uint32_t peer, Message message, std::chrono::milliseconds) override {
    std::lock_guard lock(mutex_);
    sent_.push_back({peer, std::move(message), std::chrono::steady_clock::now()});
    return SendResult::kQueued;
  }
  std::optional<Message> receive(std::chrono::milliseconds) override {
    std::lock_guard lock(mutex_);
    if (inbox_.empty()) return std::nullopt;
    Message m = std::move(inbox_.front());
    inbox_.pop_front();
    return m;
  }
  NetCounters counters() const override { return {}; }

  void inject(Message m) {
    std::lock_guard lock(mutex_);
    inbox_.push_back(std::move(m));
  }
  std::vector<Sent> sent() const {
    std::lock_guard lock(mutex_);
    return sent_;
  }
  std::size_t sent_count() const {
    std::lock_guard lock(mutex_);
    return sent_.size();
  }

 private:
  std::uint32_t num_peers_;
  mutable std::mutex mutex_;
  std::vector<Sent> sent_;
  std::deque<Message> inbox_;
};

}  // namespace rumor::testing
