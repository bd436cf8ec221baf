// engine.cc — GossipEngine: the owner's publish()/mix(), the sender thread that finishes and
// sends what publish() stamped, and the I/O thread that receives, answers, heartbeats and
// detects failures.
#include "rumor/engine.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>

#include "core/clock.h"
#include "core/error.h"
#include "core/log.h"
#include "core/threads.h"
#include "gossip/engine_transport.h"
#include "gossip/failure_detector.h"
#include "gossip/mixing_rule.h"
#include "gossip/staleness.h"
#include "gossip/topology.h"
#include "kernels/backend.h"
#include "kernels/cpu/host_reductions.h"
#include "net/dtype.h"

namespace rumor {
namespace {

WireDType parse_wire_dtype(const std::string& name) {
  if (name == "f32") return WireDType::kFloat32;
  if (name == "bf16") return WireDType::kBFloat16;
  if (name == "f16") return WireDType::kFloat16;
  throw ConfigError("wire-dtype '" + name + "' is not valid; valid: f32, bf16, f16");
}

constexpr std::chrono::milliseconds kReplyWait{1000};

bool carries_params(MessageType type) {
  return type == MessageType::kParams || type == MessageType::kExchangeReq ||
         type == MessageType::kExchangeRep;
}

}  // namespace

struct GossipEngine::Impl {
  Impl(const GossipConfig& cfg, std::unique_ptr<Transport> transport_in,
       const std::vector<std::string>& endpoints, int rank_in, Backend& backend_in,
       float* params_in, std::size_t count_in)
      : config(cfg),
        rank(rank_in),
        world(static_cast<int>(endpoints.size())),
        backend(backend_in),
        params(params_in),
        count(count_in),
        use_sender_thread(cfg.sender_thread.value_or(!backend_in.host_accessible())),
        dtype(parse_wire_dtype(cfg.wire_dtype)),
        policy(cfg.staleness),
        topology(Topology::parse(cfg.topology, world, cfg.seed)),
        rule(make_mixing_rule(cfg.rule, count_in, cfg.alpha)),
        transport(std::move(transport_in)),
        factory({cfg.run_id, model_fingerprint(cfg.model, count_in),
                 static_cast<std::uint32_t>(rank_in), default_incarnation()}),
        maker{factory, pool, dtype, /*deferred=*/false, nullptr},
        detector(world, rank_in, cfg.failure, clock, cfg.heartbeat_interval),
        peer_step(world, -1),
        ever_heard(world, false),
        warned_outlier(world, false),
        peer_norm(world, 0.0),
        peer_staleness(world, 0),
        host_params(count_in) {
    if (cfg.publish_every < 1) throw ConfigError("publish-every: must be at least 1");
    if (cfg.heartbeat_interval.count() <= 0) throw ConfigError("heartbeat-ms: must be positive");
    RUMOR_CHECK(static_cast<int>(transport->num_peers()) == world &&
                    static_cast<int>(transport->rank()) == rank,
                "transport is rank ", transport->rank(), " of ", transport->num_peers(),
                ", engine is rank ", rank, " of ", world);
    for (int p = 0; p < world; ++p) {
      if (p != rank) transport->connect(static_cast<std::uint32_t>(p), endpoints[p]);
    }
    // The peers whose progress the drift gate watches: every base neighbour over one cycle.
    const int cycle = topology.time_varying() ? std::max(1, world) : 1;
    for (int round = 0; round < cycle; ++round) {
      for (int p : topology.base_neighbours(rank, round)) {
        if (std::find(watched.begin(), watched.end(), p) == watched.end()) watched.push_back(p);
      }
    }
    pending_initial_catch_up = cfg.catch_up;
    refused_state.assign(world, false);
    if (config.max_norm_ratio > 0.0) {
      // The norm check's own reference until the first publish: a liar's message may arrive
      // before that (publish() refreshes it).
      own_norm.store(l2_norm(host_snapshot()));
    }
    send_to_all(MessageType::kHello);
    io_thread = std::thread([this] {
      name_this_thread("rumor-gossip" + std::to_string(rank));
      make_this_thread_background();
      io_loop();
    });
    if (use_sender_thread) {
      sender_thread = std::thread([this] {
        name_this_thread("rumor-send" + std::to_string(rank));
        make_this_thread_background();
        sender_loop();
      });
    }
  }

