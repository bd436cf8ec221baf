// rules.h — the four MixingRule implementations (see mixing_rule.h for their semantics).
// Internal to src/gossip: users pick a rule by name through make_mixing_rule().
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <vector>

#include "gossip/device_staging.h"
#include "gossip/mixing_rule.h"

namespace rumor {

class AverageRule final : public MixingRule {
 public:
  AverageRule(std::size_t n, double alpha) : n_(n), alpha_(alpha) {}
  std::string_view name() const override { return "average"; }
  bool honours_staleness() const override { return true; }
  std::vector<Outgoing> outgoing(std::span<const float> params, const std::vector<int>& neighbours,
                                 std::uint64_t step, MessageMaker& maker) override;
  std::vector<Outgoing> receive(const Incoming& incoming, std::uint64_t step,
                                MessageMaker& maker) override;
  MixResult apply(Backend& backend, float* params) override;

 private:
  // A sender's newest PARAMS: a float32 payload is applied in place from the message (kept
  // alive here); any other dtype is decoded into `decoded`, a buffer reused across messages.
  struct Received {
    Message message;
    std::vector<float> decoded;
    bool in_place = false;  // float32_view(message) holds the values
    double factor = 1.0;
  };
  std::size_t n_;
  double alpha_;
  std::mutex mutex_;
  std::map<std::uint32_t, Received> latest_;  // newest PARAMS per sender since the last mix
  std::vector<std::vector<float>> spare_;     // decode buffers handed back by apply() (mutex_)
  DeviceStaging staging_;
};

class PushSumRule final : public MixingRule {
 public:
  PushSumRule(std::size_t n, bool robust) : n_(n), robust_(robust), mass_(n, 0.0) {}
  std::string_view name() const override { return robust_ ? "robust-push-sum" : "push-sum"; }
  bool honours_staleness() const override { return robust_; }
  std::vector<Outgoing> outgoing(std::span<const float> params, const std::vector<int>& neighbours,
                                 std::uint64_t step, MessageMaker& maker) override;
  std::vector<Outgoing> receive(const Incoming& incoming, std::uint64_t step,
                                MessageMaker& maker) override;
  MixResult apply(Backend& backend, float* params) override;
  void unsent(std::uint32_t peer, const Message& message) override;
  std::vector<Outgoing> resend(std::uint64_t step, MessageMaker& maker) override;
  double weight() const override;

 private:
  // Running totals on one edge (robust variant): what was sent (sender side) or last seen
  // (receiver side), with the sender incarnation they belong to.
  struct EdgeTotals {
    std::vector<double> mass;
    double weight = 0.0;
    std::uint64_t incarnation = 0;
    bool fresh = false;    // sent on since the last resend() tick
    int resends_left = 0;  // repeats still due while the edge stays idle
  };
  // Times the totals of an idle edge are repeated (each may be lost independently).
  static constexpr int kIdleResends = 10;
  // A PARAMS message carrying an edge's totals (float64). Caller holds mutex_.
  Message totals_message(const EdgeTotals& edge, std::uint64_t step, MessageMaker& maker) const;

  std::size_t n_;
  bool robust_;
  mutable std::mutex mutex_;
  double weight_ = 1.0;             // this peer's push-sum weight (training thread + apply)
  std::vector<double> mass_;        // Σ received w_j·x_j since the last mix
  bool mass_zero_ = true;           // mass_ holds zeros (the next receive assigns, not adds)
  double received_weight_ = 0.0;    // Σ received w_j since the last mix
  int received_count_ = 0;
  bool returned_ = false;           // an unsent share waits in mass_ for the next mix
  std::map<std::uint32_t, EdgeTotals> sent_;  // robust: per out-edge totals
  std::map<std::uint32_t, EdgeTotals> seen_;  // robust: per in-edge totals
  std::vector<float> decoded_;  // receive() scratch for payloads not read in place (I/O thread)
  std::vector<float> staged_;   // apply() on a device backend: the accumulator as float32
  DeviceStaging staging_;
};

class PairwiseRule final : public MixingRule {
 public:
  explicit PairwiseRule(std::size_t n) : n_(n), view_(n, 0.0f), delta_(n, 0.0) {}
  std::string_view name() const override { return "pairwise"; }
  // A dropped request would leave its sender waiting for the reply: never drop.
  bool honours_staleness() const override { return false; }
  std::vector<Outgoing> outgoing(std::span<const float> params, const std::vector<int>& neighbours,
                                 std::uint64_t step, MessageMaker& maker) override;
  std::vector<Outgoing> receive(const Incoming& incoming, std::uint64_t step,
                                MessageMaker& maker) override;
  MixResult apply(Backend& backend, float* params) override;
  void unsent(std::uint32_t peer, const Message& message) override;

 private:
  // An unanswered request is abandoned after this long (its peer is slow or dead).
  static constexpr std::chrono::milliseconds kExchangeTimeout{2000};

  // Serves one request with the current view: replies with it and moves the view half-way
  // to the requester's parameters. Caller holds mutex_.
  Outgoing serve_locked(const Message& request, std::uint64_t step, MessageMaker& maker);
  // Adds (theirs − mine)/2 to the pending delta and the view. Caller holds mutex_.
  void move_half_way_locked(std::span<const float> theirs, std::span<const float> mine);

  std::size_t n_;
  std::uint64_t round_ = 0;  // training thread
  std::mutex mutex_;
  bool published_ = false;
  std::vector<float> view_;     // last snapshot + every delta since: what requests are served from
  std::vector<double> delta_;   // Σ of half-way moves since the last mix
  int received_count_ = 0;
  // The one outstanding request: its sequence, the parameters it carried, when it was sent.
  struct Outstanding {
    std::uint64_t sequence = 0;
    std::uint32_t peer = 0;
    std::vector<float> sent;
    std::chrono::steady_clock::time_point since;
  };
  std::optional<Outstanding> outstanding_;
  std::vector<Message> deferred_;  // requests that arrived while ours was outstanding
  std::vector<float> staged_;
  DeviceStaging staging_;
};

}  // namespace rumor
