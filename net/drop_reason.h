// drop_reason.h — why a message was not delivered: every validation failure of the decoder, the
// replay check, and the transport's own drops (full queues, superseded mailbox entries).
//
// One enum for all of them so that per-neighbour counters are one array indexed by reason.
#pragma once

#include <cstdint>
#include <string_view>

namespace rumor {

enum class DropReason : std::uint8_t {
  // decode_message, in the order it checks (the first failing check names the reason).
  kMissingFrame = 0,   // fewer than 2 frames (header, payload)
  kExtraFrame,         // more than 2 frames
  kMalformedHeader,    // not a MessagePack map of known shape, trailing bytes, too large, bad types
  kBadVersion,         // protocol version field present but not kProtocolVersion
  kMissingField,       // a required header field is absent
  kUnknownType,        // message type code not known
  kUnknownSender,      // sender rank outside the peer list, or the receiver's own rank
  kForeignRun,         // run id differs from the receiver's
  kForeignModel,       // model fingerprint differs from the receiver's
  kBadDtype,           // payload dtype code not known
  kTooLarge,           // element count above the receiver's limit
  kSizeMismatch,       // payload bytes ≠ count × dtype size, or a count the type does not allow
  kBadChecksum,        // XXH3-64 of the payload differs from the header's
  kNonFinite,          // a NaN or ±inf in the payload or in a float header field
  // ReplayGuard (stateful, per receiver).
  kStale,              // (incarnation, sequence) not newer than the last delivered of that type
  // ZmqTransport, receive side.
  kIdentityMismatch,   // the ZeroMQ routing id does not name the header's sender
  kInboxFull,          // the receive queue for non-PARAMS messages is full
  kSuperseded,         // a newer PARAMS from the same sender replaced this one before delivery
  // ZmqTransport, send side.
  kQueueFull,          // send() found the neighbour's outgoing queue full
  kExpired,            // a queued outgoing message could not be handed to ZeroMQ in time
  kCount,
};

inline constexpr int kNumDropReasons = static_cast<int>(DropReason::kCount);

// Whether the message itself was bad (malformed, foreign, corrupted, non-finite, or sent under
// another peer's identity), as opposed to a good one that flow control let go (a replay or
// duplicate, a full queue, superseded by a newer one, expired).
constexpr bool is_rejection(DropReason reason) {
  return reason <= DropReason::kNonFinite || reason == DropReason::kIdentityMismatch;
}

// Stable snake_case name, e.g. "bad_checksum" (used in metrics and test corpus file names).
std::string_view drop_reason_name(DropReason reason);

}  // namespace rumor
