// replay_guard.cc — per (sender, type) high-water marks of delivered sequence keys.
#include "net/replay_guard.h"

#include "core/error.h"

namespace rumor {

ReplayGuard::ReplayGuard(std::uint32_t num_peers) : last_(num_peers) {}

bool ReplayGuard::is_fresh(const MessageHeader& header) const {
  RUMOR_CHECK(header.sender < last_.size(), "sender ", header.sender, " outside peer list of ",
              last_.size());
  const auto& slot = last_[header.sender][type_index(header.type)];
  return !slot || sequence_key(header) > *slot;
}

void ReplayGuard::commit(const MessageHeader& header) {
  RUMOR_CHECK(header.sender < last_.size(), "sender ", header.sender, " outside peer list of ",
              last_.size());
  auto& slot = last_[header.sender][type_index(header.type)];
  const SequenceKey key = sequence_key(header);
  if (!slot || key > *slot) slot = key;
}

std::optional<SequenceKey> ReplayGuard::last(std::uint32_t sender, MessageType type) const {
  if (sender >= last_.size()) return std::nullopt;
  return last_[sender][type_index(type)];
}

}  // namespace rumor
