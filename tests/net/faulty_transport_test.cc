// faulty_transport_test.cc — each fault of the decorator, on a recording test double (exactly
// what passed, and when) and end to end on ZmqTransport (what the receiver makes of it).
#include "net/faulty_transport.h"

#include <gtest/gtest.h>

#include <cstring>

#include "core/error.h"
#include "net_test_util.h"
#include "recording_transport.h"

namespace rumor {
namespace {

using namespace rumor::testing;

class FaultsOnRecorder : public ::testing::Test {
 protected:
  FaultyTransport& make(FaultConfig config, std::uint64_t seed = 1) {
    auto inner = std::make_unique<RecordingTransport>(3);
    recorder_ = inner.get();
    faulty_ = std::make_unique<FaultyTransport>(std::move(inner), std::move(config), seed);
    return *faulty_;
  }
  Message params(float value = 1.0f) { return filled(factory_, MessageType::kParams, 16, value, pool_); }

  BufferPool pool_;
  MessageFactory factory_{identity(0)};
  RecordingTransport* recorder_ = nullptr;
  std::unique_ptr<FaultyTransport> faulty_;
};

std::vector<std::uint64_t> sequences(const std::vector<RecordingTransport::Sent>& sent) {
  std::vector<std::uint64_t> out;
  for (const auto& s : sent) out.push_back(s.message.header.sequence);
  return out;
}

TEST_F(FaultsOnRecorder, NoFaultsPassesEverythingInOrder) {
  auto& t = make({});
  for (int i = 0; i < 10; ++i) ASSERT_EQ(t.try_send(1, params()), SendResult::kQueued);
  const auto sent = recorder_->sent();
  ASSERT_EQ(sent.size(), 10u);
  for (std::size_t i = 1; i < sent.size(); ++i) {
    EXPECT_LT(sent[i - 1].message.header.sequence, sent[i].message.header.sequence);
  }
  EXPECT_EQ(t.stats().delayed, 0u);  // no delay configured: sent inline, no timer thread trip
}

TEST_F(FaultsOnRecorder, DropAll) {
  auto& t = make({.drop = 1.0});
  for (int i = 0; i < 10; ++i) EXPECT_EQ(t.try_send(1, params()), SendResult::kQueued);
  EXPECT_EQ(recorder_->sent_count(), 0u);
  EXPECT_EQ(t.stats().dropped, 10u);
}

TEST_F(FaultsOnRecorder, DropIsSeededAndReplayable) {
  const auto run = [&](std::uint64_t seed) {
    MessageFactory f(identity(0));  // same sequence numbers on every run
    auto& t = make({.drop = 0.5}, seed);
    for (int i = 0; i < 400; ++i) (void)t.try_send(1, f.make(MessageType::kHeartbeat, 1));
    return sequences(recorder_->sent());
  };
  const auto first = run(7);
  EXPECT_EQ(run(7), first);
  EXPECT_NE(run(8), first);
  EXPECT_GT(first.size(), 140u);  // ~200 of 400 pass
  EXPECT_LT(first.size(), 260u);
}

TEST_F(FaultsOnRecorder, ChangingOneProbabilityKeepsTheOtherDecisions) {
  const auto run = [&](double duplicate) {
    MessageFactory f(identity(0));
    auto& t = make({.drop = 0.3, .duplicate = duplicate}, 3);
    std::vector<std::uint64_t> dropped;
    for (int i = 0; i < 100; ++i) {
      Message m = f.make(MessageType::kHeartbeat, 1);
      const auto seq = m.header.sequence;
      const auto before = t.stats().dropped;
      (void)t.try_send(1, std::move(m));
      if (t.stats().dropped != before) dropped.push_back(seq);
    }
    return dropped;
  };
  EXPECT_EQ(run(0.0), run(0.9));
}

TEST_F(FaultsOnRecorder, DuplicateSendsTwice) {
  auto& t = make({.duplicate = 1.0});
  ASSERT_EQ(t.try_send(1, params()), SendResult::kQueued);
  const auto sent = recorder_->sent();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].message.header, sent[1].message.header);
  EXPECT_EQ(t.stats().duplicated, 1u);
}

TEST_F(FaultsOnRecorder, CorruptFlipsOnePayloadBitAfterTheChecksum) {
  auto& t = make({.corrupt = 1.0});
  const Message original = params(2.0f);
  ASSERT_EQ(t.try_send(1, original), SendResult::kQueued);
  const auto sent = recorder_->sent();
  ASSERT_EQ(sent.size(), 1u);
  const Message& m = sent[0].message;
  EXPECT_EQ(m.header, original.header);
  ASSERT_EQ(m.payload.size(), original.payload.size());
  int flipped_bits = 0;
  for (std::size_t i = 0; i < m.payload.size(); ++i) {
    flipped_bits += std::popcount(static_cast<unsigned>(m.payload.bytes()[i] ^ original.payload.bytes()[i]));
  }
  EXPECT_EQ(flipped_bits, 1);
  EXPECT_NE(payload_checksum(m.payload.bytes()), m.header.checksum);
  // The sender's own message is untouched.
  EXPECT_EQ(payload_checksum(original.payload.bytes()), original.header.checksum);
}

