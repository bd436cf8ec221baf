// message.cc — header encoding (MessagePack map) and the validating decoder.
#include "net/message.h"

#include <algorithm>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <exception>

#include <xxhash.h>

#include <msgpack.hpp>

#include "net/checksum.h"

#include "core/error.h"

namespace rumor {

namespace {

// Header keys. Short ASCII strings: readable in a hex dump, ~100 bytes per header in total.
constexpr std::string_view kKeyVersion = "v";
constexpr std::string_view kKeyType = "t";
constexpr std::string_view kKeyRun = "run";
constexpr std::string_view kKeySender = "from";
constexpr std::string_view kKeyIncarnation = "inc";
constexpr std::string_view kKeySequence = "seq";
constexpr std::string_view kKeyStep = "step";
constexpr std::string_view kKeyFingerprint = "fp";
constexpr std::string_view kKeyDtype = "dt";
constexpr std::string_view kKeyCount = "n";
constexpr std::string_view kKeyChecksum = "sum";
constexpr std::string_view kKeyWeight = "w";
constexpr std::string_view kKeyLoad = "load";
constexpr std::string_view kKeyReplyTo = "re";

// Payload bytes hashed and checked per pass: small enough to stay in L2 between the checksum
// and the finiteness check, a multiple of every dtype size.
constexpr std::size_t kValidateChunkBytes = 64 * 1024;

struct ByteSink {
  std::vector<std::byte>* out;
  void write(const char* data, std::size_t size) {
    const auto* bytes = reinterpret_cast<const std::byte*>(data);
    out->insert(out->end(), bytes, bytes + size);
  }
};

template <class Packer>
void pack_key(Packer& packer, std::string_view key) {
  packer.pack_str(static_cast<std::uint32_t>(key.size()));
  packer.pack_str_body(key.data(), static_cast<std::uint32_t>(key.size()));
}

// The fields of a parsed header map, as MessagePack objects (null when absent).
struct Fields {
  const msgpack::object* version = nullptr;
  const msgpack::object* type = nullptr;
  const msgpack::object* run = nullptr;
  const msgpack::object* sender = nullptr;
  const msgpack::object* incarnation = nullptr;
  const msgpack::object* sequence = nullptr;
  const msgpack::object* step = nullptr;
  const msgpack::object* fingerprint = nullptr;
  const msgpack::object* dtype = nullptr;
  const msgpack::object* count = nullptr;
  const msgpack::object* checksum = nullptr;
  const msgpack::object* weight = nullptr;
  const msgpack::object* load = nullptr;
  const msgpack::object* reply_to = nullptr;

