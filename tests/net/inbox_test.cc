// inbox_test.cc — latest-wins PARAMS mailbox, bounded FIFO, replay checks, waiting with a deadline.
#include "net/inbox.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

namespace rumor {
namespace {

using namespace std::chrono_literals;

Message make(std::uint32_t sender, std::uint64_t sequence, MessageType type,
             std::uint64_t incarnation = 1) {
  Message m;
  m.header.sender = sender;
  m.header.sequence = sequence;
  m.header.incarnation = incarnation;
  m.header.type = type;
  return m;
}

class InboxTest : public ::testing::Test {
 protected:
  std::uint64_t drops(std::uint32_t peer, DropReason r) const {
    return counters_.snapshot().peers[peer].dropped(r);
  }
  CounterTable counters_{3};
  Inbox inbox_{3, /*fifo_capacity=*/4, counters_};
};

TEST_F(InboxTest, OnlyTheNewestParamsPerSenderWaits) {
  for (std::uint64_t seq = 1; seq <= 5; ++seq) inbox_.push(make(1, seq, MessageType::kParams));
  EXPECT_EQ(inbox_.size(), 1u);
  auto m = inbox_.pop(0ms);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->header.sequence, 5u);
  EXPECT_FALSE(inbox_.pop(0ms));
  EXPECT_EQ(drops(1, DropReason::kSuperseded), 4u);
}

TEST_F(InboxTest, WithoutLatestWinsEveryParamsIsDeliveredInOrder) {
  Inbox fifo_inbox{3, /*fifo_capacity=*/8, counters_, /*latest_wins_params=*/false};
  for (std::uint64_t seq = 1; seq <= 5; ++seq) fifo_inbox.push(make(1, seq, MessageType::kParams));
  EXPECT_EQ(fifo_inbox.size(), 5u);
  for (std::uint64_t seq = 1; seq <= 5; ++seq) {
    auto m = fifo_inbox.pop(0ms);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->header.sequence, seq);
  }
  EXPECT_EQ(drops(1, DropReason::kSuperseded), 0u);
}

TEST_F(InboxTest, OlderParamsArrivingLateIsStale) {
  inbox_.push(make(1, 7, MessageType::kParams));
  inbox_.push(make(1, 6, MessageType::kParams));  // overtaken in transit, still waiting
  EXPECT_EQ(drops(1, DropReason::kStale), 1u);
  ASSERT_EQ(inbox_.pop(0ms)->header.sequence, 7u);
  inbox_.push(make(1, 7, MessageType::kParams));  // replay after delivery
  inbox_.push(make(1, 2, MessageType::kParams));
  EXPECT_EQ(drops(1, DropReason::kStale), 3u);
  EXPECT_FALSE(inbox_.pop(0ms));
}

TEST_F(InboxTest, ControlMessagesKeepTheirOrderAndComeFirst) {
  inbox_.push(make(2, 1, MessageType::kParams));
  inbox_.push(make(1, 1, MessageType::kHello));
  inbox_.push(make(2, 2, MessageType::kHeartbeat));
  inbox_.push(make(1, 2, MessageType::kExchangeReq));
  EXPECT_EQ(inbox_.pop(0ms)->header.type, MessageType::kHello);
  EXPECT_EQ(inbox_.pop(0ms)->header.type, MessageType::kHeartbeat);
  EXPECT_EQ(inbox_.pop(0ms)->header.type, MessageType::kExchangeReq);
  EXPECT_EQ(inbox_.pop(0ms)->header.type, MessageType::kParams);
}

TEST_F(InboxTest, ReorderedControlMessageIsStaleAtDelivery) {
  inbox_.push(make(1, 5, MessageType::kHeartbeat));
  inbox_.push(make(1, 4, MessageType::kHeartbeat));  // both fresh on arrival
  EXPECT_EQ(inbox_.pop(0ms)->header.sequence, 5u);
  EXPECT_FALSE(inbox_.pop(0ms));  // 4 is older than the delivered 5
  EXPECT_EQ(drops(1, DropReason::kStale), 1u);
}

TEST_F(InboxTest, FifoCapacityDropsTheNewest) {
  for (std::uint64_t seq = 1; seq <= 6; ++seq) inbox_.push(make(1, seq, MessageType::kHeartbeat));
  EXPECT_EQ(drops(1, DropReason::kInboxFull), 2u);
  EXPECT_EQ(inbox_.size(), 4u);
  inbox_.push(make(2, 1, MessageType::kParams));  // PARAMS do not count against the FIFO
  EXPECT_EQ(inbox_.size(), 5u);
}

TEST_F(InboxTest, ParamsRoundRobinOverSenders) {
  inbox_.push(make(1, 1, MessageType::kParams));
  inbox_.push(make(2, 1, MessageType::kParams));
  const auto first = inbox_.pop(0ms)->header.sender;
  inbox_.push(make(first, 2, MessageType::kParams));
  EXPECT_NE(inbox_.pop(0ms)->header.sender, first);  // the other sender is not starved
}

TEST_F(InboxTest, PopTimesOutWhenEmpty) {
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(inbox_.pop(20ms));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 20ms);
}

TEST_F(InboxTest, PopWakesOnPushFromAnotherThread) {
  std::thread producer([&] { inbox_.push(make(1, 1, MessageType::kHello)); });
  auto m = inbox_.pop(10s);
  producer.join();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->header.type, MessageType::kHello);
}

TEST_F(InboxTest, CloseWakesWaiters) {
  std::thread closer([&] { inbox_.close(); });
  EXPECT_FALSE(inbox_.pop(10s));  // returns at close, not after 10 s
  closer.join();
}

}  // namespace
}  // namespace rumor
