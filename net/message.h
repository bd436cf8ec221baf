// message.h — rumor's wire format: message types, the header, encoding and validating decode.
//
// A message is two ZeroMQ frames: frame 1 a MessagePack map (the header, < 1 KiB), frame 2 the
// raw little-endian payload in the dtype the header names (possibly empty). decode_message()
// checks everything that can be checked without state — frames, header shape, version, type,
// sender, run id, fingerprint, dtype, sizes, checksum, finiteness — and returns either the
// message or the first failing check's DropReason; it never throws on bad bytes and never reads
// outside the frames it is given. The sequence/replay check needs memory of what was delivered
// and lives in ReplayGuard (net/replay_guard.h). docs/PROTOCOL.md describes the format.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "net/drop_reason.h"
#include "net/dtype.h"
#include "net/payload.h"

namespace rumor {

inline constexpr std::uint32_t kProtocolVersion = 1;
// Header frames longer than this are rejected before parsing (bytes).
inline constexpr std::size_t kMaxHeaderBytes = 1024;

enum class MessageType : std::uint8_t {
  kHello = 1,        // join / rejoin announcement, carries the sender's step
  kHeartbeat = 2,    // small and frequent: step, optional load
  kParams = 3,       // one-way parameter push (latest-wins at the receiver)
  kExchangeReq = 4,  // pairwise push-pull: my parameters, please reply with yours
  kExchangeRep = 5,  // reply to an EXCHANGE_REQ (reply_to = its sequence)
  kStateReq = 6,     // catch-up: please send your full state
  kStateRep = 7,     // full state: parameters, optimizer state (reply_to = request sequence)
  kBye = 8,          // orderly leave
};
inline constexpr int kNumMessageTypes = 8;

std::string_view message_type_name(MessageType type);
// The type with this wire code, or nullopt for an unknown code.
std::optional<MessageType> message_type_from_code(std::uint64_t code);
// Whether messages of this type may carry a payload (PARAMS, EXCHANGE_*, STATE_REP).
bool carries_payload(MessageType type);
// Dense index 0..kNumMessageTypes-1 (for per-type tables).
inline int type_index(MessageType type) { return static_cast<int>(type) - 1; }

struct MessageHeader {
  std::uint32_t version = kProtocolVersion;
  MessageType type = MessageType::kHeartbeat;
  std::uint64_t run_id = 0;
  std::uint32_t sender = 0;         // rank in the peer list
  std::uint64_t incarnation = 0;    // sender's start id: grows when a peer restarts
  std::uint64_t sequence = 0;       // per sender and incarnation, strictly increasing
  std::uint64_t step = 0;           // sender's training step when the message was made
  std::uint64_t fingerprint = 0;    // model_fingerprint() of the sender's model
  WireDType dtype = WireDType::kFloat32;
  std::uint64_t count = 0;          // payload elements of `dtype`
  std::uint64_t checksum = 0;       // payload_checksum() of the payload bytes
  std::optional<double> weight;     // push-sum weight, where the mixing rule uses one
  std::optional<double> load;       // HEARTBEAT: sender load (e.g. seconds per step)
  std::optional<std::uint64_t> reply_to;  // EXCHANGE_REP / STATE_REP: the request's sequence

