#include "gossip/mixing_rule.h"

#include <cstring>

#include "core/error.h"
#include "gossip/rules.h"

namespace rumor {

std::vector<float> payload_floats(const Message& message) {
  std::vector<float> values(message.header.count);
  payload_to_floats(message, values);
  return values;
}

Message MessageMaker::make_floats(MessageType type, std::uint64_t step,
                                  std::span<const float> values) {
  if (!deferred) return factory.make_floats(type, step, values, dtype, pool);
  Payload payload;
  if (snapshot && values.size_bytes() == snapshot->size() &&
      values.data() == reinterpret_cast<const float*>(snapshot->data())) {
    payload = Payload(snapshot);
  } else {
    std::shared_ptr<Buffer> copy = pool.acquire(values.size_bytes());
    std::memcpy(copy->data(), values.data(), values.size_bytes());
    payload = Payload(std::shared_ptr<const Buffer>(std::move(copy)));
  }
  Message message = factory.make(type, step);  // stamped; payload and checksum come later
  message.header.dtype = dtype;
  message.header.count = values.size();
  message.payload = std::move(payload);
  return message;
}

Message MessageMaker::make_like(const Message& original, std::uint64_t step) {
  if (!deferred) return factory.make_like(original, step);
  Message message = factory.make(original.header.type, step);
  message.header.dtype = original.header.dtype;
  message.header.count = original.header.count;
  message.payload = original.payload;
  return message;
}

Message MessageMaker::make(MessageType type, std::uint64_t step, Payload payload,
                           WireDType payload_dtype) {
  if (!deferred) return factory.make(type, step, std::move(payload), payload_dtype);
  Message message = factory.make(type, step);
  message.header.dtype = payload_dtype;
  message.header.count = payload.size() / wire_dtype_size(payload_dtype);
  message.payload = std::move(payload);
  return message;
}

void DeferredFinisher::finish(Message& message, BufferPool& pool) {
  const MessageHeader& header = message.header;
  if (source_.data() == nullptr || message.payload.data() != source_.data()) {
    source_ = message.payload;
    sum_squares_.reset();
    if (message.payload.size() == header.count * wire_dtype_size(header.dtype)) {
      payload_ = message.payload;  // already in wire form (float32, float64)
      if (header.dtype == WireDType::kFloat32) {  // the norm comes with the checksum
        const PayloadDigest digest = digest_payload(payload_.bytes(), header.dtype);
        checksum_ = digest.checksum;
        sum_squares_ = digest.sum_squares;
      } else {
        checksum_ = payload_checksum(payload_.bytes());
      }
    } else {  // float32 values for a narrower wire dtype
      const std::span<const float> values(
          reinterpret_cast<const float*>(message.payload.data()), header.count);
      payload_ = encode_payload(values, header.dtype, pool, checksum_);
    }
  }
  message.payload = payload_;
  message.header.checksum = checksum_;
  message.sum_squares = sum_squares_;
}

std::unique_ptr<MixingRule> make_mixing_rule(std::string_view name, std::size_t n,
                                             double alpha) {
  if (name == "average") {
    if (!(alpha > 0.0 && alpha <= 1.0)) {
      throw ConfigError("alpha: the average rule's neighbour weight must be in (0, 1], got " +
                        std::to_string(alpha));
    }
    return std::make_unique<AverageRule>(n, alpha);
  }
  if (name == "push-sum") return std::make_unique<PushSumRule>(n, /*robust=*/false);
  if (name == "robust-push-sum") return std::make_unique<PushSumRule>(n, /*robust=*/true);
  if (name == "pairwise") return std::make_unique<PairwiseRule>(n);
  throw ConfigError("rule '" + std::string(name) + "' is not valid; valid: " + kMixingRules);
}

}  // namespace rumor
