// failure_detector.h — membership of the peer list: which peers are alive, suspect or dead,
// from the traffic seen from each (any message counts as a heartbeat).
//
// Timeouts adapt per peer to the measured gaps between its messages: median + k·MAD of the
// last `window` gaps, clamped to [floor, ceiling]; before `min_samples` gaps are known the
// timeout is `initial`. A peer silent for longer than its timeout is suspect; silent for
// `dead_factor` timeouts it is dead. Any message revives a suspect or dead peer (a restart
// announces itself with HELLO; a healed partition simply resumes traffic); BYE marks it dead
// at once. A peer never heard from is alive until `initial` × dead_factor after start-up.
// Not thread-safe: owned by one thread. Time comes from an injected Clock.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "rumor/config.h"  // FailureDetectorConfig (public)

namespace rumor {

enum class PeerState { kAlive, kSuspect, kDead };
std::string_view peer_state_name(PeerState state);

class FailureDetector {
 public:
  FailureDetector(int world, int self, FailureDetectorConfig config, const Clock& clock);

  // Any message from `peer` arrived now.
  void heard_from(int peer);
  // `peer` said goodbye: dead at once, its gap history forgotten.
  void said_bye(int peer);
  // Re-evaluates every peer's state against the clock. Returns the peers whose state changed.
  std::vector<int> update();

  PeerState state(int peer) const { return peers_.at(peer).state; }
  bool alive(int peer) const { return state(peer) != PeerState::kDead; }
  // alive(p) for every rank (self included): what topologies take.
  std::vector<bool> alive_mask() const;
  // The current silence bound for `peer` before it becomes suspect.
  Clock::Duration timeout(int peer) const;
  // Time since the last message from `peer` (since start-up if none).
  Clock::Duration silence(int peer) const;
  // The longest a peer that stops sending can stay undeclared: ceiling × dead_factor.
  Clock::Duration worst_case_detection() const;

 private:
  struct Peer {
    PeerState state = PeerState::kAlive;
    Clock::TimePoint last_heard{};
    bool heard = false;
    std::deque<Clock::Duration> gaps;
  };

  int self_;
  FailureDetectorConfig config_;
  const Clock& clock_;
  Clock::TimePoint started_;
  std::vector<Peer> peers_;
};

}  // namespace rumor
