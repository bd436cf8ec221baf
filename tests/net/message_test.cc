// message_test.cc — header encoding round trips and every rejection of decode_message().
#include "net/message.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <set>
#include <vector>

#include "raw_header.h"

namespace rumor {
namespace {

using testing::header_fields;
using testing::pack_fields;
using testing::remove_field;
using testing::RawField;
using testing::set_field;

constexpr std::uint64_t kRun = 42;
const std::uint64_t kFingerprint = model_fingerprint("mlp-784-256-10", 203530);

Expectations expectations() {
  Expectations e;
  e.run_id = kRun;
  e.fingerprint = kFingerprint;
  e.num_peers = 4;
  e.self_rank = 0;
  e.max_elements = 1000;
  return e;
}

MessageFactory::Identity sender(std::uint32_t rank = 1) {
  return {kRun, kFingerprint, rank, /*incarnation=*/7};
}

// The wire form of a message: header bytes and payload bytes, kept together.
struct Wire {
  std::vector<std::byte> header;
  std::vector<std::byte> payload;
  std::vector<FrameView> frames() const { return {FrameView(header), FrameView(payload)}; }
};

Wire to_wire(const Message& m) {
  Wire w;
  w.header = encode_header(m.header);
  w.payload.assign(m.payload.bytes().begin(), m.payload.bytes().end());
  return w;
}

DecodeResult decode(const Wire& w, const Expectations& e = expectations()) {
  const auto frames = w.frames();
  return decode_message(frames, nullptr, e);
}

Message params(MessageFactory& factory, std::vector<float> values,
               WireDType dtype = WireDType::kFloat32) {
  static BufferPool pool;
  return factory.make_floats(MessageType::kParams, 5, values, dtype, pool);
}

// A header from raw fields and the payload of `base`.
Wire with_fields(const Wire& base, const std::vector<RawField>& fields) {
  Wire w = base;
  w.header = pack_fields(fields);
  return w;
}

void expect_rejected(const Wire& w, DropReason reason, const Expectations& e = expectations()) {
  const DecodeResult r = decode(w, e);
  ASSERT_FALSE(r.ok()) << "expected " << drop_reason_name(reason);
  EXPECT_EQ(r.reason, reason) << "got " << drop_reason_name(r.reason) << ", expected "
                              << drop_reason_name(reason);
}

class RoundTrip : public ::testing::TestWithParam<std::tuple<MessageType, WireDType>> {};

TEST_P(RoundTrip, EveryTypeAndDtype) {
  const auto [type, dtype] = GetParam();
  MessageFactory factory(sender());
  BufferPool pool;
  std::vector<float> values = {1.0f, -2.5f, 0.125f, 3e-5f, 1000.0f, -0.0f, 7.0f};
  Message m = carries_payload(type) ? factory.make_floats(type, 123, values, dtype, pool)
                                    : factory.make(type, 123, {}, dtype);
  m.header.weight = 0.25;
  m.header.load = 1.5;
  m.header.reply_to = 99;
  const Wire w = to_wire(m);
  EXPECT_LT(w.header.size(), 160u);
  const DecodeResult r = decode(w);
  ASSERT_TRUE(r.ok()) << drop_reason_name(r.reason);
  EXPECT_EQ(r.message->header, m.header);
  EXPECT_EQ(r.sender, 1u);
  ASSERT_EQ(r.message->payload.size(), w.payload.size());
  EXPECT_TRUE(std::equal(w.payload.begin(), w.payload.end(), r.message->payload.bytes().begin()));
  if (carries_payload(type)) {
    std::vector<float> back(values.size());
    payload_to_floats(*r.message, back);
    for (std::size_t i = 0; i < values.size(); ++i) {
      const bool exact = dtype == WireDType::kFloat32 || dtype == WireDType::kFloat64;
      EXPECT_NEAR(back[i], values[i], exact ? 0.0 : 0.004 * std::fabs(values[i]));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    AllTypesAllDtypes, RoundTrip,
    ::testing::Combine(::testing::Values(MessageType::kHello, MessageType::kHeartbeat,
                                         MessageType::kParams, MessageType::kExchangeReq,
                                         MessageType::kExchangeRep, MessageType::kStateReq,
                                         MessageType::kStateRep, MessageType::kBye),
                       ::testing::Values(WireDType::kFloat32, WireDType::kBFloat16,
                                         WireDType::kFloat16, WireDType::kFloat64)),
    [](const auto& info) {
      return std::string(message_type_name(std::get<0>(info.param))) + "_" +
             std::string(wire_dtype_name(std::get<1>(info.param)));
    });

TEST(Message, IntegralFloatFieldsRoundTrip) {
  // msgpack-c writes 2.0 as the integer 2 and -3.0 as -3: both must read back as doubles.
  MessageFactory factory(sender());
  Message m = factory.make(MessageType::kHeartbeat, 1);
  m.header.weight = -3.0;
  m.header.load = 2.0;
  const DecodeResult r = decode(to_wire(m));
  ASSERT_TRUE(r.ok()) << drop_reason_name(r.reason);
  EXPECT_EQ(r.message->header.weight, -3.0);
  EXPECT_EQ(r.message->header.load, 2.0);
}

TEST(Message, OptionalFieldsAreOptional) {
  MessageFactory factory(sender());
  const Message m = factory.make(MessageType::kHeartbeat, 1);
  const DecodeResult r = decode(to_wire(m));
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r.message->header.weight.has_value());
  EXPECT_FALSE(r.message->header.reply_to.has_value());
}

TEST(Message, FactoryStampsIdentityAndIncreasingSequence) {
  MessageFactory factory(sender(2));
  const Message a = factory.make(MessageType::kHeartbeat, 1);
  const Message b = params(factory, {1.0f, 2.0f});
  EXPECT_EQ(a.header.sender, 2u);
  EXPECT_EQ(a.header.run_id, kRun);
  EXPECT_EQ(a.header.fingerprint, kFingerprint);
  EXPECT_EQ(a.header.incarnation, 7u);
  EXPECT_LT(a.header.sequence, b.header.sequence);
  EXPECT_EQ(b.header.count, 2u);
  EXPECT_EQ(b.header.checksum, payload_checksum(b.payload.bytes()));
}

TEST(Message, UnknownKeysAreIgnored) {
  MessageFactory factory(sender());
  const Wire base = to_wire(params(factory, {1.0f}));
  auto fields = header_fields(decode(base).message->header);
  set_field(fields, "future_field", std::string("hello"));
  EXPECT_TRUE(decode(with_fields(base, fields)).ok());
}

TEST(Message, PayloadAliasesTheFrameWithoutCopy) {
  MessageFactory factory(sender());
  const Wire w = to_wire(params(factory, {1.0f, 2.0f, 3.0f}));
  const DecodeResult r = decode(w);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.message->payload.data(), w.payload.data());
}

// Validation sums the squares of a float32 payload in the same pass (the receiver's norm check
// uses them); other dtypes get none.
TEST(Message, DecodingAFloat32PayloadGivesItsSumOfSquares) {
  MessageFactory factory(sender());
  std::vector<float> values(1000);
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = 0.01f * static_cast<float>(i) - 3.0f;
  double expected = 0.0;
  for (float v : values) expected += static_cast<double>(v) * v;
  const DecodeResult r = decode(to_wire(params(factory, values)));
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r.message->sum_squares);
  EXPECT_NEAR(*r.message->sum_squares, expected, 1e-5 * expected);

