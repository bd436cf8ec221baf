// faulty_transport.cc — fault decisions on send, the timer thread for delayed and held-back
// messages, and partition filtering on receive.
#include "net/faulty_transport.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "core/error.h"

namespace rumor {

namespace {

void check_probability(double p, const char* name) {
  if (!(p >= 0.0 && p <= 1.0)) {
    throw ConfigError(detail::concat("faults: ", name, " = ", p, " (valid: a probability in [0, 1])"));
  }
}

void check_duration(std::chrono::milliseconds d, const char* name) {
  if (d.count() < 0) {
    throw ConfigError(detail::concat("faults: ", name, " = ", d.count(), " ms (valid: >= 0)"));
  }
}

bool carries_parameters(MessageType type) {
  return type == MessageType::kParams || type == MessageType::kExchangeReq ||
         type == MessageType::kExchangeRep || type == MessageType::kStateRep;
}

}  // namespace

std::string byzantine_name(Byzantine mode, double scale) {
  switch (mode) {
    case Byzantine::kNone: return "none";
    case Byzantine::kNaN: return "nan";
    case Byzantine::kGarbage: return "garbage";
    case Byzantine::kScale: return detail::concat("scale:", scale);
  }
  return "none";
}

std::pair<Byzantine, double> parse_byzantine(const std::string& spec) {
  if (spec == "none" || spec.empty()) return {Byzantine::kNone, -1.0};
  if (spec == "nan") return {Byzantine::kNaN, -1.0};
  if (spec == "garbage") return {Byzantine::kGarbage, -1.0};
  if (spec.starts_with("scale:")) {
    char* end = nullptr;
    const double factor = std::strtod(spec.c_str() + 6, &end);
    if (end != spec.c_str() + 6 && *end == '\0' && std::isfinite(factor)) {
      return {Byzantine::kScale, factor};
    }
  }
  throw ConfigError("faults: byzantine = '" + spec +
                    "' (valid: none, nan, garbage, scale:F with a finite factor F)");
}

void FaultConfig::validate() const {
  check_probability(drop, "drop");
  check_probability(duplicate, "duplicate");
  check_probability(reorder, "reorder");
  check_probability(corrupt, "corrupt");
  check_duration(delay, "delay");
  check_duration(jitter, "jitter");
  check_duration(reorder_hold, "reorder_hold");
  if (byzantine == Byzantine::kScale && !std::isfinite(byzantine_scale)) {
    throw ConfigError("faults: byzantine scale must be finite");
  }
}

FaultyTransport::FaultyTransport(std::unique_ptr<Transport> decorated, FaultConfig config,
                                 std::uint64_t seed)
    : ForwardingTransport(std::move(decorated)), config_(std::move(config)), rng_(seed) {
  config_.validate();
  in_line_.assign(inner().num_peers(), 0);
  held_.resize(inner().num_peers());
  timer_ = std::jthread([this](std::stop_token stop) { timer_main(stop); });
}

FaultyTransport::~FaultyTransport() {
  timer_.request_stop();
  wake_.notify_all();
  timer_.join();
}

void FaultyTransport::set_config(FaultConfig config) {
  config.validate();
  {
    std::lock_guard lock(mutex_);
    config_ = std::move(config);
    ++changes_;
  }
  wake_.notify_all();
}

FaultConfig FaultyTransport::config() const {
  std::lock_guard lock(mutex_);
  return config_;
}

FaultStats FaultyTransport::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

Message FaultyTransport::byzantine_copy(const Message& message, std::uint64_t draw) {
  const WireDType dtype = message.header.dtype;
  std::vector<float> values(message.header.count);
  decode_floats(message.payload.bytes(), dtype, values);
  Rng rng(draw);
  for (float& v : values) {
    switch (config_.byzantine) {
      case Byzantine::kNaN: v = std::numeric_limits<float>::quiet_NaN(); break;
      case Byzantine::kGarbage: v = static_cast<float>(100.0 * rng.normal()); break;
      case Byzantine::kScale: v = static_cast<float>(v * config_.byzantine_scale); break;
      case Byzantine::kNone: break;
    }
  }
  std::shared_ptr<Buffer> buffer = pool_.acquire(message.payload.size());
  encode_floats(values, dtype, buffer->bytes());
  Message copy = message;
  copy.payload = Payload(std::shared_ptr<const Buffer>(std::move(buffer)));
  copy.sum_squares.reset();
  copy.header.checksum = payload_checksum(copy.payload.bytes());
  return copy;
}

Message FaultyTransport::corrupted_copy(const Message& message, std::uint64_t bit_draw) {
  Message copy = message;
  if (message.payload.empty()) {
    copy.header.checksum ^= std::uint64_t{1} << (bit_draw % 64);
    return copy;
  }
  std::shared_ptr<Buffer> buffer = pool_.acquire(message.payload.size());
  std::memcpy(buffer->data(), message.payload.data(), message.payload.size());
  const std::uint64_t bit = bit_draw % (message.payload.size() * 8);
  buffer->data()[bit / 8] ^= static_cast<std::byte>(1u << (bit % 8));
  copy.payload = Payload(std::shared_ptr<const Buffer>(std::move(buffer)));
  copy.sum_squares.reset();
  return copy;
}

SendResult FaultyTransport::send(std::uint32_t peer, Message message,
                                 std::chrono::milliseconds wait) {
  if (peer >= held_.size()) return inner().send(peer, std::move(message), wait);
  std::unique_lock lock(mutex_);
  // A fixed pattern of draws per call, whatever the config: the same seed and sends replay
  // the same faults, and changing one probability does not shift the others' decisions.
  const double u_drop = rng_.uniform();
  const double u_corrupt = rng_.uniform();
  const double u_duplicate = rng_.uniform();
  const double u_reorder = rng_.uniform();
  const std::uint64_t jitter_draw = rng_.next_u64();
  const std::uint64_t bit_draw = rng_.next_u64();
  const FaultConfig& c = config_;

  if (c.partitioned.contains(peer)) {
    ++stats_.partitioned_out;
    return SendResult::kQueued;
  }
  if (u_drop < c.drop) {
    ++stats_.dropped;
    return SendResult::kQueued;
  }
  if (c.byzantine != Byzantine::kNone && carries_parameters(message.header.type) &&
      !message.payload.empty()) {
    message = byzantine_copy(message, bit_draw);
    ++stats_.byzantine;
  }
  if (u_corrupt < c.corrupt) {
    message = corrupted_copy(message, bit_draw);
    ++stats_.corrupted;
  }
  std::vector<Message> copies;
  if (u_duplicate < c.duplicate) {
    copies.push_back(message);
    ++stats_.duplicated;
  }
  copies.push_back(std::move(message));

  const Time now = std::chrono::steady_clock::now();
  const auto jitter_us = std::chrono::duration_cast<std::chrono::microseconds>(c.jitter).count();
  const auto delay = std::chrono::duration_cast<Time::duration>(c.delay) +
                     std::chrono::microseconds(
                         jitter_us > 0 ? jitter_draw % static_cast<std::uint64_t>(jitter_us + 1) : 0);
  if (u_reorder < c.reorder && !held_[peer]) {
    ++stats_.reordered;
    held_[peer] = Held{std::move(copies.back()), now + delay + c.reorder_hold};
    copies.pop_back();
    ++changes_;
    wake_.notify_all();
    if (copies.empty()) return SendResult::kQueued;
  }
  if (delay.count() == 0 && in_line_[peer] == 0) {
    lock.unlock();
    SendResult first = SendResult::kQueued;
    for (std::size_t i = 0; i < copies.size(); ++i) {
      const SendResult r = send_now(peer, std::move(copies[i]), wait);
      if (i == 0) first = r;
    }
    return first;
  }
  for (Message& copy : copies) {
    line_.emplace(std::make_pair(now + delay, line_order_++), Delayed{peer, std::move(copy)});
    ++in_line_[peer];
    ++stats_.delayed;
  }
  ++changes_;
  wake_.notify_all();
  return SendResult::kQueued;
}

SendResult FaultyTransport::send_now(std::uint32_t peer, Message message,
                                     std::chrono::milliseconds wait) {
  const SendResult result = inner().send(peer, std::move(message), wait);
  std::optional<Held> held;
  {
    std::lock_guard lock(mutex_);
    held.swap(held_[peer]);
  }
  if (held && inner().try_send(peer, std::move(held->message)) != SendResult::kQueued) {
    std::lock_guard lock(mutex_);
    ++stats_.send_failed;
  }
  return result;
}

void FaultyTransport::timer_main(std::stop_token stop) {
  std::unique_lock lock(mutex_);
  while (!stop.stop_requested()) {
    Time next = Time::max();
    if (!line_.empty()) next = line_.begin()->first.first;
    for (const auto& held : held_) {
      if (held && held->release_at < next) next = held->release_at;
    }
    // Wait for new work, a new config, stop, or the earliest due time.
    const std::uint64_t seen = changes_;
    const auto changed = [&] { return changes_ != seen; };
    if (next == Time::max()) {
      wake_.wait(lock, stop, changed);
    } else {
      wake_.wait_until(lock, stop, next, changed);
    }
    if (stop.stop_requested()) break;

    const Time now = std::chrono::steady_clock::now();
    std::vector<Delayed> due;
    while (!line_.empty() && line_.begin()->first.first <= now) {
      due.push_back(std::move(line_.begin()->second));
      line_.erase(line_.begin());
      --in_line_[due.back().peer];
    }
    std::vector<Delayed> expired_holds;
    for (std::uint32_t peer = 0; peer < held_.size(); ++peer) {
      if (held_[peer] && held_[peer]->release_at <= now) {
        expired_holds.push_back(Delayed{peer, std::move(held_[peer]->message)});
        held_[peer].reset();
      }
    }
    if (due.empty() && expired_holds.empty()) continue;
    lock.unlock();
    std::uint64_t failed = 0;
    for (Delayed& d : due) {
      if (send_now(d.peer, std::move(d.message), std::chrono::milliseconds(0)) !=
          SendResult::kQueued) {
        ++failed;
      }
    }
    for (Delayed& d : expired_holds) {
      if (inner().try_send(d.peer, std::move(d.message)) != SendResult::kQueued) ++failed;
    }
    lock.lock();
    stats_.send_failed += failed;
  }
}

std::optional<Message> FaultyTransport::receive(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    std::optional<Message> message = inner().receive(std::max(left, std::chrono::milliseconds(0)));
    if (!message) return std::nullopt;
    std::lock_guard lock(mutex_);
    if (!config_.partitioned.contains(message->header.sender)) return message;
    ++stats_.partitioned_in;
  }
}

}  // namespace rumor
