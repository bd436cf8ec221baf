// checksum.h — XXH3-64 over payload bytes, one-shot or streamed chunk by chunk (so a caller can
// hash data while it is still in cache). Uses libxxhash's runtime CPU dispatch (AVX2 and
// wider where present) when the library provides it; the value is the same either way.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

struct XXH3_state_s;

namespace rumor {

// XXH3-64 (seed 0) of `bytes`.
std::uint64_t xxh3_64(std::span<const std::byte> bytes);

// The same value, fed in pieces. Not copyable; owns its hashing state.
class Xxh3Stream {
 public:
  Xxh3Stream();
  ~Xxh3Stream();
  Xxh3Stream(const Xxh3Stream&) = delete;
  Xxh3Stream& operator=(const Xxh3Stream&) = delete;

  void update(std::span<const std::byte> bytes);
  std::uint64_t digest() const;

 private:
  XXH3_state_s* state_;
};

}  // namespace rumor
