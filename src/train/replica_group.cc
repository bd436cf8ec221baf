#include "train/replica_group.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <exception>
#include <thread>

#include "core/error.h"
#include "core/threads.h"

namespace rumor {
namespace {

constexpr std::string_view kParamsPrefix = "params:";

std::string describe(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown exception";
  }
}

bool is_abort(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const BarrierAborted&) {
    return true;
  } catch (...) {
    return false;
  }
}

}  // namespace

LocalSync LocalSync::parse(std::string_view text) {
  if (text == "gradients") return {};
  if (text.starts_with(kParamsPrefix)) {
    const std::string_view digits = text.substr(kParamsPrefix.size());
    int every = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), every);
    if (ec == std::errc{} && end == digits.data() + digits.size() && every >= 1) {
      return {Kind::kParameters, every};
    }
  }
  throw ConfigError("--local-sync: '" + std::string(text) +
                    "' is not valid: use gradients (all-reduce gradients every step) or "
                    "params:H (average parameters every H >= 1 steps)");
}

std::string LocalSync::to_string() const {
  return kind == Kind::kGradients ? "gradients" : "params:" + std::to_string(every);
}

ReplicaGroup::ReplicaGroup(std::vector<Trainer*> trainers, LocalGroup& group, LocalSync sync)
    : trainers_(std::move(trainers)),
      group_(group),
      sync_(sync),
      decided_(std::max<int>(1, static_cast<int>(trainers_.size()))) {
  if (trainers_.empty()) throw ConfigError("a node needs at least one replica");
  if (group.size() != size()) {
    throw ConfigError("local group of " + std::to_string(group.size()) + " members for " +
                      std::to_string(size()) + " replicas");
  }
  if (sync.kind == LocalSync::Kind::kParameters && sync.every < 1) {
    throw ConfigError("--local-sync: params:H needs H >= 1");
  }
  const Trainer& leader = *trainers_[0];
  for (const Trainer* t : trainers_) {
    if (t->model().parameter_count() != leader.model().parameter_count() ||
        t->total_steps() != leader.total_steps()) {
      throw ConfigError("the replicas of a node must train the same model for the same number "
                        "of steps (equal slices of the shard)");
    }
  }
}

void ReplicaGroup::copy_leader_state() {
  if (size() == 1) return;
  const Checkpoint state = trainers_[0]->checkpoint(0);
  for (int m = 1; m < size(); ++m) trainers_[m]->restore(state);
}

double ReplicaGroup::max_divergence() const {
  const std::vector<float> leader = trainers_[0]->model().params().to_host();
  double largest = 0.0;
  for (int m = 1; m < size(); ++m) {
    const std::vector<float> follower = trainers_[m]->model().params().to_host();
    for (std::size_t i = 0; i < leader.size(); ++i) {
      const double d = std::abs(static_cast<double>(leader[i]) - follower[i]);
      if (!(d <= largest)) largest = d;  // NaN wins
    }
  }
  return largest;
}

bool ReplicaGroup::mixes_before(std::int64_t step) const {
  return sync_.kind == LocalSync::Kind::kGradients || step % sync_.every == 0;
}

bool ReplicaGroup::averages_after(std::int64_t step) const {
  return sync_.kind == LocalSync::Kind::kParameters &&
         ((step + 1) % sync_.every == 0 || step + 1 == trainers_[0]->total_steps());
}

bool ReplicaGroup::share_decision(int member, bool decision) {
  if (size() == 1) return decision;
  // The leader writes the slot of the phase it arrives at; the next phase uses the other slot,
  // and the leader cannot reach the one after before every follower has read this one.
  if (member == 0) decisions_[leader_phase_ % 2] = decision;
  const std::uint64_t phase = decided_.arrive_and_wait();
  if (member == 0) leader_phase_ = phase + 1;
  return decisions_[phase % 2];
}

void ReplicaGroup::abort(const std::string& reason) noexcept {
  group_.abort(reason);
  decided_.abort("local group aborted: " + reason);
}

void ReplicaGroup::run_replica(int member, const std::function<void(const Progress&)>& report,
                               const NodeHooks& hooks) {
  Trainer& trainer = *trainers_[member];
  const bool leader = member == 0;
  const std::size_t count = trainer.model().parameter_count();
  float* params = trainer.model().params().data();
  StepHooks steps;
  steps.before = [&](std::int64_t step) {
    if (mixes_before(step)) {
      const bool changed = leader && hooks.mix && hooks.mix(step);
      if (share_decision(member, changed)) group_.broadcast(member, params, count, 0);
    }
    if (leader && hooks.step.before) hooks.step.before(step);
  };
  if (sync_.kind == LocalSync::Kind::kGradients) {
    float* grads = trainer.model().grads().data();
    steps.gradients = [&, grads](std::int64_t) { group_.all_reduce_mean(member, grads, count); };
  }
  steps.after = [&](std::int64_t step) {
    if (hooks.replica_step) hooks.replica_step(member, step);
    if (averages_after(step)) group_.all_reduce_mean(member, params, count);
    if (leader && hooks.step.after) hooks.step.after(step);
  };
  steps.should_stop = [&] {
    const bool stop = leader && hooks.step.should_stop && hooks.step.should_stop();
    return share_decision(member, stop);
  };
  trainer.run(leader ? report : [](const Progress&) {}, steps);
}

void ReplicaGroup::run(const std::function<void(const Progress&)>& report,
                       const NodeHooks& hooks) {
  RUMOR_CHECK(!hooks.step.gradients, "NodeHooks::step.gradients belongs to the replica group");
  std::vector<std::exception_ptr> errors(size());
  const auto body = [&](int member) {
    try {
      run_replica(member, report, hooks);
    } catch (...) {
      errors[member] = std::current_exception();
      abort("replica " + std::to_string(member) + " failed: " + describe(errors[member]));
    }
  };
  std::vector<std::thread> followers;
  for (int m = 1; m < size(); ++m) {
    followers.emplace_back([&body, m] {
      name_this_thread("rumor-replica" + std::to_string(m));
      body(m);
    });
  }
  body(0);
  for (std::thread& t : followers) t.join();
  // The cause, not the aborts it set off in the other replicas.
  const auto cause = std::find_if(errors.begin(), errors.end(), [](const auto& e) {
    return e && !is_abort(e);
  });
  if (cause != errors.end()) std::rethrow_exception(*cause);
  for (const std::exception_ptr& e : errors) {
    if (e) std::rethrow_exception(e);
  }
}

}  // namespace rumor
