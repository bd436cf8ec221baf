// replay_guard.h — the stateful half of validation: is this message newer than the last one
// delivered from the same sender (and of the same type)?
//
// Order is (incarnation, sequence), compared lexicographically: a restarted peer has a larger
// incarnation, so its fresh sequence numbers still count as newer. Kept per (sender, type) so a
// heartbeat that overtook a PARAMS message does not make that PARAMS stale. One guard per
// receiver; not thread-safe (the Inbox serialises access under its mutex).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "net/message.h"

namespace rumor {

struct SequenceKey {
  std::uint64_t incarnation = 0;
  std::uint64_t sequence = 0;
  auto operator<=>(const SequenceKey&) const = default;
};

inline SequenceKey sequence_key(const MessageHeader& header) {
  return {header.incarnation, header.sequence};
}

class ReplayGuard {
 public:
  explicit ReplayGuard(std::uint32_t num_peers);

  // True when `header` is newer than the last committed message of its sender and type.
  // header.sender must be < num_peers (decode_message guarantees it; checked).
  bool is_fresh(const MessageHeader& header) const;
  // Records `header` as delivered. Keeps the maximum, so committing an older one is harmless.
  void commit(const MessageHeader& header);
  // The last committed key for (sender, type), if any.
  std::optional<SequenceKey> last(std::uint32_t sender, MessageType type) const;

 private:
  std::vector<std::array<std::optional<SequenceKey>, kNumMessageTypes>> last_;
};

}  // namespace rumor
