// fuzz_input.h — how one fuzz input (a flat byte string) maps to the frames of a message, and
// the receiver's expectations used by the fuzzer, the corpus generator and the corpus replay.
//
// Layout: byte 0 = number of frames (mod 4); then, for every frame but the last, a 2-byte
// little-endian length (clamped to what is left) followed by its bytes; the last frame takes
// the rest. Any byte string is a valid input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "net/message.h"

namespace rumor::fuzz {

inline constexpr std::uint64_t kRun = 0x5eed;
inline constexpr std::uint64_t kFingerprint = 0xfeedface;
inline constexpr std::uint32_t kSelf = 0;
inline constexpr std::uint32_t kPeers = 4;

inline Expectations expectations() {
  Expectations e;
  e.run_id = kRun;
  e.fingerprint = kFingerprint;
  e.num_peers = kPeers;
  e.self_rank = kSelf;
  e.max_elements = 1 << 16;
  e.param_elements = 0;
  return e;
}

inline std::vector<FrameView> split_frames(std::span<const std::byte> input) {
  std::vector<FrameView> frames;
  if (input.empty()) return frames;
  const std::size_t count = static_cast<std::size_t>(input[0]) % 4;
  std::size_t at = 1;
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t left = input.size() - at;
    std::size_t length = left;
    if (i + 1 < count) {
      if (left < 2) {
        length = 0;
      } else {
        length = static_cast<std::size_t>(input[at]) | (static_cast<std::size_t>(input[at + 1]) << 8);
        at += 2;
        length = std::min(length, input.size() - at);
      }
    }
    frames.emplace_back(input.data() + at, length);
    at += length;
  }
  return frames;
}

// The inverse of split_frames (frames but the last must be < 64 KiB).
inline std::vector<std::byte> join_frames(const std::vector<std::vector<std::byte>>& frames) {
  std::vector<std::byte> out = {static_cast<std::byte>(frames.size())};
  for (std::size_t i = 0; i < frames.size(); ++i) {
    if (i + 1 < frames.size()) {
      out.push_back(static_cast<std::byte>(frames[i].size() & 0xff));
      out.push_back(static_cast<std::byte>(frames[i].size() >> 8));
    }
    out.insert(out.end(), frames[i].begin(), frames[i].end());
  }
  return out;
}

}  // namespace rumor::fuzz