  ~Impl() {
    {
      std::lock_guard lock(mutex);
      stopping = true;
    }
    changed.notify_all();
    if (io_thread.joinable()) io_thread.join();
    {
      std::lock_guard lock(jobs_mutex);
      sender_stopping = true;
    }
    jobs_changed.notify_all();
    if (sender_thread.joinable()) sender_thread.join();  // sends what was published first
    send_to_all(MessageType::kBye);
  }

  void send_to_all(MessageType type) {
    for (int p = 0; p < world; ++p) {
      if (p == rank) continue;
      (void)transport->try_send(static_cast<std::uint32_t>(p),
                                factory.make(type, static_cast<std::uint64_t>(my_step.load())));
    }
  }

  // Hands one rule message to the transport; a refused one goes back to the rule. Exchange
  // replies may wait for room: their sender has already applied its half of the exchange.
  void send(Outgoing out) {
    const Message kept = out.message;  // header and a shared reference to the payload
    const auto wait = kept.header.type == MessageType::kExchangeRep ? kReplyWait
                                                                    : std::chrono::milliseconds(0);
    const SendResult result = transport->send(out.peer, std::move(out.message), wait);
    if (result == SendResult::kQueued) {
      sent.fetch_add(1);
    } else {
      send_failures.fetch_add(1);
      rule->unsent(out.peer, kept);
    }
  }

  // --- sender thread ---

  // One publish() round, stamped by the rule on the owner thread and finished here.
  struct PublishJob {
    std::vector<Outgoing> messages;
    std::shared_ptr<const Buffer> snapshot;  // the parameters at publish(), float32
  };

  // Takes published rounds in order and finishes them (below). Drains what is queued before
  // it stops. Not started without use_sender_thread.
  void sender_loop() {
    for (;;) {
      PublishJob job;
      {
        std::unique_lock lock(jobs_mutex);
        jobs_changed.wait(lock, [&] { return sender_stopping || !jobs.empty(); });
        if (jobs.empty()) return;  // stopping, nothing left
        job = std::move(jobs.front());
        jobs.pop_front();
      }
      jobs_changed.notify_all();  // room for publish()
      finish_and_send(job);
    }
  }

  // Sender thread, or the owner without one (GossipConfig::sender_thread): encodes and
  // checksums each message (DeferredFinisher), refreshes the norm check's own reference (from
  // the checksum pass when a float32 payload is the snapshot, else with a pass of its own) and
  // hands each message to the transport, which never waits here for PARAMS and EXCHANGE_REQ (pairwise replies
  // served from outgoing() may wait up to kReplyWait for room, as on the I/O thread).
  void finish_and_send(PublishJob& job) {
    bool own_norm_known = false;  // from the checksum pass over the snapshot, when it is a payload
    DeferredFinisher finisher;
    for (Outgoing& out : job.messages) {
      try {
        finisher.finish(out.message, pool);
        if (out.message.sum_squares && out.message.payload.data() == job.snapshot->data()) {
          own_norm.store(std::sqrt(*out.message.sum_squares));
          own_norm_known = true;
        }
        send(std::move(out));
      } catch (const std::exception& e) {  // out of memory: this message is lost, not the peer
        log(LogLevel::kError, "gossip: rank ", rank, " could not send a published message: ",
            e.what());
        send_failures.fetch_add(1);
      }
      publishing.fetch_sub(1);  // after send() counted it: undelivered() never sees a gap
    }
    if (config.max_norm_ratio > 0.0 && !own_norm_known) {
      own_norm.store(l2_norm(std::span<const float>(
          reinterpret_cast<const float*>(job.snapshot->data()), count)));
    }
    rounds.fetch_add(1);
  }

