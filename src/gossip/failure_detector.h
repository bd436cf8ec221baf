// failure_detector.h — membership of the peer list: which peers are alive, suspect or dead,
// from the traffic seen from each (any message counts as a heartbeat).
//
// Timeouts adapt per peer to the measured gaps between its messages: median + k·MAD of the
// last `window` gaps, clamped to [floor, ceiling]; before `min_samples` gaps are known the
// timeout is `initial`. A peer silent for longer than its timeout is suspect; silent for
// `dead_factor` timeouts it is dead. Any message revives a suspect or dead peer (a restart
// announces itself with HELLO; a healed partition simply resumes traffic); BYE marks it dead
// at once. A peer never heard from is alive until `initial` × dead_factor after start-up.
// Silence is counted only while this detector's owner is running: given the interval at which
// update() is called, an update() more than two intervals late means the owner itself was
// stalled (a frozen process or VM, a starved thread). The stall, from when the update was due
// (or the owner's last call, if later) until now, is not counted as anyone's silence, so that
// a peer does not convict the others of its own stall.
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
  // `update_every`: how often the owner calls update(); zero (the default) credits no pauses.
  FailureDetector(int world, int self, FailureDetectorConfig config, const Clock& clock,
                  Clock::Duration update_every = Clock::Duration::zero());

  // Any message from `peer` arrived now.
  void heard_from(int peer);
  // `peer` said goodbye: dead at once, its gap history forgotten.
  void said_bye(int peer);
  // Re-evaluates every peer's state against the clock (after crediting a pause of the owner,
  // see above). Returns the peers whose state changed.
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
  // Pauses of the owner credited so far (update() calls more than two intervals late).
  std::uint64_t pauses() const { return pauses_; }
  // How often update() found `peer` silent too long: alive → suspect or dead (suspicions), and
  // → dead (deaths). BYE is not counted. For monitoring and the detector's benchmark.
  std::uint64_t suspicions(int peer) const { return peers_.at(peer).suspicions; }
  std::uint64_t deaths(int peer) const { return peers_.at(peer).deaths; }

 private:
  struct Peer {
    PeerState state = PeerState::kAlive;
    Clock::TimePoint last_heard{};
    bool heard = false;
    std::deque<Clock::Duration> gaps;
    std::uint64_t suspicions = 0, deaths = 0;
  };

  // Credits the owner's stall, if this update() is late, to every peer (see above).
  void credit_pause(Clock::TimePoint now);

  int self_;
  FailureDetectorConfig config_;
  const Clock& clock_;
  Clock::Duration update_every_;
  Clock::TimePoint started_;
  Clock::TimePoint last_update_;
  Clock::TimePoint last_active_;  // last update() or heard_from()
  std::uint64_t pauses_ = 0;
  std::vector<Peer> peers_;
};

}  // namespace rumor
