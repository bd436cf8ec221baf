#include "gossip/failure_detector.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace rumor {
namespace {

using Duration = Clock::Duration;

Duration median(std::vector<Duration> values) {
  const std::size_t mid = values.size() / 2;
  std::nth_element(values.begin(), values.begin() + mid, values.end());
  return values[mid];
}

}  // namespace

std::string_view peer_state_name(PeerState state) {
  switch (state) {
    case PeerState::kAlive: return "alive";
    case PeerState::kSuspect: return "suspect";
    case PeerState::kDead: return "dead";
  }
  return "?";
}

FailureDetector::FailureDetector(int world, int self, FailureDetectorConfig config,
                                 const Clock& clock, Clock::Duration update_every)
    : self_(self),
      config_(config),
      clock_(clock),
      update_every_(update_every),
      started_(clock.now()),
      last_update_(started_),
      last_active_(started_),
      peers_(world) {
  RUMOR_CHECK(self >= 0 && self < world, "self ", self, " outside 0..", world - 1);
  RUMOR_CHECK(config.floor <= config.ceiling && config.dead_factor >= 1.0 && config.window > 0,
              "invalid failure detector configuration");
}

void FailureDetector::heard_from(int peer) {
  Peer& p = peers_.at(peer);
  const auto now = clock_.now();
  last_active_ = now;
  if (p.heard && p.state == PeerState::kAlive) {
    p.gaps.push_back(now - p.last_heard);
    if (static_cast<int>(p.gaps.size()) > config_.window) p.gaps.pop_front();
  }
  p.heard = true;
  p.last_heard = now;
  p.state = PeerState::kAlive;
}

void FailureDetector::said_bye(int peer) {
  Peer& p = peers_.at(peer);
  p.state = PeerState::kDead;
  p.gaps.clear();
}

Duration FailureDetector::timeout(int peer) const {
  const Peer& p = peers_.at(peer);
  if (static_cast<int>(p.gaps.size()) < config_.min_samples) return config_.initial;
  std::vector<Duration> gaps(p.gaps.begin(), p.gaps.end());
  const Duration med = median(gaps);
  for (auto& g : gaps) g = g > med ? g - med : med - g;
  const Duration mad = median(gaps);
  const auto bound = med + std::chrono::duration_cast<Duration>(mad * config_.k);
  return std::clamp<Duration>(bound, config_.floor, config_.ceiling);
}

Duration FailureDetector::silence(int peer) const {
  const Peer& p = peers_.at(peer);
  return clock_.now() - (p.heard ? p.last_heard : started_);
}

Duration FailureDetector::worst_case_detection() const {
  return std::chrono::duration_cast<Duration>(
      std::max<Duration>(config_.ceiling, config_.initial) * config_.dead_factor);
}

void FailureDetector::credit_pause(Clock::TimePoint now) {
  const bool late = update_every_ > Duration::zero() && now - last_update_ > 2 * update_every_;
  // The owner ran until its last call at least, and should have updated one interval after
  // the previous update: the stall began at the later of the two.
  const Clock::TimePoint stalled_from = std::max(last_update_ + update_every_, last_active_);
  last_update_ = last_active_ = now;
  if (!late || now <= stalled_from) return;
  const Duration paused = now - stalled_from;
  ++pauses_;
  started_ += paused;  // for peers never heard from
  for (Peer& p : peers_) p.last_heard += paused;  // all heard before stalled_from
}

std::vector<int> FailureDetector::update() {
  credit_pause(clock_.now());
  std::vector<int> changed;
  for (int peer = 0; peer < static_cast<int>(peers_.size()); ++peer) {
    Peer& p = peers_[peer];
    if (peer == self_ || p.state == PeerState::kDead) continue;
    const Duration limit = timeout(peer);
    const Duration quiet = silence(peer);
    PeerState next = PeerState::kAlive;
    if (quiet > std::chrono::duration_cast<Duration>(limit * config_.dead_factor)) {
      next = PeerState::kDead;
    } else if (quiet > limit) {
      next = PeerState::kSuspect;
    }
    if (next != p.state) {
      if (p.state == PeerState::kAlive) ++p.suspicions;
      if (next == PeerState::kDead) {
        ++p.deaths;
        p.gaps.clear();
      }
      p.state = next;
      changed.push_back(peer);
    }
  }
  return changed;
}

std::vector<bool> FailureDetector::alive_mask() const {
  std::vector<bool> mask(peers_.size());
  for (std::size_t i = 0; i < peers_.size(); ++i) mask[i] = peers_[i].state != PeerState::kDead;
  return mask;
}

}  // namespace rumor