  // --- I/O thread ---

  void io_loop() {
    auto next_heartbeat = clock.now();
    for (;;) {
      {
        std::lock_guard lock(mutex);
        if (stopping) return;
      }
      if (auto message = transport->receive(std::chrono::milliseconds(10))) handle(*message);
      const auto now = clock.now();
      if (now >= next_heartbeat) {
        send_to_all(MessageType::kHeartbeat);
        for (auto& out : rule->resend(static_cast<std::uint64_t>(my_step.load()), maker)) {
          send(std::move(out));
        }
        next_heartbeat = now + config.heartbeat_interval;
        std::vector<int> changed_peers;
        {
          std::lock_guard lock(mutex);
          changed_peers = detector.update();
        }
        for (int p : changed_peers) {
          log(LogLevel::kInfo, "gossip: rank ", rank, " sees peer ", p, " as ",
              peer_state_name(detector_state(p)));
        }
        if (!changed_peers.empty()) changed.notify_all();
      }
    }
  }

  static double l2_norm(std::span<const float> values) {
    return std::sqrt(host_sum_squares(values.data(), values.size()));
  }

  // Owner thread: the parameters as host floats (the norm check's first reference): host
  // memory is read in place; device memory is copied to the host once.
  std::span<const float> host_snapshot() {
    if (backend.host_accessible()) return {params, count};
    backend.copy_to_host(host_params.data(), params, count * sizeof(float));
    return host_params;
  }

  // I/O thread: the L2 norm of a message's parameters: from the Σx² that validation computed
  // (float32 through the transport), else read in place (float32) or decoded a cache-sized
  // chunk at a time (no copy of the whole payload: the rule decodes it again).
  double payload_norm(const Message& message) {
    if (message.sum_squares) return std::sqrt(*message.sum_squares);
    if (const auto values = float32_view(message)) return l2_norm(*values);  // in place
    const std::size_t n = message.header.count;
    const std::size_t width = wire_dtype_size(message.header.dtype);
    const std::span<const std::byte> bytes = message.payload.bytes();
    norm_chunk.resize(kNormChunk);
    double sum = 0.0;
    for (std::size_t i = 0; i < n; i += kNormChunk) {
      const std::size_t len = std::min(kNormChunk, n - i);
      const std::span<float> chunk(norm_chunk.data(), len);
      decode_floats(bytes.subspan(i * width, len * width), message.header.dtype, chunk);
      sum += host_sum_squares(chunk.data(), chunk.size());
    }
    return std::sqrt(sum);
  }

  // Judges parameters of L2 norm `norm` (GossipConfig::max_norm_ratio) against the median of
  // the norms this peer knows — its own at its last publish and the latest PARAMS of every
  // peer ever heard — and returns that reference when `norm` is outside the ratio (nullopt:
  // plausible, or not judged). `sender` >= 0 first records `norm` as that peer's. Peers that
  // died or left still count: their last norm says what honest parameters look like, so a
  // liar that outlives the honest peers is still outvoted. A median needs three norms: until
  // a third is known (start-up) the reference is our own norm; in a world of two peers the
  // check abstains — nobody can tell which one is wrong, and comparing with our own norm would
  // make two honest replicas that drifted apart reject each other for good. All-zero
  // parameters (a model that has not stepped yet, here or there) are not judged. Any thread.
  std::optional<double> implausible(double norm, int sender) {
    std::lock_guard lock(norms_mutex);
    if (sender >= 0) peer_norm[sender] = norm;
    const double mine = own_norm.load();
    if (config.max_norm_ratio <= 0.0 || norm == 0.0 || mine <= 0.0) return std::nullopt;
    reference_norms.assign(1, mine);
    for (int p = 0; p < world; ++p) {
      if (p != rank && peer_norm[p] > 0.0) reference_norms.push_back(peer_norm[p]);
    }
    double reference = mine;  // until a third norm is known (start-up): our own, cautiously
    if (reference_norms.size() >= 3) {
      const auto middle = reference_norms.begin() + reference_norms.size() / 2;
      std::nth_element(reference_norms.begin(), middle, reference_norms.end());
      reference = *middle;
    } else if (world <= 2) {
      return std::nullopt;  // two peers: nobody can ever tell which one is wrong
    }
    const bool plausible = norm <= reference * config.max_norm_ratio &&
                           norm >= reference / config.max_norm_ratio;
    return plausible ? std::nullopt : std::optional<double>(reference);
  }