TEST_F(FaultsOnRecorder, CorruptWithoutPayloadFlipsAChecksumBit) {
  auto& t = make({.corrupt = 1.0});
  const Message original = factory_.make(MessageType::kHeartbeat, 1);
  ASSERT_EQ(t.try_send(1, original), SendResult::kQueued);
  const std::uint64_t diff = recorder_->sent()[0].message.header.checksum ^ original.header.checksum;
  EXPECT_EQ(std::popcount(diff), 1);
}

TEST_F(FaultsOnRecorder, DelayHoldsEveryMessageAtLeastTheFixedDelay) {
  auto& t = make({.delay = 40ms});
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 3; ++i) ASSERT_EQ(t.try_send(1, params()), SendResult::kQueued);
  ASSERT_TRUE(wait_until([&] { return recorder_->sent_count() == 3; }));
  const auto sent = recorder_->sent();
  for (const auto& s : sent) EXPECT_GE(s.at - start, 40ms);
  EXPECT_LT(sent[0].message.header.sequence, sent[2].message.header.sequence);  // order kept
  EXPECT_EQ(t.stats().delayed, 3u);
}

TEST_F(FaultsOnRecorder, JitterStaysWithinItsBoundsFromBelow) {
  auto& t = make({.delay = 10ms, .jitter = 30ms});
  std::vector<std::chrono::steady_clock::time_point> sent_at;
  for (int i = 0; i < 20; ++i) {
    sent_at.push_back(std::chrono::steady_clock::now());
    ASSERT_EQ(t.try_send(1, params()), SendResult::kQueued);
  }
  ASSERT_TRUE(wait_until([&] { return recorder_->sent_count() == 20; }));
  for (const auto& s : recorder_->sent()) {
    const auto index = s.message.header.sequence - 1;
    EXPECT_GE(s.at - sent_at[index], 10ms);
  }
}

TEST_F(FaultsOnRecorder, ReorderLetsTheNextMessageOvertake) {
  auto& t = make({.reorder = 1.0});
  Message a = params(1.0f), b = params(2.0f);
  const auto seq_a = a.header.sequence, seq_b = b.header.sequence;
  ASSERT_EQ(t.try_send(1, std::move(a)), SendResult::kQueued);  // held back
  EXPECT_EQ(recorder_->sent_count(), 0u);
  t.set_config({});
  ASSERT_EQ(t.try_send(1, std::move(b)), SendResult::kQueued);  // goes out, then a
  EXPECT_EQ(sequences(recorder_->sent()), (std::vector<std::uint64_t>{seq_b, seq_a}));
  EXPECT_EQ(t.stats().reordered, 1u);
}

TEST_F(FaultsOnRecorder, ReorderedMessageIsReleasedAfterTheHoldWithoutAFollower) {
  auto& t = make({.reorder = 1.0, .reorder_hold = 30ms});
  const auto start = std::chrono::steady_clock::now();
  ASSERT_EQ(t.try_send(1, params()), SendResult::kQueued);
  ASSERT_TRUE(wait_until([&] { return recorder_->sent_count() == 1; }));
  EXPECT_GE(recorder_->sent()[0].at - start, 30ms);
}

TEST_F(FaultsOnRecorder, PartitionCutsBothDirections) {
  auto& t = make({.partitioned = {1}});
  EXPECT_EQ(t.try_send(1, params()), SendResult::kQueued);
  EXPECT_EQ(t.try_send(2, params()), SendResult::kQueued);
  const auto sent = recorder_->sent();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].peer, 2u);
  MessageFactory from1(identity(1)), from2(identity(2));
  recorder_->inject(from1.make(MessageType::kHeartbeat, 1));
  recorder_->inject(from2.make(MessageType::kHeartbeat, 1));
  auto m = t.try_receive();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->header.sender, 2u);
  EXPECT_FALSE(t.try_receive());
  EXPECT_EQ(t.stats().partitioned_out, 1u);
  EXPECT_EQ(t.stats().partitioned_in, 1u);
  // Healing the partition at run time.
  t.set_config({});
  EXPECT_EQ(t.try_send(1, params()), SendResult::kQueued);
  EXPECT_EQ(recorder_->sent_count(), 2u);
}

TEST_F(FaultsOnRecorder, InvalidConfigIsAConfigError) {
  EXPECT_THROW(make({.drop = 1.5}), ConfigError);
  auto& t = make({});
  EXPECT_THROW(t.set_config({.corrupt = -0.1}), ConfigError);
  EXPECT_THROW(t.set_config({.delay = -1ms}), ConfigError);
  EXPECT_EQ(t.config().drop, 0.0);  // the old config stays
}

