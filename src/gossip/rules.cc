// rules.cc — the mixing rules' arithmetic. Host-side accumulation is in double; the result is
// applied to the parameters on the backend with one axpby per mix().
#include "gossip/rules.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/error.h"
#include "kernels/cpu/host_reductions.h"

namespace rumor {
namespace {

// One message of `type` with the same payload for every neighbour (one conversion and one
// checksum in all).
std::vector<Outgoing> broadcast(MessageType type, std::span<const float> values,
                                const std::vector<int>& neighbours, std::uint64_t step,
                                MessageMaker& maker, std::optional<double> weight) {
  std::vector<Outgoing> out;
  for (int peer : neighbours) {
    Message message = out.empty()
                          ? maker.make_floats(type, step, values)
                          : maker.make_like(out.front().message, step);
    message.header.weight = weight;
    out.push_back({static_cast<std::uint32_t>(peer), std::move(message)});
  }
  return out;
}

void to_floats(const std::vector<double>& values, double scale, std::vector<float>& out) {
  out.resize(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) out[i] = static_cast<float>(values[i] * scale);
}

}  // namespace

// --- average ---

std::vector<Outgoing> AverageRule::outgoing(std::span<const float> params,
                                            const std::vector<int>& neighbours,
                                            std::uint64_t step, MessageMaker& maker) {
  return broadcast(MessageType::kParams, params, neighbours, step, maker, std::nullopt);
}

std::vector<Outgoing> AverageRule::receive(const Incoming& incoming, std::uint64_t,
                                           MessageMaker&) {
  if (incoming.message.header.type != MessageType::kParams) return {};
  Received received{incoming.message, {}, float32_view(incoming.message).has_value(),
                    incoming.staleness_factor};
  if (!received.in_place) {
    {
      std::lock_guard lock(mutex_);
      if (!spare_.empty()) {
        received.decoded = std::move(spare_.back());
        spare_.pop_back();
      }
    }
    received.decoded.resize(n_);
    payload_to_floats(incoming.message, received.decoded);
    received.message.payload = {};  // decoded: the wire bytes are no longer needed
    received.message.sum_squares.reset();
  }
  std::map<std::uint32_t, Received>::node_type displaced;  // freed outside the lock
  std::lock_guard lock(mutex_);
  const auto it = latest_.find(incoming.message.header.sender);
  if (it != latest_.end()) {
    displaced = latest_.extract(it);
    std::vector<float>& old = displaced.mapped().decoded;
    if (!old.empty()) spare_.push_back(std::move(old));
  }
  latest_.emplace(incoming.message.header.sender, std::move(received));
  return {};
}

MixResult AverageRule::apply(Backend& backend, float* params) {
  std::map<std::uint32_t, Received> latest;
  {
    std::lock_guard lock(mutex_);
    latest.swap(latest_);
  }
  MixResult result;
  for (auto& [sender, received] : latest) {
    const float a = static_cast<float>(alpha_ * received.factor);
    const std::span<const float> values = received.in_place
                                              ? *float32_view(received.message)
                                              : std::span<const float>(received.decoded);
    backend.axpby(n_, a, staging_.stage(backend, values), 1.0f - a, params);
    ++result.applied;
  }
  std::lock_guard lock(mutex_);
  for (auto& [sender, received] : latest) {
    if (!received.decoded.empty()) spare_.push_back(std::move(received.decoded));
  }
  return result;
}

// --- push-sum and robust push-sum ---

std::vector<Outgoing> PushSumRule::outgoing(std::span<const float> params,
                                            const std::vector<int>& neighbours,
                                            std::uint64_t step, MessageMaker& maker) {
  std::lock_guard lock(mutex_);
  weight_ /= static_cast<double>(neighbours.size() + 1);  // keep one share, send k
  if (!robust_) {
    return broadcast(MessageType::kParams, params, neighbours, step, maker, weight_);
  }
  // Robust: each edge carries its running totals as float64: they only grow, and the receiver
  // takes differences of consecutive totals, which float32 would drown in rounding.
  std::vector<Outgoing> out;
  for (int peer : neighbours) {
    EdgeTotals& edge = sent_[static_cast<std::uint32_t>(peer)];
    if (edge.mass.empty()) edge.mass.assign(n_, 0.0);
    for (std::size_t i = 0; i < n_; ++i) edge.mass[i] += weight_ * static_cast<double>(params[i]);
    edge.weight += weight_;
    edge.fresh = true;
    edge.resends_left = kIdleResends;
    out.push_back({static_cast<std::uint32_t>(peer), totals_message(edge, step, maker)});
  }
  return out;
}

Message PushSumRule::totals_message(const EdgeTotals& edge, std::uint64_t step,
                                    MessageMaker& maker) const {
  std::shared_ptr<Buffer> buffer = maker.pool.acquire(n_ * sizeof(double));
  std::memcpy(buffer->data(), edge.mass.data(), n_ * sizeof(double));
  Message message = maker.make(MessageType::kParams, step,
                               Payload(std::shared_ptr<const Buffer>(std::move(buffer))),
                               WireDType::kFloat64);
  message.header.weight = edge.weight;
  return message;
}

std::vector<Outgoing> PushSumRule::resend(std::uint64_t step, MessageMaker& maker) {
  std::vector<Outgoing> out;
  if (!robust_) return out;
  std::lock_guard lock(mutex_);
  for (auto& [peer, edge] : sent_) {
    if (edge.fresh) {
      edge.fresh = false;  // busy edge: its next fresh message carries everything
    } else if (edge.resends_left > 0) {
      --edge.resends_left;
      out.push_back({peer, totals_message(edge, step, maker)});
    }
  }
  return out;
}

std::vector<Outgoing> PushSumRule::receive(const Incoming& incoming, std::uint64_t,
                                           MessageMaker&) {
  const MessageHeader& header = incoming.message.header;
  if (header.type != MessageType::kParams || !header.weight || !(*header.weight > 0.0)) {
    return {};
  }
  if (!robust_) {
    // A float32 payload is read in place; another dtype is decoded outside the lock, into a
    // buffer only this (I/O) thread uses, so the owner's mix() is not held up by it.
    std::optional<std::span<const float>> values = float32_view(incoming.message);
    if (!values) {
      decoded_.resize(n_);
      payload_to_floats(incoming.message, decoded_);
      values = decoded_;
    }
    const double w = *header.weight;
    std::lock_guard lock(mutex_);
    host_accumulate(n_, w, values->data(), mass_.data(), /*assign=*/mass_zero_);
    mass_zero_ = false;
    received_weight_ += w;
    ++received_count_;
  } else {
    if (header.dtype != WireDType::kFloat64) return {};  // totals are always float64
    std::lock_guard lock(mutex_);
    EdgeTotals& seen = seen_[header.sender];
    if (seen.mass.empty() || seen.incarnation != header.incarnation) {
      seen = EdgeTotals{std::vector<double>(n_, 0.0), 0.0, header.incarnation};
    }
    if (*header.weight < seen.weight) return {};  // older totals: nothing new
    // The payload may be unaligned: read each total through memcpy.
    const std::byte* totals = incoming.message.payload.bytes().data();
    if (mass_zero_) std::fill(mass_.begin(), mass_.end(), 0.0);
    mass_zero_ = false;
    for (std::size_t i = 0; i < n_; ++i) {
      double total;
      std::memcpy(&total, totals + i * sizeof(double), sizeof(double));
      mass_[i] += total - seen.mass[i];
      seen.mass[i] = total;
    }
    received_weight_ += *header.weight - seen.weight;
    seen.weight = *header.weight;
    ++received_count_;
  }
  return {};
}

MixResult PushSumRule::apply(Backend& backend, float* params) {
  std::lock_guard lock(mutex_);
  MixResult result{received_count_};
  if ((received_count_ == 0 && !returned_) || received_weight_ <= 0.0) {
    received_count_ = 0;
    returned_ = false;
    return result;
  }
  // x ← (w·x + Σ w_j·x_j) / (w + Σ w_j)
  const double total = weight_ + received_weight_;
  const float keep = static_cast<float>(weight_ / total);
  const double scale = 1.0 / total;
  if (!std::isfinite(scale)) {
    // Weights underflowed to subnormals (neighbours that took shares and never gave any
    // back): 1/total overflows, mass/total does not.
    staged_.resize(n_);
    for (std::size_t i = 0; i < n_; ++i) staged_[i] = static_cast<float>(mass_[i] / total);
    backend.axpby(n_, 1.0f, staging_.stage(backend, staged_), keep, params);
  } else if (backend.host_accessible()) {
    host_fold(n_, mass_.data(), scale, keep, params);  // one pass, nothing staged
  } else {
    to_floats(mass_, scale, staged_);
    backend.axpby(n_, 1.0f, staging_.stage(backend, staged_), keep, params);
  }
  weight_ = total;
  mass_zero_ = true;  // cleared by the next receive's assignment, not by a pass here
  received_weight_ = 0.0;
  received_count_ = 0;
  returned_ = false;
  return result;
}

void PushSumRule::unsent(std::uint32_t, const Message& message) {
  // Plain push-sum: the share (w_s, x_s) never left, so it comes back as if received from
  // ourselves and is folded in by the next apply(). Adding back only w_s would conserve
  // Σ w·x only while the parameters still equal x_s, and the owner may have mixed since
  // publish(). (Robust: the edge totals already include it and the next message on that edge
  // carries it.)
  const MessageHeader& header = message.header;
  if (robust_ || header.type != MessageType::kParams || !header.weight) return;
  std::optional<std::span<const float>> values = float32_view(message);
  std::vector<float> decoded;  // a refused send is rare: no scratch kept for it
  if (!values) {
    decoded.resize(n_);
    payload_to_floats(message, decoded);
    values = decoded;
  }
  const double w = *header.weight;
  std::lock_guard lock(mutex_);
  host_accumulate(n_, w, values->data(), mass_.data(), /*assign=*/mass_zero_);
  mass_zero_ = false;
  received_weight_ += w;
  returned_ = true;
}

double PushSumRule::weight() const {
  std::lock_guard lock(mutex_);
  return weight_;
}

// --- pairwise (AD-PSGD) ---
//
// An exchange is atomic for both ends: a peer has at most one request outstanding and defers
// requests that arrive meanwhile, so every change to its parameters is a pairwise average
// (plus its own training). Requests go only to higher-rank neighbours: a peer waits only on a
// higher rank, so waits cannot form a cycle (deadlock-free).

void PairwiseRule::move_half_way_locked(std::span<const float> theirs,
                                        std::span<const float> mine) {
  for (std::size_t i = 0; i < n_; ++i) {
    const double half = 0.5 * (static_cast<double>(theirs[i]) - static_cast<double>(mine[i]));
    delta_[i] += half;
    view_[i] = static_cast<float>(static_cast<double>(view_[i]) + half);
  }
  ++received_count_;
}

Outgoing PairwiseRule::serve_locked(const Message& request, std::uint64_t step,
                                    MessageMaker& maker) {
  const std::vector<float> mine = view_;
  Message reply =
      maker.make_floats(MessageType::kExchangeRep, step, mine);
  reply.header.reply_to = request.header.sequence;
  move_half_way_locked(payload_floats(request), mine);
  return {request.header.sender, std::move(reply)};
}

std::vector<Outgoing> PairwiseRule::outgoing(std::span<const float> params,
                                             const std::vector<int>& neighbours,
                                             std::uint64_t step, MessageMaker& maker) {
  std::vector<Outgoing> out;
  std::lock_guard lock(mutex_);
  // The view is the fresh snapshot plus what is pending for the next mix.
  for (std::size_t i = 0; i < n_; ++i) {
    view_[i] = static_cast<float>(static_cast<double>(params[i]) + delta_[i]);
  }
  published_ = true;
  const auto now = std::chrono::steady_clock::now();
  if (outstanding_ && now - outstanding_->since > kExchangeTimeout) {
    outstanding_.reset();  // abandoned; a late reply is ignored
  }
  if (!outstanding_) {
    for (const Message& request : deferred_) out.push_back(serve_locked(request, step, maker));
    deferred_.clear();
  }
  // Requests only to higher ranks (deadlock freedom); round-robin among them.
  std::vector<int> higher;
  for (int peer : neighbours) {
    if (static_cast<std::uint32_t>(peer) > maker.factory.identity().rank) higher.push_back(peer);
  }
  if (outstanding_ || higher.empty()) return out;
  const int peer = higher[round_++ % higher.size()];
  Message request =
      maker.make_floats(MessageType::kExchangeReq, step, view_);
  outstanding_ = Outstanding{request.header.sequence, static_cast<std::uint32_t>(peer), view_, now};
  out.push_back({static_cast<std::uint32_t>(peer), std::move(request)});
  return out;
}

std::vector<Outgoing> PairwiseRule::receive(const Incoming& incoming, std::uint64_t step,
                                            MessageMaker& maker) {
  const Message& message = incoming.message;
  const MessageHeader& header = message.header;
  std::lock_guard lock(mutex_);
  std::vector<Outgoing> replies;
  if (header.type == MessageType::kExchangeReq) {
    if (outstanding_ || !published_) {
      deferred_.push_back(message);
    } else {
      replies.push_back(serve_locked(message, step, maker));
    }
  } else if (header.type == MessageType::kExchangeRep && outstanding_ && header.reply_to &&
             *header.reply_to == outstanding_->sequence && header.sender == outstanding_->peer) {
    move_half_way_locked(payload_floats(message), outstanding_->sent);
    outstanding_.reset();
    for (const Message& request : deferred_) replies.push_back(serve_locked(request, step, maker));
    deferred_.clear();
  }
  return replies;
}

void PairwiseRule::unsent(std::uint32_t, const Message& message) {
  const MessageHeader& header = message.header;
  std::lock_guard lock(mutex_);
  if (header.type == MessageType::kExchangeReq && outstanding_ &&
      outstanding_->sequence == header.sequence) {
    outstanding_.reset();  // never left: nothing to wait for
  }
}

MixResult PairwiseRule::apply(Backend& backend, float* params) {
  std::lock_guard lock(mutex_);
  MixResult result{received_count_};
  if (received_count_ == 0) return result;
  to_floats(delta_, 1.0, staged_);
  backend.axpby(n_, 1.0f, staging_.stage(backend, staged_), 1.0f, params);
  std::fill(delta_.begin(), delta_.end(), 0.0);
  received_count_ = 0;
  return result;
}

}  // namespace rumor
