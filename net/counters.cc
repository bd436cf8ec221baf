// counters.cc — CounterTable and DropLogger.
#include "net/counters.h"

#include "core/log.h"

namespace rumor {

std::uint64_t PeerCounters::dropped_total() const {
  std::uint64_t sum = 0;
  for (std::uint64_t d : drops) sum += d;
  return sum;
}

std::uint64_t PeerCounters::rejected_total() const {
  std::uint64_t sum = 0;
  for (int i = 0; i < kNumDropReasons; ++i) {
    if (is_rejection(static_cast<DropReason>(i))) sum += drops[i];
  }
  return sum;
}

PeerCounters& PeerCounters::operator+=(const PeerCounters& other) {
  bytes_in += other.bytes_in;
  messages_in += other.messages_in;
  bytes_out += other.bytes_out;
  messages_out += other.messages_out;
  for (int i = 0; i < kNumDropReasons; ++i) drops[i] += other.drops[i];
  return *this;
}

PeerCounters NetCounters::total() const {
  PeerCounters sum = unattributed;
  for (const PeerCounters& p : peers) sum += p;
  return sum;
}

CounterTable::CounterTable(std::uint32_t num_peers)
    : num_peers_(num_peers), slots_(std::make_unique<Slot[]>(num_peers + 1)) {}

CounterTable::Slot& CounterTable::slot(std::optional<std::uint32_t> peer) {
  return slots_[peer && *peer < num_peers_ ? *peer : num_peers_];
}

void CounterTable::add_in(std::optional<std::uint32_t> peer, std::uint64_t bytes) {
  Slot& s = slot(peer);
  s.bytes_in.fetch_add(bytes, std::memory_order_relaxed);
  s.messages_in.fetch_add(1, std::memory_order_relaxed);
}

void CounterTable::add_out(std::uint32_t peer, std::uint64_t bytes) {
  Slot& s = slot(peer);
  s.bytes_out.fetch_add(bytes, std::memory_order_relaxed);
  s.messages_out.fetch_add(1, std::memory_order_relaxed);
}

void CounterTable::add_drop(std::optional<std::uint32_t> peer, DropReason reason) {
  slot(peer).drops[static_cast<int>(reason)].fetch_add(1, std::memory_order_relaxed);
}

NetCounters CounterTable::snapshot() const {
  const auto read = [](const Slot& s) {
    PeerCounters c;
    c.bytes_in = s.bytes_in.load(std::memory_order_relaxed);
    c.messages_in = s.messages_in.load(std::memory_order_relaxed);
    c.bytes_out = s.bytes_out.load(std::memory_order_relaxed);
    c.messages_out = s.messages_out.load(std::memory_order_relaxed);
    for (int i = 0; i < kNumDropReasons; ++i) c.drops[i] = s.drops[i].load(std::memory_order_relaxed);
    return c;
  };
  NetCounters out;
  out.peers.reserve(num_peers_);
  for (std::uint32_t p = 0; p < num_peers_; ++p) out.peers.push_back(read(slots_[p]));
  out.unattributed = read(slots_[num_peers_]);
  return out;
}

DropLogger::DropLogger(std::chrono::steady_clock::duration interval) : interval_(interval) {}

void DropLogger::note(DropReason reason, std::optional<std::uint32_t> peer,
                      std::chrono::steady_clock::time_point now) {
  const int r = static_cast<int>(reason);
  if (last_logged_[r] && now - *last_logged_[r] < interval_) {
    ++suppressed_[r];
    return;
  }
  const std::string from = peer ? "peer " + std::to_string(*peer) : std::string("unknown peer");
  log(LogLevel::kWarn, "net: dropped a message from ", from, ": ", drop_reason_name(reason),
      suppressed_[r] != 0 ? " (" + std::to_string(suppressed_[r]) + " more since last report)"
                          : std::string());
  last_logged_[r] = now;
  suppressed_[r] = 0;
}

}  // namespace rumor
