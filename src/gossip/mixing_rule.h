// mixing_rule.h — how a peer combines its parameters with its neighbours' (DESIGN.md,
// "Mixing rules"). One interface, four rules, selected by name:
//
//   average          one-sided x ← (1−αf)·x + αf·x_j per received PARAMS, f the staleness
//                    factor. The baseline: reaches consensus, but not the exact mean.
//   push-sum         SGP: weight w and de-biased x; a round keeps 1/(k+1) of w and sends the
//                    same share with x to each of k neighbours; receiving (w_j, x_j) gives
//                    x ← (w·x + Σ w_j·x_j)/(w + Σ w_j). Conserves Σ w·x and Σ w exactly when no
//                    message is lost, on directed and time-varying graphs.
//   robust-push-sum  push-sum whose messages carry the running totals of everything sent on
//                    that edge (Σ shares of w·x and of w); the receiver applies the difference to
//                    the totals it last saw, so a lost or superseded message is recovered by the
//                    next one. Conserves mass under loss and reordering.
//   pairwise         AD-PSGD push-pull: EXCHANGE_REQ with x_i′ to one neighbour, which replies
//                    with its last published x_j′; both add (x_other′ − x_own′)/2 at their next
//                    mix() (delta form: local progress made meanwhile is kept, and the sum of
//                    all parameters is unchanged). Replies come from the engine thread, so no
//                    peer ever waits for another: deadlock-free.
//
// Threads: outgoing() and apply() run on the training thread (publish() / mix()); receive()
// runs on the engine's I/O thread. Implementations guard what they share between the two.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kernels/backend.h"
#include "net/message.h"

namespace rumor {

// What a rule builds its messages with.
//
// Immediate (receive(), resend(): the I/O thread): complete messages, payload encoded and
// checksummed. Deferred (outgoing(): publish() on the owner thread): messages are stamped
// (sequence, step, dtype, count) and their payload is only copied — float32 values, or the
// wire bytes of make() — or, for values that alias `snapshot`, shared; conversion to a narrower
// wire dtype and the checksum are left to finish_deferred() on the engine's sender thread,
// so the owner pays one copy per publish. A deferred message must be finished before it is
// sent (unfinished, its checksum is that of an empty payload and receivers reject it).
struct MessageMaker {
  MessageFactory& factory;
  BufferPool& pool;
  WireDType dtype = WireDType::kFloat32;
  bool deferred = false;
  std::shared_ptr<const Buffer> snapshot;  // deferred: float32 values shared, not copied

  // A message of `type` carrying `values` as `dtype`.
  Message make_floats(MessageType type, std::uint64_t step, std::span<const float> values);
  // Another message with the payload of `original` (shared, not copied or hashed again).
  Message make_like(const Message& original, std::uint64_t step);
  // A message carrying `payload`, already in `payload_dtype` wire form.
  Message make(MessageType type, std::uint64_t step, Payload payload, WireDType payload_dtype);
};

// Finishes deferred messages in order (MessageMaker): encodes float32 values into the header's
// wire dtype where it is narrower and computes the checksum (for a float32 payload, with Σx²
// of its values in the same pass: Message::sum_squares). A message sharing the previous one's
// payload (make_like) reuses its result. Any thread; `pool` supplies encoded payloads.
class DeferredFinisher {
 public:
  void finish(Message& message, BufferPool& pool);

 private:
  Payload source_;   // the last deferred payload finished (held: its address stays unique) ...
  Payload payload_;  // ... and what it became
  std::uint64_t checksum_ = 0;
  std::optional<double> sum_squares_;
};

struct Outgoing {
  std::uint32_t peer = 0;
  Message message;
};

// A validated parameter-carrying message (PARAMS, EXCHANGE_REQ or EXCHANGE_REP) and the
// staleness factor the policy gave it (1 = fresh).
struct Incoming {
  const Message& message;
  double staleness_factor = 1.0;
};

struct MixResult {
  int applied = 0;  // contributions applied by this mix()
};

class MixingRule {
 public:
  virtual ~MixingRule() = default;
  virtual std::string_view name() const = 0;
  // Whether the rule may drop or down-weight stale messages without breaking what it
  // conserves (push-sum may not: a dropped message is lost mass).
  virtual bool honours_staleness() const = 0;

  // Training thread: the messages of one gossip round, given the current parameters (host
  // float32) and this round's live out-neighbours (non-empty).
  virtual std::vector<Outgoing> outgoing(std::span<const float> params,
                                         const std::vector<int>& neighbours, std::uint64_t step,
                                         MessageMaker& maker) = 0;

  // Engine thread: takes in a received message; may return replies to send (pairwise).
  virtual std::vector<Outgoing> receive(const Incoming& incoming, std::uint64_t step,
                                        MessageMaker& maker) = 0;

  // I/O thread, once per heartbeat interval: messages worth sending again while the owner is
  // not publishing (robust push-sum repeats the totals of idle edges, so the last message on
  // an edge is not lost forever when the network drops it).
  virtual std::vector<Outgoing> resend(std::uint64_t /*step*/, MessageMaker& /*maker*/) {
    return {};
  }

  // The engine's sender or I/O thread: the transport refused a message that outgoing() or
  // receive() produced (a full queue, a closed transport). Rules take back what it carried.
  // The owner may have mixed and trained since outgoing() (the sender thread sends later).
  virtual void unsent(std::uint32_t /*peer*/, const Message& /*message*/) {}

  // Training thread: applies everything received since the last call to `params` (n floats in
  // `backend` memory). Does not block on the network.
  virtual MixResult apply(Backend& backend, float* params) = 0;

  // The push-sum weight of this peer (1 for rules without weights).
  virtual double weight() const { return 1.0; }
};

inline constexpr const char* kMixingRules = "pairwise, push-sum, robust-push-sum, average";

// Builds the rule named `name` for `n` parameters; `alpha` is average's neighbour weight.
// Throws ConfigError listing the valid names, or for alpha outside (0, 1].
std::unique_ptr<MixingRule> make_mixing_rule(std::string_view name, std::size_t n, double alpha);

// Decodes a message's payload to float32 (any wire dtype).
std::vector<float> payload_floats(const Message& message);

}  // namespace rumor
