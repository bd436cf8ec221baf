// peer_monitor.h — the live state of a running `rumor peer`, shared between its training
// thread (which reports steps and evaluations) and the HTTP server's threads (which read the
// status and change the injected faults).
#pragma once

#include <atomic>
#include <mutex>

#include "core/clock.h"
#include "peer/fault_request.h"
#include "peer/peer_status.h"
#include "train/trainer.h"

namespace rumor {

class GossipEngine;
class FaultyTransport;

class PeerMonitor {
 public:
  // `faults` is the peer's fault decorator when fault injection is enabled, else null; both it
  // and `engine` must outlive the monitor.
  // `local_replicas` is the node's replica count (1 for an ordinary peer).
  PeerMonitor(int rank, int world, std::int64_t total_steps, int epochs,
              const GossipEngine& engine, FaultyTransport* faults, double slowdown,
              int local_replicas, const Clock& clock);

  // Training thread: `steps` steps done; `samples_per_second` over the run so far.
  void step_done(std::int64_t steps, int epoch, double samples_per_second);
  void evaluated(const Progress& progress);

  // Any thread.
  PeerStatus status() const;
  RuntimeFaults faults() const;
  // Applies new faults (transport faults, slowdown, a failing replica). Throws ConfigError
  // for a partition naming a rank outside the run, a replica the node does not have, or for
  // faults when fault injection is disabled.
  void set_faults(const RuntimeFaults& faults);
  // The compute slowdown in force (the training thread reads it every step).
  double slowdown() const { return slowdown_.load(); }
  // The local replica told to fail (POST /faults fail_replica), or -1 (any replica's thread).
  int fail_replica() const { return fail_replica_.load(); }

 private:
  const int rank_, world_;
  const GossipEngine& engine_;
  FaultyTransport* faults_;
  const Clock& clock_;
  const Clock::TimePoint started_;
  std::atomic<double> slowdown_;
  const int local_replicas_;
  std::atomic<int> fail_replica_{-1};
  mutable std::mutex mutex_;
  PeerStatus training_;  // the training fields of the status (mutex_)
};

}  // namespace rumor