  // Records `value` under `key`; false on a duplicate key. Unknown keys are ignored so that a
  // later minor revision may add optional fields.
  bool assign(std::string_view key, const msgpack::object* value) {
    const msgpack::object** slot = nullptr;
    if (key == kKeyVersion) slot = &version;
    else if (key == kKeyType) slot = &type;
    else if (key == kKeyRun) slot = &run;
    else if (key == kKeySender) slot = &sender;
    else if (key == kKeyIncarnation) slot = &incarnation;
    else if (key == kKeySequence) slot = &sequence;
    else if (key == kKeyStep) slot = &step;
    else if (key == kKeyFingerprint) slot = &fingerprint;
    else if (key == kKeyDtype) slot = &dtype;
    else if (key == kKeyCount) slot = &count;
    else if (key == kKeyChecksum) slot = &checksum;
    else if (key == kKeyWeight) slot = &weight;
    else if (key == kKeyLoad) slot = &load;
    else if (key == kKeyReplyTo) slot = &reply_to;
    if (slot == nullptr) return true;
    if (*slot != nullptr) return false;
    *slot = value;
    return true;
  }
};

bool read_uint(const msgpack::object& obj, std::uint64_t& out) {
  if (obj.type != msgpack::type::POSITIVE_INTEGER) return false;
  out = obj.via.u64;
  return true;
}

// msgpack-c packs a double with an integral value as an integer (1.0 → 0x01), so integers
// are valid spellings of float fields.
bool read_double(const msgpack::object& obj, double& out) {
  switch (obj.type) {
    case msgpack::type::FLOAT64:
    case msgpack::type::FLOAT32: out = obj.via.f64; return true;
    case msgpack::type::POSITIVE_INTEGER: out = static_cast<double>(obj.via.u64); return true;
    case msgpack::type::NEGATIVE_INTEGER: out = static_cast<double>(obj.via.i64); return true;
    default: return false;
  }
}

DecodeResult reject(DropReason reason, std::optional<std::uint32_t> sender = std::nullopt) {
  DecodeResult result;
  result.reason = reason;
  result.sender = sender;
  return result;
}

struct PayloadCheck {
  std::optional<DropReason> problem;  // nullopt: checksum and finiteness hold
  std::optional<double> sum_squares;  // float32 payloads
};

PayloadCheck check_payload(FrameView bytes, WireDType dtype, std::uint64_t expected) {
  const PayloadDigest digest = digest_payload(bytes, dtype);
  PayloadCheck check;
  if (digest.checksum != expected) {
    check.problem = DropReason::kBadChecksum;
  } else if (!digest.finite) {
    check.problem = DropReason::kNonFinite;
  } else {
    check.sum_squares = digest.sum_squares;
  }
  return check;
}

}  // namespace

PayloadDigest digest_payload(std::span<const std::byte> bytes, WireDType dtype) {
  Xxh3Stream hash;
  PayloadDigest digest;
  double sum_squares = 0.0;
  for (std::size_t offset = 0; offset < bytes.size(); offset += kValidateChunkBytes) {
    const FrameView chunk = bytes.subspan(offset, std::min(kValidateChunkBytes, bytes.size() - offset));
    hash.update(chunk);
    if (dtype == WireDType::kFloat32) {
      const Float32Sums sums = float32_sum_squares(chunk);
      sum_squares += sums.sum_squares;
      digest.finite = digest.finite && sums.finite;
    } else if (digest.finite) {
      digest.finite = all_finite(chunk, dtype);
    }
  }
  digest.checksum = hash.digest();
  if (dtype == WireDType::kFloat32) digest.sum_squares = sum_squares;
  return digest;
}

std::string_view drop_reason_name(DropReason reason) {
  switch (reason) {
    case DropReason::kMissingFrame: return "missing_frame";
    case DropReason::kExtraFrame: return "extra_frame";
    case DropReason::kMalformedHeader: return "malformed_header";
    case DropReason::kBadVersion: return "bad_version";
    case DropReason::kMissingField: return "missing_field";
    case DropReason::kUnknownType: return "unknown_type";
    case DropReason::kUnknownSender: return "unknown_sender";
    case DropReason::kForeignRun: return "foreign_run";
    case DropReason::kForeignModel: return "foreign_model";
    case DropReason::kBadDtype: return "bad_dtype";
    case DropReason::kTooLarge: return "too_large";
    case DropReason::kSizeMismatch: return "size_mismatch";
    case DropReason::kBadChecksum: return "bad_checksum";
    case DropReason::kNonFinite: return "non_finite";
    case DropReason::kStale: return "stale";
    case DropReason::kIdentityMismatch: return "identity_mismatch";
    case DropReason::kInboxFull: return "inbox_full";
    case DropReason::kSuperseded: return "superseded";
    case DropReason::kQueueFull: return "queue_full";
    case DropReason::kExpired: return "expired";
    case DropReason::kCount: break;
  }
  return "unknown";
}

std::string_view message_type_name(MessageType type) {
  switch (type) {
    case MessageType::kHello: return "HELLO";
    case MessageType::kHeartbeat: return "HEARTBEAT";
    case MessageType::kParams: return "PARAMS";
    case MessageType::kExchangeReq: return "EXCHANGE_REQ";
    case MessageType::kExchangeRep: return "EXCHANGE_REP";
    case MessageType::kStateReq: return "STATE_REQ";
    case MessageType::kStateRep: return "STATE_REP";
    case MessageType::kBye: return "BYE";
  }
  return "UNKNOWN";
}

std::optional<MessageType> message_type_from_code(std::uint64_t code) {
  if (code < 1 || code > static_cast<std::uint64_t>(kNumMessageTypes)) return std::nullopt;
  return static_cast<MessageType>(code);
}

bool carries_payload(MessageType type) {
  return type == MessageType::kParams || type == MessageType::kExchangeReq ||
         type == MessageType::kExchangeRep || type == MessageType::kStateRep;
}

std::uint64_t payload_checksum(std::span<const std::byte> bytes) { return xxh3_64(bytes); }

std::uint64_t model_fingerprint(std::string_view architecture, std::uint64_t parameter_count) {
  return XXH3_64bits_withSeed(architecture.data(), architecture.size(), parameter_count);
}

std::vector<std::byte> encode_header(const MessageHeader& h) {
  std::vector<std::byte> out;
  out.reserve(160);
  ByteSink sink{&out};
  msgpack::packer<ByteSink> packer(sink);
  const std::uint32_t entries = 11 + (h.weight ? 1 : 0) + (h.load ? 1 : 0) + (h.reply_to ? 1 : 0);
  packer.pack_map(entries);
  const auto put_uint = [&](std::string_view key, std::uint64_t value) {
    pack_key(packer, key);
    packer.pack_uint64(value);  // msgpack-c writes the shortest integer encoding
  };
  // Always float64 (0xcb + 8 bytes big-endian). msgpack-c's pack_double() would write an
  // integral value as an integer, and its range check is undefined behaviour near 2^64.
  const auto put_double = [&](std::string_view key, double value) {
    pack_key(packer, key);
    const auto bits = std::bit_cast<std::uint64_t>(value);
    char bytes[9] = {static_cast<char>(0xcb)};
    for (int i = 0; i < 8; ++i) bytes[1 + i] = static_cast<char>((bits >> (56 - 8 * i)) & 0xff);
    sink.write(bytes, sizeof bytes);
  };
  put_uint(kKeyVersion, h.version);
  put_uint(kKeyType, static_cast<std::uint8_t>(h.type));
  put_uint(kKeyRun, h.run_id);
  put_uint(kKeySender, h.sender);
  put_uint(kKeyIncarnation, h.incarnation);
  put_uint(kKeySequence, h.sequence);
  put_uint(kKeyStep, h.step);
  put_uint(kKeyFingerprint, h.fingerprint);
  put_uint(kKeyDtype, static_cast<std::uint8_t>(h.dtype));
  put_uint(kKeyCount, h.count);
  put_uint(kKeyChecksum, h.checksum);
  if (h.weight) put_double(kKeyWeight, *h.weight);
  if (h.load) put_double(kKeyLoad, *h.load);
  if (h.reply_to) put_uint(kKeyReplyTo, *h.reply_to);
  return out;
}

DecodeResult decode_message(std::span<const FrameView> frames,
                            std::shared_ptr<const void> payload_owner,
                            const Expectations& expect) {
  if (frames.size() < 2) return reject(DropReason::kMissingFrame);
  if (frames.size() > 2) return reject(DropReason::kExtraFrame);
  const FrameView header_bytes = frames[0];
  const FrameView payload_bytes = frames[1];
  if (header_bytes.empty() || header_bytes.size() > kMaxHeaderBytes) {
    return reject(DropReason::kMalformedHeader);
  }

  // Parse with tight limits: a header is one flat map of scalars.
  msgpack::object_handle handle;
  try {
    std::size_t offset = 0;
    const msgpack::unpack_limit limits(/*array=*/0, /*map=*/32, /*str=*/64, /*bin=*/0,
                                       /*ext=*/0, /*depth=*/2);
    handle = msgpack::unpack(reinterpret_cast<const char*>(header_bytes.data()),
                             header_bytes.size(), offset, nullptr, nullptr, limits);
    if (offset != header_bytes.size()) return reject(DropReason::kMalformedHeader);
  } catch (const std::exception&) {
    return reject(DropReason::kMalformedHeader);
  }
  const msgpack::object& root = handle.get();
  if (root.type != msgpack::type::MAP) return reject(DropReason::kMalformedHeader);
  Fields f;
  for (std::uint32_t i = 0; i < root.via.map.size; ++i) {
    const msgpack::object_kv& kv = root.via.map.ptr[i];
    if (kv.key.type != msgpack::type::STR) return reject(DropReason::kMalformedHeader);
    if (!f.assign(std::string_view(kv.key.via.str.ptr, kv.key.via.str.size), &kv.val)) {
      return reject(DropReason::kMalformedHeader);
    }
  }

  // The version decides how to read everything else, so it is checked first.
  std::uint64_t version = 0;
  if (f.version == nullptr) return reject(DropReason::kMissingField);
  if (!read_uint(*f.version, version)) return reject(DropReason::kMalformedHeader);
  if (version != kProtocolVersion) return reject(DropReason::kBadVersion);

  const msgpack::object* required[] = {f.type,     f.run,         f.sender, f.incarnation,
                                       f.sequence, f.step,        f.fingerprint, f.dtype,
                                       f.count,    f.checksum};
  for (const msgpack::object* field : required) {
    if (field == nullptr) return reject(DropReason::kMissingField);
  }
  std::uint64_t type_code = 0, sender = 0, dtype_code = 0;
  Message msg;
  MessageHeader& h = msg.header;
  if (!read_uint(*f.type, type_code) || !read_uint(*f.run, h.run_id) ||
      !read_uint(*f.sender, sender) || !read_uint(*f.incarnation, h.incarnation) ||
      !read_uint(*f.sequence, h.sequence) || !read_uint(*f.step, h.step) ||
      !read_uint(*f.fingerprint, h.fingerprint) || !read_uint(*f.dtype, dtype_code) ||
      !read_uint(*f.count, h.count) || !read_uint(*f.checksum, h.checksum)) {
    return reject(DropReason::kMalformedHeader);
  }
  if (f.weight != nullptr) {
    double w = 0;
    if (!read_double(*f.weight, w)) return reject(DropReason::kMalformedHeader);
    h.weight = w;
  }
  if (f.load != nullptr) {
    double load = 0;
    if (!read_double(*f.load, load)) return reject(DropReason::kMalformedHeader);
    h.load = load;
  }
  if (f.reply_to != nullptr) {
    std::uint64_t re = 0;
    if (!read_uint(*f.reply_to, re)) return reject(DropReason::kMalformedHeader);
    h.reply_to = re;
  }
  h.version = static_cast<std::uint32_t>(version);

  const std::optional<MessageType> type = message_type_from_code(type_code);
  if (!type) return reject(DropReason::kUnknownType);
  h.type = *type;

  if (sender >= expect.num_peers || (expect.self_rank && sender == *expect.self_rank)) {
    return reject(DropReason::kUnknownSender);
  }
  h.sender = static_cast<std::uint32_t>(sender);
  const std::optional<std::uint32_t> who = h.sender;

  if (h.run_id != expect.run_id) return reject(DropReason::kForeignRun, who);
  if (h.fingerprint != expect.fingerprint) return reject(DropReason::kForeignModel, who);

  const std::optional<WireDType> dtype = wire_dtype_from_code(dtype_code);
  if (!dtype) return reject(DropReason::kBadDtype, who);
  h.dtype = *dtype;

  if (h.count > expect.max_elements) return reject(DropReason::kTooLarge, who);
  const std::size_t element_size = wire_dtype_size(h.dtype);
  if (payload_bytes.size() % element_size != 0 || payload_bytes.size() / element_size != h.count) {
    return reject(DropReason::kSizeMismatch, who);
  }
  if (!carries_payload(h.type) && h.count != 0) return reject(DropReason::kSizeMismatch, who);
  const bool full_params = h.type == MessageType::kParams || h.type == MessageType::kExchangeReq ||
                           h.type == MessageType::kExchangeRep;
  if (full_params && expect.param_elements != 0 && h.count != expect.param_elements) {
    return reject(DropReason::kSizeMismatch, who);
  }

  const PayloadCheck check = check_payload(payload_bytes, h.dtype, h.checksum);
  if (check.problem) return reject(*check.problem, who);
  if ((h.weight && !std::isfinite(*h.weight)) || (h.load && !std::isfinite(*h.load))) {
    return reject(DropReason::kNonFinite, who);
  }

  msg.payload = Payload(std::move(payload_owner), payload_bytes);
  msg.sum_squares = check.sum_squares;
  DecodeResult result;
  result.message = std::move(msg);
  result.sender = who;
  return result;
}

MessageFactory::MessageFactory(Identity identity) : identity_(identity) {}

Message MessageFactory::make(MessageType type, std::uint64_t step, Payload payload,
                             WireDType dtype) {
  const std::uint64_t checksum = payload_checksum(payload.bytes());
  return stamp(type, step, std::move(payload), dtype, checksum);
}

Message MessageFactory::make_like(const Message& original, std::uint64_t step) {
  return stamp(original.header.type, step, original.payload, original.header.dtype,
               original.header.checksum);
}

Message MessageFactory::stamp(MessageType type, std::uint64_t step, Payload payload,
                              WireDType dtype, std::uint64_t checksum) {
  const std::size_t element_size = wire_dtype_size(dtype);
  RUMOR_CHECK(payload.size() % element_size == 0, "payload of ", payload.size(),
              " bytes is not a whole number of ", wire_dtype_name(dtype), " elements");
  Message msg;
  MessageHeader& h = msg.header;
  h.version = kProtocolVersion;
  h.type = type;
  h.run_id = identity_.run_id;
  h.sender = identity_.rank;
  h.incarnation = identity_.incarnation;
  h.sequence = next_sequence_.fetch_add(1, std::memory_order_relaxed);
  h.step = step;
  h.fingerprint = identity_.fingerprint;
  h.dtype = dtype;
  h.count = payload.size() / element_size;
  h.checksum = checksum;
  msg.payload = std::move(payload);
  return msg;
}

Message MessageFactory::make_floats(MessageType type, std::uint64_t step,
                                    std::span<const float> values, WireDType dtype,
                                    BufferPool& pool) {
  std::uint64_t checksum = 0;
  Payload payload = encode_payload(values, dtype, pool, checksum);
  return stamp(type, step, std::move(payload), dtype, checksum);
}

Payload encode_payload(std::span<const float> values, WireDType dtype, BufferPool& pool,
                       std::uint64_t& checksum) {
  const std::size_t element_size = wire_dtype_size(dtype);
  std::shared_ptr<Buffer> buffer = pool.acquire(values.size() * element_size);
  // Convert and hash chunk by chunk, so the hash reads what was just written from cache
  // instead of a second pass over memory.
  constexpr std::size_t kChunkElements = kValidateChunkBytes / 4;
  Xxh3Stream hash;
  for (std::size_t at = 0; at < values.size(); at += kChunkElements) {
    const std::size_t n = std::min(kChunkElements, values.size() - at);
    const std::span<std::byte> out = buffer->bytes().subspan(at * element_size, n * element_size);
    encode_floats(values.subspan(at, n), dtype, out);
    hash.update(out);
  }
  checksum = hash.digest();
  return Payload(std::shared_ptr<const Buffer>(std::move(buffer)));
}

std::uint64_t default_incarnation() {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(now).count());
}

void payload_to_floats(const Message& message, std::span<float> out) {
  RUMOR_CHECK(out.size() == message.header.count, "payload has ", message.header.count,
              " elements, output span ", out.size());
  decode_floats(message.payload.bytes(), message.header.dtype, out);
}

std::optional<std::span<const float>> float32_view(const Message& message) {
  if constexpr (std::endian::native != std::endian::little) return std::nullopt;
  if (message.header.dtype != WireDType::kFloat32) return std::nullopt;
  const std::span<const std::byte> bytes = message.payload.bytes();
  if (reinterpret_cast<std::uintptr_t>(bytes.data()) % alignof(float) != 0) return std::nullopt;
  if (bytes.size() != message.header.count * sizeof(float)) return std::nullopt;
  return std::span<const float>(reinterpret_cast<const float*>(bytes.data()),
                                bytes.size() / sizeof(float));
}

}  // namespace rumor
