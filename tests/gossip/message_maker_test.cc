// message_maker_test.cc — MessageMaker's deferred mode (what publish() stamps on the owner
// thread) finished by DeferredFinisher (on the sender thread) gives the same bytes and
// checksum as the immediate mode, and the result passes the receiver's validation.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <vector>

#include "gossip/mixing_rule.h"

namespace rumor {
namespace {

constexpr std::uint64_t kRun = 3;
const std::uint64_t kFingerprint = model_fingerprint("maker-test", 5);

MessageFactory::Identity identity() { return {kRun, kFingerprint, /*rank=*/1, /*incarnation=*/9}; }

std::shared_ptr<const Buffer> snapshot_of(BufferPool& pool, const std::vector<float>& values) {
  std::shared_ptr<Buffer> buffer = pool.acquire(values.size() * sizeof(float));
  std::memcpy(buffer->data(), values.data(), values.size() * sizeof(float));
  return buffer;
}

std::span<const float> floats(const std::shared_ptr<const Buffer>& buffer) {
  return {reinterpret_cast<const float*>(buffer->data()), buffer->size() / sizeof(float)};
}

std::vector<std::byte> bytes(const Message& m) {
  return {m.payload.bytes().begin(), m.payload.bytes().end()};
}

// What a receiver does with it: decode and validate (checksum, sizes, finiteness).
bool accepted(const Message& m) {
  const std::vector<std::byte> header = encode_header(m.header);
  const std::vector<FrameView> frames = {FrameView(header), m.payload.bytes()};
  Expectations expect;
  expect.run_id = kRun;
  expect.fingerprint = kFingerprint;
  expect.num_peers = 2;
  expect.self_rank = 0;
  expect.max_elements = 100;
  return decode_message(frames, nullptr, expect).ok();
}

class Deferred : public ::testing::TestWithParam<WireDType> {};

TEST_P(Deferred, FinishedMessagesMatchImmediateOnes) {
  const WireDType dtype = GetParam();
  const std::vector<float> values = {1.0f, -2.5f, 3.25f, 0.0f, 1e-3f};
  BufferPool pool;
  MessageFactory factory(identity());
  MessageMaker immediate{factory, pool, dtype, false, nullptr};
  const Message reference = immediate.make_floats(MessageType::kParams, 7, values);

  const std::shared_ptr<const Buffer> snapshot = snapshot_of(pool, values);
  MessageMaker deferred{factory, pool, dtype, true, snapshot};
  Message first = deferred.make_floats(MessageType::kParams, 7, floats(snapshot));
  Message second = deferred.make_like(first, 7);
  EXPECT_EQ(first.header.count, values.size());
  EXPECT_EQ(first.header.dtype, dtype);
  EXPECT_LT(first.header.sequence, second.header.sequence);  // stamped on the owner thread
  EXPECT_FALSE(accepted(first)) << "an unfinished message must not pass validation";

  DeferredFinisher finisher;
  finisher.finish(first, pool);
  finisher.finish(second, pool);
  for (const Message* m : {&first, &second}) {
    EXPECT_EQ(bytes(*m), bytes(reference));
    EXPECT_EQ(m->header.checksum, reference.header.checksum);
    EXPECT_TRUE(accepted(*m));
  }
  EXPECT_EQ(first.payload.data(), second.payload.data()) << "make_like shares the payload";
  if (dtype == WireDType::kFloat32) {
    EXPECT_EQ(first.payload.data(), snapshot->data()) << "float32 sends the snapshot itself";
    // The checksum pass also summed the squares: the engine's own norm comes from it.
    double expected = 0.0;
    for (float v : values) expected += static_cast<double>(v) * v;
    for (const Message* m : {&first, &second}) {
      ASSERT_TRUE(m->sum_squares);
      EXPECT_NEAR(*m->sum_squares, expected, 1e-6 * expected);
    }
  } else {
    EXPECT_FALSE(first.sum_squares) << "encoded: the squares are not summed";
  }
}

INSTANTIATE_TEST_SUITE_P(WireDtypes, Deferred,
                         ::testing::Values(WireDType::kFloat32, WireDType::kBFloat16,
                                           WireDType::kFloat16));

// Values that are not the snapshot (pairwise sends its view) are copied at once: changing
// them after make_floats() does not change what is sent.
TEST(DeferredMaker, CopiesValuesThatAreNotTheSnapshot) {
  std::vector<float> view = {4.0f, 5.0f, 6.0f};
  BufferPool pool;
  MessageFactory factory(identity());
  MessageMaker deferred{factory, pool, WireDType::kFloat32, true, nullptr};
  Message m = deferred.make_floats(MessageType::kExchangeReq, 2, view);
  view.assign(view.size(), -1.0f);
  DeferredFinisher finisher;
  finisher.finish(m, pool);
  std::vector<float> sent(3);
  payload_to_floats(m, sent);
  EXPECT_EQ(sent, (std::vector<float>{4.0f, 5.0f, 6.0f}));
  EXPECT_TRUE(accepted(m));
}

// Payloads already in wire form (robust push-sum's float64 totals) are only checksummed.
TEST(DeferredMaker, WireFormPayloadsAreOnlyChecksummed) {
  const std::vector<double> totals = {0.5, -1.25, 8.0};
  BufferPool pool;
  std::shared_ptr<Buffer> buffer = pool.acquire(totals.size() * sizeof(double));
  std::memcpy(buffer->data(), totals.data(), totals.size() * sizeof(double));
  const Payload payload(std::shared_ptr<const Buffer>(std::move(buffer)));
  MessageFactory factory(identity());
  MessageMaker deferred{factory, pool, WireDType::kFloat32, true, nullptr};
  Message m = deferred.make(MessageType::kParams, 4, payload, WireDType::kFloat64);
  EXPECT_EQ(m.header.count, totals.size());
  DeferredFinisher finisher;
  finisher.finish(m, pool);
  EXPECT_EQ(m.payload.data(), payload.data());
  EXPECT_EQ(m.header.checksum, payload_checksum(payload.bytes()));
  EXPECT_FALSE(m.sum_squares) << "running totals are not parameters";
  EXPECT_TRUE(accepted(m));
}

}  // namespace
}  // namespace rumor