  // I/O thread: rejects (counts, logs once per sender) a PARAMS message whose parameters are
  // implausible. Robust push-sum's running totals (float64) are not parameters: not checked.
  bool reject_implausible(const Message& message, int sender) {
    if (config.max_norm_ratio <= 0.0 || message.header.dtype == WireDType::kFloat64) {
      return false;
    }
    const double norm = payload_norm(message);
    const std::optional<double> reference = implausible(norm, sender);
    if (!reference) return false;
    rejected_outliers.fetch_add(1);
    if (!warned_outlier[sender]) {  // once per sender; the count is in stats()
      warned_outlier[sender] = true;
      log(LogLevel::kWarn, "gossip: rank ", rank, " rejects parameters from peer ", sender,
          " (L2 norm ", norm, " against the median ", *reference,
          ": outside the max-norm-ratio ", config.max_norm_ratio, "); counting further ones");
    }
    return true;
  }

  PeerState detector_state(int peer) {
    std::lock_guard lock(mutex);
    return detector.state(peer);
  }

  void handle(const Message& message) {
    const MessageHeader& header = message.header;
    const int sender = static_cast<int>(header.sender);
    std::int64_t staleness = 0;
    bool reconnect = false;
    {
      std::lock_guard lock(mutex);
      // A peer heard from for the first time, (re)started (HELLO) or back from the dead is up
      // now: our link to it may be waiting out libzmq's reconnect backoff (seconds when it
      // started after us), so the transport reopens it if that loses nothing.
      reconnect = header.type != MessageType::kBye &&
                  (!ever_heard[sender] || header.type == MessageType::kHello ||
                   !detector.alive(sender));
      ever_heard[sender] = true;
      detector.heard_from(sender);
      if (header.type == MessageType::kBye) {
        if (detector.alive(sender)) {
          log(LogLevel::kInfo, "gossip: rank ", rank, " sees peer ", sender,
              " as dead (it said goodbye)");
        }
        detector.said_bye(sender);
      }
      peer_step[sender] = std::max(peer_step[sender], static_cast<std::int64_t>(header.step));
      if (carries_params(header.type)) {
        staleness = StalenessPolicy::staleness(static_cast<std::int64_t>(header.step),
                                               peer_step[sender]);
        peer_staleness[sender] = staleness;
      }
      if (header.type == MessageType::kStateReq) {
        state_requests.push_back(message);
      } else if (header.type == MessageType::kStateRep && state_request &&
                 header.reply_to == state_request->sequence &&
                 sender == static_cast<int>(state_request->peer)) {
        state_reply = message;
      }
    }
    if (reconnect) transport->refresh(static_cast<std::uint32_t>(sender));
    if (header.type == MessageType::kParams && reject_implausible(message, sender)) {
      changed.notify_all();
      return;
    }
    if (carries_params(header.type)) {
      double factor = 1.0;
      // Replies are never dropped: the requester already applied its half of the exchange.
      if (rule->honours_staleness() && header.type != MessageType::kExchangeRep) {
        const auto weight = policy.weight(staleness);
        if (!weight) {
          dropped_stale.fetch_add(1);
          changed.notify_all();
          return;
        }
        factor = *weight;
      }
      auto replies = rule->receive(Incoming{message, factor},
                                   static_cast<std::uint64_t>(my_step.load()), maker);
      for (auto& reply : replies) send(std::move(reply));
      received.fetch_add(1);
    }
    changed.notify_all();
  }

  // --- owner thread ---