  for (WireDType dtype : {WireDType::kBFloat16, WireDType::kFloat16}) {
    const DecodeResult other = decode(to_wire(params(factory, values, dtype)));
    ASSERT_TRUE(other.ok());
    EXPECT_FALSE(other.message->sum_squares) << wire_dtype_name(dtype);
  }
}

TEST(DigestPayload, ChecksumIsThePayloadChecksumAndSumsOnlyFloat32) {
  const std::vector<float> values = {3.0f, -4.0f, 12.0f};
  const auto bytes = std::as_bytes(std::span<const float>(values));
  const PayloadDigest digest = digest_payload(bytes, WireDType::kFloat32);
  EXPECT_EQ(digest.checksum, payload_checksum(bytes));
  EXPECT_TRUE(digest.finite);
  ASSERT_TRUE(digest.sum_squares);
  EXPECT_EQ(*digest.sum_squares, 169.0);
  const PayloadDigest as_half = digest_payload(bytes.first(4), WireDType::kFloat16);
  EXPECT_EQ(as_half.checksum, payload_checksum(bytes.first(4)));
  EXPECT_FALSE(as_half.sum_squares);
}

// A float32 payload is read in place (the receive path mixes straight from the frame); any
// other dtype, or bytes that are not float-aligned, must be decoded instead.
TEST(Float32View, ReadsAFloat32PayloadInPlace) {
  MessageFactory factory(sender());
  const Message m = params(factory, {1.0f, -2.5f, 3.0f});
  const auto view = float32_view(m);
  ASSERT_TRUE(view);
  EXPECT_EQ(static_cast<const void*>(view->data()), static_cast<const void*>(m.payload.data()));
  EXPECT_EQ(std::vector<float>(view->begin(), view->end()),
            (std::vector<float>{1.0f, -2.5f, 3.0f}));
}

TEST(Float32View, NoneForOtherDtypesOrUnalignedBytes) {
  MessageFactory factory(sender());
  EXPECT_FALSE(float32_view(params(factory, {1.0f, 2.0f}, WireDType::kBFloat16)));
  EXPECT_FALSE(float32_view(params(factory, {1.0f, 2.0f}, WireDType::kFloat16)));

  const Message aligned = params(factory, {1.0f, 2.0f});
  auto bytes = std::make_shared<std::vector<std::byte>>(aligned.payload.size() + 1);
  std::memcpy(bytes->data() + 1, aligned.payload.data(), aligned.payload.size());
  Message unaligned = aligned;
  unaligned.payload = Payload(bytes, std::span<const std::byte>(bytes->data() + 1,
                                                                aligned.payload.size()));
  EXPECT_FALSE(float32_view(unaligned));
  std::vector<float> decoded(2);
  payload_to_floats(unaligned, decoded);  // the fallback still reads it
  EXPECT_EQ(decoded, (std::vector<float>{1.0f, 2.0f}));
}

// ---- rejections, one per reason ---------------------------------------------------------

class Reject : public ::testing::Test {
 protected:
  MessageFactory factory_{sender()};
  Message message_ = params(factory_, {1.0f, 2.0f, 3.0f, 4.0f});
  Wire wire_ = to_wire(message_);
  std::vector<RawField> fields_ = header_fields(message_.header);
};

TEST_F(Reject, MissingFrame) {
  const std::vector<FrameView> none;
  EXPECT_EQ(decode_message(none, nullptr, expectations()).reason, DropReason::kMissingFrame);
  const std::vector<FrameView> one = {FrameView(wire_.header)};
  EXPECT_EQ(decode_message(one, nullptr, expectations()).reason, DropReason::kMissingFrame);
}

TEST_F(Reject, ExtraFrame) {
  const std::vector<FrameView> three = {FrameView(wire_.header), FrameView(wire_.payload),
                                        FrameView(wire_.payload)};
  EXPECT_EQ(decode_message(three, nullptr, expectations()).reason, DropReason::kExtraFrame);
}

TEST_F(Reject, TruncatedHeader) {
  for (std::size_t cut = 0; cut < wire_.header.size(); ++cut) {
    Wire w = wire_;
    w.header.resize(cut);
    expect_rejected(w, DropReason::kMalformedHeader);
  }
}

TEST_F(Reject, TruncatedPayload) {
  Wire w = wire_;
  w.payload.pop_back();
  expect_rejected(w, DropReason::kSizeMismatch);
  w.payload.clear();
  expect_rejected(w, DropReason::kSizeMismatch);
}

TEST_F(Reject, GarbageAndNonMapHeaders) {
  Wire w = wire_;
  w.header = {std::byte{0xc1}};  // the one byte MessagePack never uses
  expect_rejected(w, DropReason::kMalformedHeader);
  w.header = {std::byte{0x2a}};  // the integer 42
  expect_rejected(w, DropReason::kMalformedHeader);
  w.header = {std::byte{0x91}, std::byte{0x01}};  // [1]
  expect_rejected(w, DropReason::kMalformedHeader);
  w = wire_;
  w.header.push_back(std::byte{0x00});  // trailing byte after the map
  expect_rejected(w, DropReason::kMalformedHeader);
}

TEST_F(Reject, OversizedHeader) {
  set_field(fields_, "padding", std::string(kMaxHeaderBytes, 'x'));
  expect_rejected(with_fields(wire_, fields_), DropReason::kMalformedHeader);
}

TEST_F(Reject, DuplicateKey) {
  fields_.push_back({"seq", std::uint64_t{1}});
  expect_rejected(with_fields(wire_, fields_), DropReason::kMalformedHeader);
}

TEST_F(Reject, MistypedField) {
  set_field(fields_, "n", std::string("4"));
  expect_rejected(with_fields(wire_, fields_), DropReason::kMalformedHeader);
  fields_ = header_fields(message_.header);
  set_field(fields_, "seq", std::int64_t{-1});
  expect_rejected(with_fields(wire_, fields_), DropReason::kMalformedHeader);
  fields_ = header_fields(message_.header);
  set_field(fields_, "w", std::string("0.5"));
  expect_rejected(with_fields(wire_, fields_), DropReason::kMalformedHeader);
}

TEST_F(Reject, WrongVersion) {
  set_field(fields_, "v", std::uint64_t{kProtocolVersion + 1});
  expect_rejected(with_fields(wire_, fields_), DropReason::kBadVersion);
  // A different version is rejected as such even when its fields are unknown to us.
  remove_field(fields_, "n");
  expect_rejected(with_fields(wire_, fields_), DropReason::kBadVersion);
}

TEST_F(Reject, MissingField) {
  for (const char* key : {"v", "t", "run", "from", "inc", "seq", "step", "fp", "dt", "n", "sum"}) {
    auto fields = fields_;
    remove_field(fields, key);
    SCOPED_TRACE(key);
    expect_rejected(with_fields(wire_, fields), DropReason::kMissingField);
  }
}

TEST_F(Reject, UnknownType) {
  for (std::uint64_t code : {std::uint64_t{0}, std::uint64_t{9}, std::uint64_t{255}, std::uint64_t{~0ull}}) {
    set_field(fields_, "t", code);
    expect_rejected(with_fields(wire_, fields_), DropReason::kUnknownType);
  }
}

TEST_F(Reject, UnknownSender) {
  for (std::uint64_t rank : {std::uint64_t{4}, std::uint64_t{1} << 32, std::uint64_t{~0ull}}) {
    set_field(fields_, "from", rank);
    expect_rejected(with_fields(wire_, fields_), DropReason::kUnknownSender);
  }
  set_field(fields_, "from", std::uint64_t{0});  // the receiver itself
  expect_rejected(with_fields(wire_, fields_), DropReason::kUnknownSender);
}

TEST_F(Reject, ForeignRun) {
  set_field(fields_, "run", kRun + 1);
  expect_rejected(with_fields(wire_, fields_), DropReason::kForeignRun);
}

TEST_F(Reject, ForeignFingerprint) {
  set_field(fields_, "fp", model_fingerprint("mlp-784-256-10", 203531));
  expect_rejected(with_fields(wire_, fields_), DropReason::kForeignModel);
}

TEST_F(Reject, UnknownDtype) {
  set_field(fields_, "dt", std::uint64_t{4});
  expect_rejected(with_fields(wire_, fields_), DropReason::kBadDtype);
}

TEST_F(Reject, TooManyElements) {
  Expectations e = expectations();
  e.max_elements = 3;
  expect_rejected(wire_, DropReason::kTooLarge, e);
  set_field(fields_, "n", ~0ull);  // no overflow in count × size
  expect_rejected(with_fields(wire_, fields_), DropReason::kTooLarge);
}

TEST_F(Reject, CountDisagreesWithPayload) {
  set_field(fields_, "n", std::uint64_t{5});
  expect_rejected(with_fields(wire_, fields_), DropReason::kSizeMismatch);
  set_field(fields_, "n", std::uint64_t{8});
  set_field(fields_, "dt", std::uint64_t{static_cast<std::uint8_t>(WireDType::kBFloat16)});
  Wire w = with_fields(wire_, fields_);  // 16 bytes as 8 bf16: consistent, so it passes sizes
  EXPECT_NE(decode(w).reason, DropReason::kSizeMismatch);
}

TEST_F(Reject, PayloadOnATypeWithoutOne) {
  set_field(fields_, "t", std::uint64_t{static_cast<std::uint8_t>(MessageType::kHeartbeat)});
  expect_rejected(with_fields(wire_, fields_), DropReason::kSizeMismatch);
}

TEST_F(Reject, ParamsOfTheWrongModelSize) {
  Expectations e = expectations();
  e.param_elements = 5;
  expect_rejected(wire_, DropReason::kSizeMismatch, e);
  e.param_elements = 4;
  EXPECT_TRUE(decode(wire_, e).ok());
}

TEST_F(Reject, BadChecksum) {
  for (std::size_t bit = 0; bit < wire_.payload.size() * 8; bit += 5) {
    Wire w = wire_;
    w.payload[bit / 8] ^= static_cast<std::byte>(1u << (bit % 8));
    expect_rejected(w, DropReason::kBadChecksum);
  }
  set_field(fields_, "sum", message_.header.checksum ^ 1);
  expect_rejected(with_fields(wire_, fields_), DropReason::kBadChecksum);
}

TEST_F(Reject, NonFinitePayload) {
  for (WireDType dtype : {WireDType::kFloat32, WireDType::kBFloat16, WireDType::kFloat16,
                          WireDType::kFloat64}) {
    for (float bad : {std::nanf(""), std::numeric_limits<float>::infinity(),
                      -std::numeric_limits<float>::infinity()}) {
      // A sender that checksums NaN honestly: only the finiteness check catches it.
      const Message m = params(factory_, {1.0f, bad, 3.0f}, dtype);
      expect_rejected(to_wire(m), DropReason::kNonFinite);
    }
  }
  // float16 overflow makes inf out of a finite float32: also refused.
  expect_rejected(to_wire(params(factory_, {1e6f}, WireDType::kFloat16)), DropReason::kNonFinite);
}

TEST_F(Reject, NonFiniteHeaderFloats) {
  set_field(fields_, "w", std::nan(""));
  expect_rejected(with_fields(wire_, fields_), DropReason::kNonFinite);
  fields_ = header_fields(message_.header);
  set_field(fields_, "load", std::numeric_limits<double>::infinity());
  expect_rejected(with_fields(wire_, fields_), DropReason::kNonFinite);
}

TEST_F(Reject, FirstFailingCheckNamesTheReason) {
  // Foreign run and a corrupted payload: the run is checked first.
  set_field(fields_, "run", kRun + 1);
  Wire w = with_fields(wire_, fields_);
  w.payload[0] ^= std::byte{1};
  expect_rejected(w, DropReason::kForeignRun);
  // Wrong version and unknown sender: the version is checked first.
  set_field(fields_, "v", std::uint64_t{99});
  set_field(fields_, "from", std::uint64_t{77});
  expect_rejected(with_fields(wire_, fields_), DropReason::kBadVersion);
}

TEST_F(Reject, ReportsTheSenderOnceKnown) {
  set_field(fields_, "run", kRun + 1);
  const DecodeResult r = decode(with_fields(wire_, fields_));
  EXPECT_EQ(r.sender, 1u);
  set_field(fields_, "from", std::uint64_t{9});
  EXPECT_FALSE(decode(with_fields(wire_, fields_)).sender.has_value());
}

TEST(Fingerprint, DependsOnArchitectureAndCount) {
  EXPECT_EQ(model_fingerprint("a", 10), model_fingerprint("a", 10));
  EXPECT_NE(model_fingerprint("a", 10), model_fingerprint("a", 11));
  EXPECT_NE(model_fingerprint("a", 10), model_fingerprint("b", 10));
}

TEST(DropReason, NamesAreDistinct) {
  std::set<std::string_view> names;
  for (int i = 0; i < kNumDropReasons; ++i) names.insert(drop_reason_name(static_cast<DropReason>(i)));
  EXPECT_EQ(names.size(), static_cast<std::size_t>(kNumDropReasons));
  EXPECT_EQ(names.count("unknown"), 0u);
}

}  // namespace
}  // namespace rumor
