// make_corpus.cc — writes the checked-in fuzz corpus (tests/fuzz/corpus): one file per
// malformed case, named "<expected drop reason>--<case>.bin", plus valid messages named
// "ok--<case>.bin" that give the fuzzer well-formed starting points.
// Usage: make_corpus OUTPUT_DIR   (then review and commit the files)
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>

#include "tests/fuzz/fuzz_input.h"
#include "tests/net/raw_header.h"

namespace {

using namespace rumor;
using rumor::testing::header_fields;
using rumor::testing::pack_fields;
using rumor::testing::RawField;
using rumor::testing::remove_field;
using rumor::testing::set_field;
using Bytes = std::vector<std::byte>;

std::filesystem::path g_dir;
BufferPool g_pool;
MessageFactory g_factory({fuzz::kRun, fuzz::kFingerprint, /*rank=*/1, /*incarnation=*/3});

void write(const std::string& name, const std::vector<Bytes>& frames) {
  const Bytes bytes = fuzz::join_frames(frames);
  std::ofstream out(g_dir / (name + ".bin"), std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

Bytes payload_of(const Message& m) { return {m.payload.bytes().begin(), m.payload.bytes().end()}; }

Message params(std::vector<float> values, WireDType dtype = WireDType::kFloat32,
               MessageType type = MessageType::kParams) {
  return g_factory.make_floats(type, 10, values, dtype, g_pool);
}

// A valid PARAMS message's payload under a header built from `fields`.
void write_fields(const std::string& name, const std::vector<RawField>& fields, const Message& m) {
  write(name, {pack_fields(fields), payload_of(m)});
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUTPUT_DIR\n", argv[0]);
    return 2;
  }
  g_dir = argv[1];
  std::filesystem::create_directories(g_dir);

  const Message p = params({1.0f, -2.0f, 0.5f, 8.0f});
  const Bytes header = encode_header(p.header);
  const Bytes payload = payload_of(p);
  const auto fields = [&] { return header_fields(p.header); };

  // Valid messages.
  write("ok--params-f32", {header, payload});
  const Message bf = params({1.0f, 2.0f, 3.0f}, WireDType::kBFloat16);
  write("ok--params-bf16", {encode_header(bf.header), payload_of(bf)});
  Message state = params({0.25f, -0.75f}, WireDType::kFloat16, MessageType::kStateRep);
  state.header.reply_to = 17;
  write("ok--state-rep-f16", {encode_header(state.header), payload_of(state)});
  Message hb = g_factory.make(MessageType::kHeartbeat, 11);
  hb.header.load = 0.5;
  write("ok--heartbeat", {encode_header(hb.header), {}});
  Message ex = params({3.0f}, WireDType::kFloat32, MessageType::kExchangeRep);
  ex.header.weight = 0.5;
  ex.header.reply_to = 4;
  write("ok--exchange-rep-weight", {encode_header(ex.header), payload_of(ex)});

  // Frames.
  write("missing_frame--no-frames", {});
  write("missing_frame--header-only", {header});
  write("extra_frame--three-frames", {header, payload, payload});

  // Header shape.
  write("malformed_header--empty", {{}, payload});
  write("malformed_header--truncated", {Bytes(header.begin(), header.begin() + header.size() / 2), payload});
  write("malformed_header--garbage", {{std::byte{0xc1}, std::byte{0xff}}, payload});
  write("malformed_header--not-a-map", {{std::byte{0x2a}}, payload});
  Bytes trailing = header;
  trailing.push_back(std::byte{0});
  write("malformed_header--trailing-byte", {trailing, payload});
  // map32 claiming 4 billion entries in five bytes.
  write("malformed_header--huge-map-claim",
        {{std::byte{0xdf}, std::byte{0xff}, std::byte{0xff}, std::byte{0xff}, std::byte{0xff}}, payload});
  // str32 claiming 4 GiB as a key.
  write("malformed_header--huge-string-claim",
        {{std::byte{0x81}, std::byte{0xdb}, std::byte{0xff}, std::byte{0xff}, std::byte{0xff},
          std::byte{0xff}}, payload});
  auto f = fields();
  f.push_back({"seq", std::uint64_t{1}});
  write_fields("malformed_header--duplicate-key", f, p);
  f = fields();
  set_field(f, "n", std::string("4"));
  write_fields("malformed_header--count-as-string", f, p);
  f = fields();
  set_field(f, "seq", std::int64_t{-5});
  write_fields("malformed_header--negative-sequence", f, p);
  f = fields();
  set_field(f, "pad", std::string(2000, 'x'));
  write_fields("malformed_header--oversized", f, p);

  // Version and fields.
  f = fields();
  set_field(f, "v", std::uint64_t{2});
  write_fields("bad_version--2", f, p);
  f = fields();
  remove_field(f, "v");
  write_fields("missing_field--version", f, p);
  f = fields();
  remove_field(f, "seq");
  write_fields("missing_field--sequence", f, p);
  f = fields();
  remove_field(f, "sum");
  write_fields("missing_field--checksum", f, p);

  // Identity.
  f = fields();
  set_field(f, "t", std::uint64_t{0});
  write_fields("unknown_type--0", f, p);
  set_field(f, "t", std::uint64_t{9});
  write_fields("unknown_type--9", f, p);
  f = fields();
  set_field(f, "from", std::uint64_t{fuzz::kPeers});
  write_fields("unknown_sender--outside-list", f, p);
  set_field(f, "from", std::uint64_t{fuzz::kSelf});
  write_fields("unknown_sender--self", f, p);
  f = fields();
  set_field(f, "run", fuzz::kRun + 1);
  write_fields("foreign_run--other-run", f, p);
  f = fields();
  set_field(f, "fp", fuzz::kFingerprint + 1);
  write_fields("foreign_model--other-fingerprint", f, p);

  // Sizes and content.
  f = fields();
  set_field(f, "dt", std::uint64_t{4});
  write_fields("bad_dtype--4", f, p);
  f = fields();
  set_field(f, "n", std::numeric_limits<std::uint64_t>::max());
  write_fields("too_large--count-max", f, p);
  write("size_mismatch--truncated-payload", {header, Bytes(payload.begin(), payload.end() - 1)});
  f = fields();
  set_field(f, "n", std::uint64_t{5});
  write_fields("size_mismatch--count-too-big", f, p);
  f = fields();
  set_field(f, "t", std::uint64_t{static_cast<std::uint8_t>(MessageType::kBye)});
  write_fields("size_mismatch--bye-with-payload", f, p);
  Bytes flipped = payload;
  flipped[5] ^= std::byte{0x10};
  write("bad_checksum--flipped-bit", {header, flipped});
  const Message nan = params({1.0f, std::nanf("")});
  write("non_finite--nan-f32", {encode_header(nan.header), payload_of(nan)});
  const Message inf = params({std::numeric_limits<float>::infinity()}, WireDType::kBFloat16);
  write("non_finite--inf-bf16", {encode_header(inf.header), payload_of(inf)});
  f = fields();
  set_field(f, "w", std::numeric_limits<double>::quiet_NaN());
  write_fields("non_finite--nan-weight", f, p);
  return 0;
}