  // Owner thread: one copy of the parameters into a pooled buffer, the rule's bookkeeping
  // (push-sum's weight share, pairwise's view), messages stamped but not yet encoded or
  // checksummed; the sender thread does the rest (or this thread, without one). Waits only
  // while kMaxPublishesQueued rounds are still being finished (CPU work, not the network).
  void publish(std::int64_t step) {
    if (superseded_below) {
      // The step that was in flight when mix() caught up ends with its old number: its
      // parameters were replaced, and its step must not pull this peer's back (the next mix()
      // would see it behind again and fetch the whole state a second time).
      const std::int64_t caught_up_step = *superseded_below;
      superseded_below.reset();
      if (step < caught_up_step) return;
    }
    my_step.store(step);
    if (step % config.publish_every != 0) return;
    std::vector<int> neighbours;
    {
      std::lock_guard lock(mutex);
      neighbours = topology.neighbours(rank, static_cast<std::int64_t>(round), detector.alive_mask());
    }
    ++round;
    if (neighbours.empty()) return;
    if (use_sender_thread) {
      std::unique_lock lock(jobs_mutex);
      jobs_changed.wait(lock, [&] { return jobs.size() < kMaxPublishesQueued; });
    }
    std::shared_ptr<Buffer> copy = pool.acquire(count * sizeof(float));
    backend.copy_to_host(copy->data(), params, count * sizeof(float));
    PublishJob job;
    job.snapshot = std::move(copy);
    const std::span<const float> snapshot(reinterpret_cast<const float*>(job.snapshot->data()),
                                          count);
    MessageMaker deferred{factory, pool, dtype, /*deferred=*/true, job.snapshot};
    job.messages =
        rule->outgoing(snapshot, neighbours, static_cast<std::uint64_t>(step), deferred);
    publishing.fetch_add(job.messages.size());
    if (!use_sender_thread) {
      finish_and_send(job);
      return;
    }
    {
      std::lock_guard lock(jobs_mutex);
      jobs.push_back(std::move(job));
    }
    jobs_changed.notify_all();
  }

  // The smallest step among watched live peers (never-heard peers count as step -1).
  std::int64_t slowest_watched_step() const {
    std::int64_t slowest = my_step.load();
    for (int p : watched) {
      if (detector.alive(p)) slowest = std::min(slowest, peer_step[p]);
    }
    return slowest;
  }

  bool any_watched_alive() const {
    return std::any_of(watched.begin(), watched.end(), [&](int p) { return detector.alive(p); });
  }

  // Owner thread: answers queued STATE_REQs with the current parameters + attached state.
  void serve_state_requests() {
    std::vector<Message> requests;
    {
      std::lock_guard lock(mutex);
      requests.swap(state_requests);
    }
    if (requests.empty()) return;
    std::vector<float> state(count + extra_count);
    backend.copy_to_host(state.data(), params, count * sizeof(float));
    if (extra_count > 0) {
      backend.copy_to_host(state.data() + count, extra, extra_count * sizeof(float));
    }
    for (const Message& request : requests) {
      Message reply = factory.make_floats(MessageType::kStateRep,
                                          static_cast<std::uint64_t>(my_step.load()), state,
                                          WireDType::kFloat32, pool);
      reply.header.reply_to = request.header.sequence;
      if (transport->send(request.header.sender, std::move(reply), kReplyWait) ==
          SendResult::kQueued) {
        states_served.fetch_add(1);
      }
    }
  }

  // The live peer furthest ahead that this peer has heard from, and its step; peers whose
  // state was refused as implausible are not considered (they are not caught up with).
  std::optional<std::pair<int, std::int64_t>> furthest_live_peer() const {
    std::optional<std::pair<int, std::int64_t>> best;
    for (int p = 0; p < world; ++p) {
      if (p == rank || peer_step[p] < 0 || !detector.alive(p) || refused_state[p]) continue;
      if (!best || peer_step[p] > best->second) best = std::make_pair(p, peer_step[p]);
    }
    return best;
  }

