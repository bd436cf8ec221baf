#include "gossip/failure_detector.h"

#include <gtest/gtest.h>

namespace rumor {
namespace {

using namespace std::chrono_literals;

class FailureDetectorTest : public ::testing::Test {
 protected:
  FailureDetectorConfig config() {
    FailureDetectorConfig c;
    c.k = 4.0;
    c.floor = 50ms;
    c.ceiling = 2000ms;
    c.initial = 1000ms;
    c.dead_factor = 2.0;
    c.min_samples = 4;
    return c;
  }
  // Peer 1 sends every `gap` for `count` messages.
  void beat(FailureDetector& fd, int peer, Clock::Duration gap, int count) {
    for (int i = 0; i < count; ++i) {
      clock_.advance(gap);
      fd.heard_from(peer);
    }
  }
  ManualClock clock_;
};

TEST_F(FailureDetectorTest, UnheardPeerUsesInitialTimeout) {
  FailureDetector fd(3, 0, config(), clock_);
  EXPECT_EQ(fd.timeout(1), 1000ms);
  clock_.advance(999ms);
  EXPECT_TRUE(fd.update().empty());
  clock_.advance(2ms);
  EXPECT_EQ(fd.update(), (std::vector<int>{1, 2}));
  EXPECT_EQ(fd.state(1), PeerState::kSuspect);
  clock_.advance(1000ms);
  fd.update();
  EXPECT_EQ(fd.state(1), PeerState::kDead);
  EXPECT_EQ(fd.state(0), PeerState::kAlive);  // self is never judged
  EXPECT_EQ(fd.alive_mask(), (std::vector<bool>{true, false, false}));
}

TEST_F(FailureDetectorTest, TimeoutAdaptsToRegularTraffic) {
  FailureDetector fd(2, 0, config(), clock_);
  beat(fd, 1, 100ms, 10);
  // Gaps all 100 ms: MAD 0, so the timeout is the median.
  EXPECT_EQ(fd.timeout(1), 100ms);
  clock_.advance(100ms);
  fd.update();
  EXPECT_EQ(fd.state(1), PeerState::kAlive);
  clock_.advance(1ms);
  fd.update();
  EXPECT_EQ(fd.state(1), PeerState::kSuspect);
  clock_.advance(100ms);
  fd.update();
  EXPECT_EQ(fd.state(1), PeerState::kDead);
}

TEST_F(FailureDetectorTest, JitterWidensTimeoutByMad) {
  FailureDetector fd(2, 0, config(), clock_);
  // The first message starts the clock; the next eight give gaps 80, 120, 80, … (4 of each):
  // median 120 (upper middle), deviations four 40s and four 0s: MAD 40 → 120 + 4·40 = 280 ms.
  for (int i = 0; i < 9; ++i) beat(fd, 1, i % 2 ? 80ms : 120ms, 1);
  EXPECT_EQ(fd.timeout(1), 280ms);
}

TEST_F(FailureDetectorTest, TimeoutIsClampedToFloorAndCeiling) {
  FailureDetector fd(3, 0, config(), clock_);
  beat(fd, 1, 1ms, 10);
  EXPECT_EQ(fd.timeout(1), 50ms);
  beat(fd, 2, 5000ms, 10);
  EXPECT_EQ(fd.timeout(2), 2000ms);
  EXPECT_EQ(fd.worst_case_detection(), 4000ms);
}

TEST_F(FailureDetectorTest, AnyMessageRevivesAndByeKills) {
  FailureDetector fd(2, 0, config(), clock_);
  beat(fd, 1, 100ms, 6);
  clock_.advance(10s);
  fd.update();
  ASSERT_EQ(fd.state(1), PeerState::kDead);
  EXPECT_EQ(fd.timeout(1), 1000ms);  // history forgotten with the death
  fd.heard_from(1);
  EXPECT_EQ(fd.state(1), PeerState::kAlive);
  fd.said_bye(1);
  EXPECT_EQ(fd.state(1), PeerState::kDead);
  fd.update();
  EXPECT_EQ(fd.state(1), PeerState::kDead);
}

TEST_F(FailureDetectorTest, SuspectRecoversWithoutBecomingDead) {
  FailureDetector fd(2, 0, config(), clock_);
  beat(fd, 1, 100ms, 6);
  clock_.advance(150ms);
  EXPECT_EQ(fd.update(), (std::vector<int>{1}));
  EXPECT_EQ(fd.state(1), PeerState::kSuspect);
  fd.heard_from(1);
  EXPECT_EQ(fd.state(1), PeerState::kAlive);
  EXPECT_EQ(fd.timeout(1), 100ms);  // the long gap while suspect is not learned
}

TEST_F(FailureDetectorTest, CountsSuspicionsAndDeathsButNotBye) {
  FailureDetector fd(3, 0, config(), clock_);
  fd.heard_from(2);
  fd.said_bye(2);
  beat(fd, 1, 100ms, 6);
  clock_.advance(150ms);
  fd.update();  // alive → suspect
  fd.heard_from(1);
  clock_.advance(150ms);
  fd.update();  // alive → suspect
  clock_.advance(100ms);
  fd.update();  // suspect → dead
  EXPECT_EQ(fd.suspicions(1), 2u);
  EXPECT_EQ(fd.deaths(1), 1u);
  fd.heard_from(1);
  clock_.advance(10s);
  fd.update();  // alive → dead in one update: one suspicion, one death
  EXPECT_EQ(fd.suspicions(1), 3u);
  EXPECT_EQ(fd.deaths(1), 2u);
  EXPECT_EQ(fd.state(2), PeerState::kDead);
  EXPECT_EQ(fd.suspicions(2), 0u);
  EXPECT_EQ(fd.deaths(2), 0u);
}

TEST_F(FailureDetectorTest, OwnPauseIsNotCountedAsSilence) {
  FailureDetector fd(3, 0, config(), clock_, 100ms);
  for (int i = 0; i < 6; ++i) {  // peers 1 and 2 every 100 ms, updated as often
    clock_.advance(100ms);
    fd.heard_from(1);
    fd.heard_from(2);
    fd.update();
  }
  ASSERT_EQ(fd.timeout(1), 100ms);
  clock_.advance(50ms);
  fd.heard_from(1);        // the owner takes in one more message, then stalls:
  clock_.advance(1950ms);  // no message taken in, no update for 1.95 s
  EXPECT_TRUE(fd.update().empty()) << "its own stall convicted a peer";
  EXPECT_EQ(fd.pauses(), 1u);
  // The stall counted from when the update was due (100 ms after the last): peer 2 had been
  // silent 100 ms then, peer 1 50 ms; silence counts on from there.
  clock_.advance(40ms);
  EXPECT_EQ(fd.update(), (std::vector<int>{2}));
  clock_.advance(70ms);
  fd.update();
  EXPECT_EQ(fd.state(1), PeerState::kSuspect);
  EXPECT_EQ(fd.state(2), PeerState::kDead);
  EXPECT_EQ(fd.pauses(), 1u);
}

TEST_F(FailureDetectorTest, RegularUpdatesCreditNoPause) {
  FailureDetector fd(2, 0, config(), clock_, 100ms);
  for (int i = 0; i < 6; ++i) {
    clock_.advance(100ms);
    fd.heard_from(1);
    fd.update();
  }
  for (int i = 0; i < 3; ++i) {  // then silence, with updates on time
    clock_.advance(100ms);
    fd.update();
  }
  EXPECT_EQ(fd.pauses(), 0u);
  EXPECT_EQ(fd.state(1), PeerState::kDead);
}

}  // namespace
}  // namespace rumor
