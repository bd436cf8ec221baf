// replay_guard_test.cc — the sequence / replay check, per sender and type, across restarts.
#include "net/replay_guard.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace rumor {
namespace {

MessageHeader header(std::uint32_t sender, std::uint64_t incarnation, std::uint64_t sequence,
                     MessageType type = MessageType::kParams) {
  MessageHeader h;
  h.sender = sender;
  h.incarnation = incarnation;
  h.sequence = sequence;
  h.type = type;
  return h;
}

TEST(ReplayGuard, FirstMessageOfASenderIsFresh) {
  ReplayGuard guard(3);
  EXPECT_TRUE(guard.is_fresh(header(1, 5, 1)));
  EXPECT_FALSE(guard.last(1, MessageType::kParams).has_value());
}

TEST(ReplayGuard, ReplayedAndOlderSequencesAreStale) {
  ReplayGuard guard(3);
  guard.commit(header(1, 5, 10));
  EXPECT_FALSE(guard.is_fresh(header(1, 5, 10)));  // replay
  EXPECT_FALSE(guard.is_fresh(header(1, 5, 9)));   // older
  EXPECT_TRUE(guard.is_fresh(header(1, 5, 11)));
  EXPECT_TRUE(guard.is_fresh(header(1, 5, 1000)));  // gaps are fine
}

TEST(ReplayGuard, SendersAreIndependent) {
  ReplayGuard guard(3);
  guard.commit(header(1, 5, 10));
  EXPECT_TRUE(guard.is_fresh(header(2, 5, 3)));
}

TEST(ReplayGuard, TypesAreIndependent) {
  ReplayGuard guard(3);
  guard.commit(header(1, 5, 10, MessageType::kHeartbeat));
  EXPECT_TRUE(guard.is_fresh(header(1, 5, 9, MessageType::kParams)));
  EXPECT_FALSE(guard.is_fresh(header(1, 5, 9, MessageType::kHeartbeat)));
}

TEST(ReplayGuard, RestartedSenderWithLargerIncarnationIsFresh) {
  ReplayGuard guard(3);
  guard.commit(header(1, 5, 1000));
  EXPECT_TRUE(guard.is_fresh(header(1, 6, 1)));   // restarted: sequence starts again
  EXPECT_FALSE(guard.is_fresh(header(1, 4, 5000)));  // a previous life's message, late
  guard.commit(header(1, 6, 1));
  EXPECT_FALSE(guard.is_fresh(header(1, 5, 1001)));
}

TEST(ReplayGuard, CommitKeepsTheMaximum) {
  ReplayGuard guard(3);
  guard.commit(header(1, 5, 10));
  guard.commit(header(1, 5, 3));
  EXPECT_EQ(guard.last(1, MessageType::kParams), (SequenceKey{5, 10}));
}

TEST(ReplayGuard, SenderOutsideThePeerListIsABug) {
  ReplayGuard guard(3);
  EXPECT_THROW((void)guard.is_fresh(header(3, 1, 1)), Error);
}

}  // namespace
}  // namespace rumor