  // Owner thread: pulls the full state from the live peer furthest ahead, waiting for its
  // reply (bounded by catch_up_timeout; a dead or silent peer makes it try another).
  // `initial`: the catch-up of a joining peer, which waits for someone to ask; else it fell
  // behind by catch_up_lag, and it ends at once when no live peer is that far ahead any more
  // (the peer it asked finished or died without answering).
  void catch_up_now(bool initial) {
    const auto give_up = clock.now() + config.catch_up_timeout;
    std::unique_lock lock(mutex);
    while (clock.now() < give_up && !stopping) {
      const auto target = furthest_live_peer();
      if (!initial && (!target || target->second - my_step.load() <= config.catch_up_lag)) {
        // The peer we were behind left (it finished, or died) before it answered, and no live
        // peer is that far ahead any more: there is nobody to catch up with.
        log(LogLevel::kInfo, "gossip: rank ", rank,
            ": no live peer is more than catch-up-lag ", config.catch_up_lag,
            " steps ahead any more; continuing with its own parameters");
        return;
      }
      if (!target) {
        changed.wait_for(lock, config.heartbeat_interval);  // nobody heard from yet
        continue;
      }
      Message request = factory.make(MessageType::kStateReq,
                                     static_cast<std::uint64_t>(my_step.load()));
      state_request = StateRequest{request.header.sequence,
                                   static_cast<std::uint32_t>(target->first)};
      state_reply.reset();
      lock.unlock();
      const bool sent_ok = transport->send(static_cast<std::uint32_t>(target->first),
                                           std::move(request), kReplyWait) == SendResult::kQueued;
      lock.lock();
      const auto retry_at = clock.now() + std::min<Clock::Duration>(
                                              config.catch_up_timeout,
                                              detector.worst_case_detection());
      while (sent_ok && !state_reply && !stopping && clock.now() < retry_at &&
             detector.alive(target->first)) {
        changed.wait_for(lock, config.heartbeat_interval);
      }
      if (!state_reply) continue;
      const Message reply = std::move(*state_reply);
      state_reply.reset();
      state_request.reset();
      lock.unlock();
      if (reply.header.count != count + extra_count) {
        log(LogLevel::kWarn, "gossip: rank ", rank, ": state from peer ", reply.header.sender,
            " has ", reply.header.count, " values, expected ", count + extra_count,
            " (different attached state); not used");
        return;
      }
      std::vector<float> state(reply.header.count);
      payload_to_floats(reply, state);
      const double norm = l2_norm(std::span<const float>(state.data(), count));
      if (const std::optional<double> reference = implausible(norm, -1)) {
        // A liar's state would replace our parameters outright: ask someone else.
        log(LogLevel::kWarn, "gossip: rank ", rank, " refuses the state from peer ",
            reply.header.sender, " (L2 norm ", norm, " against ", *reference,
            ": outside the max-norm-ratio ", config.max_norm_ratio, ")");
        rejected_outliers.fetch_add(1);
        std::lock_guard refused(mutex);
        refused_state[reply.header.sender] = true;
        // The next mix() decides again, without this peer: a joining peer still wants a state
        // from someone; one that was behind may not be behind the others.
        pending_initial_catch_up = initial;
        return;
      }
      backend.copy_from_host(params, state.data(), count * sizeof(float));
      if (extra_count > 0) {
        backend.copy_from_host(extra, state.data() + count, extra_count * sizeof(float));
      }
      my_step.store(static_cast<std::int64_t>(reply.header.step));
      superseded_below = static_cast<std::int64_t>(reply.header.step);
      std::lock_guard done(mutex);
      last_catch_up = CatchUp{static_cast<int>(reply.header.sender),
                              static_cast<std::int64_t>(reply.header.step)};
      log(LogLevel::kInfo, "gossip: rank ", rank, " caught up from peer ", reply.header.sender,
          " at step ", reply.header.step);
      return;
    }
    log(LogLevel::kWarn, "gossip: rank ", rank, ": no state received for catch-up within ",
        config.catch_up_timeout.count(), " ms; continuing with its own parameters");
  }

