#include "peer/peer_monitor.h"

#include "core/error.h"
#include "net/faulty_transport.h"
#include "rumor/engine.h"

namespace rumor {

PeerMonitor::PeerMonitor(int rank, int world, std::int64_t total_steps, int epochs,
                         const GossipEngine& engine, FaultyTransport* faults, double slowdown,
                         int local_replicas, const Clock& clock)
    : rank_(rank),
      world_(world),
      engine_(engine),
      faults_(faults),
      clock_(clock),
      started_(clock.now()),
      slowdown_(slowdown),
      local_replicas_(local_replicas) {
  training_.rank = rank;
  training_.world = world;
  training_.total_steps = total_steps;
  training_.epochs = epochs;
  training_.local_replicas = local_replicas;
}

void PeerMonitor::step_done(std::int64_t steps, int epoch, double samples_per_second) {
  std::lock_guard lock(mutex_);
  training_.step = steps;
  training_.epoch = epoch;
  training_.samples_per_second = samples_per_second;
}

void PeerMonitor::evaluated(const Progress& p) {
  std::lock_guard lock(mutex_);
  training_.step = p.step;
  training_.epoch = p.epoch;
  training_.train_loss = p.train_loss;
  training_.test_loss = p.test.loss;
  training_.test_accuracy = p.test.accuracy;
}

PeerStatus PeerMonitor::status() const {
  PeerStatus status;
  {
    std::lock_guard lock(mutex_);
    status = training_;
  }
  status.uptime_seconds = seconds_between(started_, clock_.now());
  status.slowdown = slowdown_.load();
  status.gossip = engine_.stats();
  if (faults_ != nullptr) status.faults = faults_->stats();
  return status;
}

RuntimeFaults PeerMonitor::faults() const {
  RuntimeFaults faults;
  if (faults_ != nullptr) faults.transport = faults_->config();
  faults.slowdown = slowdown_.load();
  faults.fail_replica = fail_replica_.load();
  return faults;
}

void PeerMonitor::set_faults(const RuntimeFaults& faults) {
  if (faults_ == nullptr) throw ConfigError("fault injection is off: start the peer with --enable-faults");
  for (std::uint32_t peer : faults.transport.partitioned) {
    if (peer >= static_cast<std::uint32_t>(world_) || static_cast<int>(peer) == rank_) {
      throw ConfigError("partition: rank " + std::to_string(peer) + " is not another peer of " +
                        "this run (ranks 0.." + std::to_string(world_ - 1) + ", this is " +
                        std::to_string(rank_) + ")");
    }
  }
  if (faults.fail_replica >= local_replicas_) {
    throw ConfigError("fail_replica: this node has " + std::to_string(local_replicas_) +
                      " replica" + (local_replicas_ == 1 ? "" : "s") + " (0.." +
                      std::to_string(local_replicas_ - 1) + "), not " +
                      std::to_string(faults.fail_replica));
  }
  faults_->set_config(faults.transport);
  slowdown_.store(faults.slowdown);
  fail_replica_.store(faults.fail_replica);
}

}  // namespace rumor
