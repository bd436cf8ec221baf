// fuzz_decode.cc — libFuzzer target for decode_message(): any byte string, split into frames
// (fuzz_input.h), must be decoded or rejected without crashing, reading out of bounds or
// leaking, and an accepted message must satisfy the decoder's promises.
// Built and run by tests/fuzz/run_fuzz.sh with clang++ -fsanitize=fuzzer,address,undefined.
#include <cstdio>
#include <cmath>
#include <cstdlib>
#include <span>
#include <vector>

#include "net/message.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

void require(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "fuzz_decode: accepted message breaks a promise: %s\n", what);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace rumor;
  const auto input = std::as_bytes(std::span(data, size));
  const auto frames = fuzz::split_frames(input);
  const Expectations expect = fuzz::expectations();
  const DecodeResult result = decode_message(frames, nullptr, expect);
  if (!result.ok()) {
    require(static_cast<int>(result.reason) < kNumDropReasons, "reason in range");
    return 0;
  }
  const Message& m = *result.message;
  require(m.header.version == kProtocolVersion, "version");
  require(m.header.sender < expect.num_peers && m.header.sender != expect.self_rank, "sender");
  require(m.header.run_id == expect.run_id && m.header.fingerprint == expect.fingerprint, "ids");
  require(m.header.count <= expect.max_elements, "count limit");
  require(m.payload.size() == m.header.count * wire_dtype_size(m.header.dtype), "size");
  require(payload_checksum(m.payload.bytes()) == m.header.checksum, "checksum");
  require(all_finite(m.payload.bytes(), m.header.dtype), "finite");
  if (m.header.count > 0) {
    std::vector<float> values(m.header.count);
    payload_to_floats(m, values);
    for (float v : values) require(std::isfinite(v), "converted values finite");
  }
  // Re-encoding an accepted header and decoding it again gives the same header.
  const std::vector<std::byte> again = encode_header(m.header);
  const std::vector<FrameView> reframed = {FrameView(again), m.payload.bytes()};
  const DecodeResult second = decode_message(reframed, nullptr, expect);
  require(second.ok() && second.message->header == m.header, "re-encode round trip");
  return 0;
}