  int mix() {
    serve_state_requests();
    bool behind = false;
    {
      std::lock_guard lock(mutex);
      const auto furthest = furthest_live_peer();
      behind = config.catch_up_lag > 0 && furthest &&
               furthest->second - my_step.load() > config.catch_up_lag;
    }
    if (pending_initial_catch_up || behind) {
      const bool initial = pending_initial_catch_up;
      pending_initial_catch_up = false;
      catch_up_now(initial);
    }
    const std::int64_t step = my_step.load();
    {
      std::unique_lock lock(mutex);
      bool waited = false;
      const auto gate_closed = [&] {
        if (stopping) return false;
        if (policy.must_wait_for_drift(step, slowest_watched_step())) return true;
        return policy.must_wait_for_fresh(step, last_fresh_step) &&
               received.load() == received_at_last_mix && any_watched_alive();
      };
      while (gate_closed()) {
        waited = true;
        waiting = true;
        changed.wait_for(lock, config.heartbeat_interval);
      }
      waiting = false;
      if (waited) waits.fetch_add(1);
    }
    const MixResult result = rule->apply(backend, params);
    received_at_last_mix = received.load();
    if (result.applied > 0) last_fresh_step = step;
    applied.fetch_add(static_cast<std::uint64_t>(result.applied));
    return result.applied;
  }

  GossipStats stats() const {
    GossipStats s;
    s.step = my_step.load();
    s.publishing = publishing.load();  // before sent: a message moving between them is counted
    s.rounds = rounds.load();
    s.sent = sent.load();
    s.send_failures = send_failures.load();
    s.received = received.load();
    s.applied = applied.load();
    s.dropped_stale = dropped_stale.load();
    s.rejected_outliers = rejected_outliers.load();
    s.waits = waits.load();
    s.states_served = states_served.load();
    s.weight = rule->weight();
    const NetCounters net = transport->counters();
    {
      std::lock_guard lock(mutex);
      s.waiting = waiting;
    }
    for (const PeerCounters& c : net.peers) {
      for (DropReason reason : {DropReason::kSuperseded, DropReason::kExpired, DropReason::kStale,
                                DropReason::kInboxFull}) {
        s.lost_in_transport += c.dropped(reason);
      }
    }
    std::lock_guard lock(mutex);
    for (int p = 0; p < world; ++p) {
      if (p == rank) continue;
      GossipPeerStats peer;
      peer.rank = p;
      peer.state = std::string(peer_state_name(detector.state(p)));
      peer.suspected = detector.suspicions(p);
      peer.declared_dead = detector.deaths(p);
      peer.step = peer_step[p];
      peer.staleness = peer_staleness[p];
      peer.drift = peer_step[p] < 0 ? 0 : s.step - peer_step[p];
      if (p < static_cast<int>(net.peers.size())) {
        const PeerCounters& c = net.peers[p];
        peer.bytes_in = c.bytes_in;
        peer.bytes_out = c.bytes_out;
        peer.messages_in = c.messages_in;
        peer.messages_out = c.messages_out;
        peer.dropped = c.dropped_total();
        peer.rejected = c.rejected_total();
      }
      s.peers.push_back(std::move(peer));
    }
    return s;
  }

  const GossipConfig config;
  const int rank;
  const int world;
  Backend& backend;
  float* const params;
  const std::size_t count;
  // GossipConfig::sender_thread, decided: a thread for parameters in device memory.
  const bool use_sender_thread;
  const WireDType dtype;
  const StalenessPolicy policy;
  const Topology topology;
  std::unique_ptr<MixingRule> rule;
  std::unique_ptr<Transport> transport;
  MessageFactory factory;
  BufferPool pool;
  MessageMaker maker;
  SteadyClock clock;

