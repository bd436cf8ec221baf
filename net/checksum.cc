// checksum.cc — XXH3-64 through libxxhash, with its x86 dispatch when meson found it.
#include "net/checksum.h"

#include <new>

#include <xxhash.h>
#if RUMOR_XXH_DISPATCH
#include <xxh_x86dispatch.h>
#endif

namespace rumor {

std::uint64_t xxh3_64(std::span<const std::byte> bytes) {
#if RUMOR_XXH_DISPATCH
  return XXH3_64bits_dispatch(bytes.data(), bytes.size());
#else
  return XXH3_64bits(bytes.data(), bytes.size());
#endif
}

Xxh3Stream::Xxh3Stream() : state_(XXH3_createState()) {
  if (state_ == nullptr) throw std::bad_alloc();
  XXH3_64bits_reset(state_);
}

Xxh3Stream::~Xxh3Stream() { XXH3_freeState(state_); }

void Xxh3Stream::update(std::span<const std::byte> bytes) {
#if RUMOR_XXH_DISPATCH
  XXH3_64bits_update_dispatch(state_, bytes.data(), bytes.size());
#else
  XXH3_64bits_update(state_, bytes.data(), bytes.size());
#endif
}

std::uint64_t Xxh3Stream::digest() const { return XXH3_64bits_digest(state_); }

}  // namespace rumor