TEST_F(FaultsOnRecorder, DestroyingWithMessagesInFlightIsClean) {
  auto& t = make({.reorder = 0.5, .delay = 10s});
  for (int i = 0; i < 10; ++i) (void)t.try_send(1, params());
  faulty_.reset();  // the timer thread stops; delayed messages are discarded
  SUCCEED();
}

// ---- end to end: what a real receiver makes of the faults --------------------------------

class FaultsEndToEnd : public ::testing::Test {
 protected:
  void SetUp() override {
    b_ = net_.make(1, 2);
    faulty_a_ = std::make_unique<FaultyTransport>(net_.make(0, 2), FaultConfig{}, 5);
    faulty_a_->connect(1, b_->endpoint());
  }
  PeerCounters from_a() const { return b_->counters().peers[0]; }
  // A heartbeat sent without faults; ZeroMQ keeps order on one connection, so once it is
  // received, everything sent before it has been received (or dropped) too.
  void send_marker() {
    faulty_a_->set_config({});
    ASSERT_EQ(faulty_a_->send(1, fa_.make(MessageType::kHeartbeat, 9), 5s), SendResult::kQueued);
  }

  TestNet net_{Kind::kInproc};
  BufferPool pool_;
  MessageFactory fa_{identity(0)};
  std::unique_ptr<ZmqTransport> b_;
  std::unique_ptr<FaultyTransport> faulty_a_;
};

TEST_F(FaultsEndToEnd, CorruptedMessagesAreRejectedByChecksum) {
  faulty_a_->set_config({.corrupt = 1.0});
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(faulty_a_->send(1, filled(fa_, MessageType::kParams, 256, 1.0f, pool_), 5s),
              SendResult::kQueued);
  }
  send_marker();
  auto m = receive_within(*b_);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->header.type, MessageType::kHeartbeat);
  EXPECT_EQ(from_a().dropped(DropReason::kBadChecksum), 3u);
  EXPECT_FALSE(b_->try_receive());
}

TEST_F(FaultsEndToEnd, DuplicatesAreDeliveredOnce) {
  faulty_a_->set_config({.duplicate = 1.0});
  ASSERT_EQ(faulty_a_->send(1, fa_.make(MessageType::kExchangeReq, 1), 5s), SendResult::kQueued);
  ASSERT_TRUE(wait_until([&] { return from_a().messages_in == 2; }));
  auto m = receive_within(*b_);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->header.type, MessageType::kExchangeReq);
  EXPECT_FALSE(b_->try_receive());
  EXPECT_EQ(from_a().dropped(DropReason::kStale), 1u);
}

TEST_F(FaultsEndToEnd, ReorderedOlderParamsIsDroppedAsStale) {
  faulty_a_->set_config({.reorder = 1.0});
  Message older = filled(fa_, MessageType::kParams, 8, 1.0f, pool_);
  Message newer = filled(fa_, MessageType::kParams, 8, 2.0f, pool_);
  const auto newer_seq = newer.header.sequence;
  ASSERT_EQ(faulty_a_->send(1, std::move(older), 5s), SendResult::kQueued);  // held back
  faulty_a_->set_config({});
  ASSERT_EQ(faulty_a_->send(1, std::move(newer), 5s), SendResult::kQueued);
  ASSERT_TRUE(wait_until([&] { return from_a().messages_in == 2; }));
  auto m = receive_within(*b_);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->header.sequence, newer_seq);
  EXPECT_FALSE(b_->try_receive());
  EXPECT_EQ(from_a().dropped(DropReason::kStale), 1u);
}

TEST_F(FaultsEndToEnd, DroppedAndPartitionedMessagesNeverArrive) {
  faulty_a_->set_config({.drop = 1.0});
  ASSERT_EQ(faulty_a_->send(1, fa_.make(MessageType::kHello, 1), 5s), SendResult::kQueued);
  faulty_a_->set_config({.partitioned = {1}});
  ASSERT_EQ(faulty_a_->send(1, fa_.make(MessageType::kHello, 1), 5s), SendResult::kQueued);
  send_marker();
  auto m = receive_within(*b_);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->header.type, MessageType::kHeartbeat);
  EXPECT_EQ(from_a().messages_in, 1u);
}

TEST_F(FaultsEndToEnd, DelayedMessagesArriveAfterTheDelay) {
  faulty_a_->set_config({.delay = 30ms});
  const auto start = std::chrono::steady_clock::now();
  ASSERT_EQ(faulty_a_->send(1, fa_.make(MessageType::kHello, 1), 5s), SendResult::kQueued);
  auto m = receive_within(*b_);
  ASSERT_TRUE(m);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 30ms);
}

}  // namespace
}  // namespace rumor