  bool operator==(const MessageHeader&) const = default;
};

struct Message {
  MessageHeader header;
  Payload payload;  // header.count elements of header.dtype
  // Σx² of a float32 payload's values where it was computed with the checksum (digest_payload):
  // by decode_message() on receipt, so the receiver's plausibility check takes its norm from
  // it instead of reading the payload again, and by DeferredFinisher on the sender. nullopt
  // when not computed. It describes `payload`: whoever gives a message another payload resets
  // it.
  std::optional<double> sum_squares;
};

// What a receiver accepts. Every message must match run_id and fingerprint and come from a
// rank < num_peers other than self_rank.
struct Expectations {
  std::uint64_t run_id = 0;
  std::uint64_t fingerprint = 0;
  std::uint32_t num_peers = 0;
  std::optional<std::uint32_t> self_rank;
  std::uint64_t max_elements = 0;    // upper bound on count for any message
  std::uint64_t param_elements = 0;  // PARAMS / EXCHANGE_*: count must equal this (0: unchecked)
};

// XXH3-64 of the payload bytes (the header's checksum field).
std::uint64_t payload_checksum(std::span<const std::byte> bytes);

// A payload's checksum and whether its elements are all finite, with, for float32, Σx² of the
// values: one pass over cache-sized chunks (hashed, then summed while still in cache). What
// decode_message() validates with, and what a sender checksums float32 parameters with when
// it wants their norm too.
struct PayloadDigest {
  std::uint64_t checksum = 0;
  bool finite = true;
  std::optional<double> sum_squares;  // float32 only; NaN or inf when not finite
};
PayloadDigest digest_payload(std::span<const std::byte> bytes, WireDType dtype);

// Hash of a model description (architecture string) and its parameter count; the wire dtype is
// not part of it (peers may compress differently and still agree on the model).
std::uint64_t model_fingerprint(std::string_view architecture, std::uint64_t parameter_count);

// Encodes the header as a MessagePack map (frame 1).
std::vector<std::byte> encode_header(const MessageHeader& header);

using FrameView = std::span<const std::byte>;

struct DecodeResult {
  std::optional<Message> message;       // set when the message passed every check
  DropReason reason = DropReason::kMalformedHeader;  // meaningful only when !message
  std::optional<std::uint32_t> sender;  // the valid sender rank, once that check has passed
  bool ok() const { return message.has_value(); }
};

// Validates and decodes one received message. `frames` are its frames without any routing id;
// `payload_owner` keeps frames[1]'s bytes alive and the returned payload aliases them (no copy).
// Never throws on any input bytes. Cost: one pass over the payload (checksum + finiteness).
DecodeResult decode_message(std::span<const FrameView> frames,
                            std::shared_ptr<const void> payload_owner,
                            const Expectations& expect);

// The sender side: stamps version, run id, rank, incarnation, a fresh sequence number,
// fingerprint, element count and checksum. Thread-safe (the sequence is atomic).
class MessageFactory {
 public:
  struct Identity {
    std::uint64_t run_id = 0;
    std::uint64_t fingerprint = 0;
    std::uint32_t rank = 0;
    std::uint64_t incarnation = 0;  // default_incarnation() unless a test pins it
  };
  explicit MessageFactory(Identity identity);

  // A message of `type` with `payload` (payload.size() must be a multiple of the dtype size;
  // checked). Computes the checksum: one pass over the payload.
  Message make(MessageType type, std::uint64_t step, Payload payload = {},
               WireDType dtype = WireDType::kFloat32);
  // Converts `values` to `dtype` into a buffer from `pool` and makes the message: one pass
  // over the values (conversion and checksum chunk by chunk, in cache).
  Message make_floats(MessageType type, std::uint64_t step, std::span<const float> values,
                      WireDType dtype, BufferPool& pool);
  // Another message with the payload (shared, not copied) and checksum of `original`, e.g. the
  // same parameters for the next neighbour: no pass over the payload.
  Message make_like(const Message& original, std::uint64_t step);

  const Identity& identity() const { return identity_; }

 private:
  Message stamp(MessageType type, std::uint64_t step, Payload payload, WireDType dtype,
                std::uint64_t checksum);

  Identity identity_;
  std::atomic<std::uint64_t> next_sequence_{1};
};

// Converts `values` to `dtype` into a buffer from `pool` and sets `checksum` to the XXH3 of the
// result: one pass over the values (conversion and checksum chunk by chunk, in cache). What
// MessageFactory::make_floats() builds its payload with.
Payload encode_payload(std::span<const float> values, WireDType dtype, BufferPool& pool,
                       std::uint64_t& checksum);

// Microseconds since the Unix epoch at the call: grows across restarts of a peer process, so a
// restarted peer's messages order after its previous life's.
std::uint64_t default_incarnation();

// Converts a message's payload to float32 into `out` (out.size() must equal header.count).
void payload_to_floats(const Message& message, std::span<float> out);

// The payload as float32 values read in place (no copy, no decode) when its dtype is float32
// and its bytes are float-aligned on a little-endian host; nullopt otherwise (decode it with
// payload_to_floats). The view lives as long as the message's payload.
std::optional<std::span<const float>> float32_view(const Message& message);

}  // namespace rumor