  mutable std::mutex mutex;  // guards detector, peer_step, peer_staleness, stopping
  std::condition_variable changed;
  FailureDetector detector;
  std::vector<std::int64_t> peer_step;
  std::vector<bool> ever_heard;  // (mutex)
  std::vector<bool> warned_outlier;      // I/O thread
  static constexpr std::size_t kNormChunk = 4096;
  std::vector<float> norm_chunk;         // I/O thread: payload_norm()'s scratch
  std::mutex norms_mutex;                // guards the two below
  std::vector<double> peer_norm;         // L2 norm of each peer's latest PARAMS
  std::vector<double> reference_norms;   // implausible()'s scratch
  std::atomic<double> own_norm{0.0};     // L2 norm of the parameters at the last publish
  std::vector<std::int64_t> peer_staleness;
  std::vector<int> watched;
  bool stopping = false;
  bool waiting = false;  // mix() is inside a gate wait (mutex)

  struct StateRequest {
    std::uint64_t sequence = 0;
    std::uint32_t peer = 0;
  };
  std::vector<Message> state_requests;       // STATE_REQs waiting for the owner (mutex)
  std::optional<StateRequest> state_request;  // our outstanding catch-up request (mutex)
  std::optional<Message> state_reply;         // its answer (mutex)
  std::vector<bool> refused_state;            // peers whose state was implausible (mutex)
  std::optional<CatchUp> last_catch_up;       // (mutex)
  float* extra = nullptr;                     // attached state (owner thread)
  std::size_t extra_count = 0;
  bool pending_initial_catch_up = false;      // owner thread
  // After a catch-up to step S: the next publish() of a step below S is the replaced run's
  // (owner thread).
  std::optional<std::int64_t> superseded_below;

  std::atomic<std::int64_t> my_step{0};
  std::atomic<std::uint64_t> rounds{0}, sent{0}, send_failures{0}, received{0}, applied{0},
      dropped_stale{0}, waits{0}, states_served{0}, rejected_outliers{0};
  std::uint64_t round = 0;                  // owner thread
  std::uint64_t received_at_last_mix = 0;   // owner thread
  std::int64_t last_fresh_step = 0;         // owner thread
  std::vector<float> host_params;           // owner thread

  static constexpr std::size_t kMaxPublishesQueued = 2;
  std::mutex jobs_mutex;                    // guards the two below
  std::deque<PublishJob> jobs;              // published rounds the sender thread has not taken
  bool sender_stopping = false;
  std::condition_variable jobs_changed;     // a job was queued or taken, or stop
  std::atomic<std::uint64_t> publishing{0};  // messages of queued or unfinished rounds
  std::thread io_thread;
  std::thread sender_thread;
};

GossipEngine::GossipEngine(const GossipConfig& config, const std::vector<std::string>& endpoints,
                           int rank, Backend& backend, float* params, std::size_t count)
    : GossipEngine(config, make_engine_transport(config, endpoints, rank, count), endpoints, rank,
                   backend, params, count) {}

GossipEngine::GossipEngine(const GossipConfig& config, std::unique_ptr<Transport> transport,
                           const std::vector<std::string>& endpoints, int rank, Backend& backend,
                           float* params, std::size_t count)
    : impl_(std::make_unique<Impl>(config, std::move(transport), endpoints, rank, backend, params,
                                   count)) {}

GossipEngine::~GossipEngine() = default;

void GossipEngine::publish(std::int64_t step) { impl_->publish(step); }
int GossipEngine::mix() { return impl_->mix(); }
GossipStats GossipEngine::stats() const { return impl_->stats(); }

void GossipEngine::attach_state(float* state, std::size_t count) {
  if (count + impl_->count > kMaxStateVectors * impl_->count) {
    throw ConfigError("attach_state: at most " + std::to_string(kMaxStateVectors - 1) +
                      " vectors of the parameters' size can travel with them");
  }
  impl_->extra = state;
  impl_->extra_count = count;
}

std::optional<CatchUp> GossipEngine::last_catch_up() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->last_catch_up;
}
int GossipEngine::rank() const { return impl_->rank; }
int GossipEngine::world() const { return impl_->world; }

}  // namespace rumor
