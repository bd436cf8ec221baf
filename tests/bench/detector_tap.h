// detector_tap.h — for bench_failure_detector: a Transport decorator that gives the messages an
// engine receives to a bank of extra FailureDetectors, one per setting, so that every setting
// is measured on exactly the same traffic.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "gossip/failure_detector.h"
#include "net/forwarding_transport.h"

namespace rumor {

// One detector setting under test.
struct Setting {
  FailureDetectorConfig config;
  bool credit_pauses;  // as the engine runs it; false: as before pauses were credited
};

// A Transport decorator: passes everything through, and feeds every message received into one
// FailureDetector per setting, updated every `update_every` from receive() (the engine's I/O
// thread), as the engine updates its own once per heartbeat interval. Records when each
// detector last declared each peer dead. Thread-safe (receive() on the I/O thread, the rest on
// any).
class TapTransport final : public ForwardingTransport {
 public:
  TapTransport(std::unique_ptr<Transport> tapped, const std::vector<Setting>& settings,
               std::chrono::milliseconds update_every)
      : ForwardingTransport(std::move(tapped)),
        update_every_(update_every),
        next_update_(clock_.now()) {
    for (const Setting& s : settings) {
      detectors_.emplace_back(static_cast<int>(inner().num_peers()),
                              static_cast<int>(inner().rank()), s.config, clock_,
                              s.credit_pauses ? Clock::Duration(update_every) : Clock::Duration{});
      died_at_.emplace_back(inner().num_peers());
    }
  }

  std::optional<Message> receive(std::chrono::milliseconds timeout) override {
    std::optional<Message> message = inner().receive(timeout);
    std::lock_guard lock(mutex_);
    const Clock::TimePoint now = clock_.now();
    for (FailureDetector& d : detectors_) {
      if (!message) break;
      const int sender = static_cast<int>(message->header.sender);
      d.heard_from(sender);
      if (message->header.type == MessageType::kBye) d.said_bye(sender);
    }
    if (now >= next_update_) {
      next_update_ = now + update_every_;
      for (std::size_t s = 0; s < detectors_.size(); ++s) {
        for (int p : detectors_[s].update()) {
          if (detectors_[s].state(p) == PeerState::kDead) died_at_[s][p] = now;
        }
      }
    }
    return message;
  }

  // Transitions counted by setting s's detector over all peers: suspicions, deaths.
  std::pair<std::uint64_t, std::uint64_t> counts(std::size_t s) const {
    std::lock_guard lock(mutex_);
    std::uint64_t suspicions = 0, deaths = 0;
    for (std::uint32_t p = 0; p < num_peers(); ++p) {
      suspicions += detectors_[s].suspicions(static_cast<int>(p));
      deaths += detectors_[s].deaths(static_cast<int>(p));
    }
    return {suspicions, deaths};
  }
  // Stalls of this engine's I/O thread that the detectors credited (updates 2 intervals late).
  std::uint64_t pauses() const {
    std::lock_guard lock(mutex_);
    return detectors_.front().pauses();
  }
  // When setting s's detector declared `peer` dead, if it says dead now.
  std::optional<Clock::TimePoint> dead_since(std::size_t s, int peer) const {
    std::lock_guard lock(mutex_);
    if (detectors_[s].state(peer) != PeerState::kDead) return std::nullopt;
    return died_at_[s][peer];
  }

 private:
  SteadyClock clock_;
  mutable std::mutex mutex_;
  std::vector<FailureDetector> detectors_;
  std::vector<std::vector<Clock::TimePoint>> died_at_;  // [setting][peer]
  std::chrono::milliseconds update_every_;
  Clock::TimePoint next_update_;
};

}  // namespace rumor
