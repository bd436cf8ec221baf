// ReplicaGroup on real Fashion-MNIST subsets: replicas of one node stay bit-identical, their
// gradients really are averaged, the leader's mixing reaches every replica, they stop together,
// and a replica that fails releases the others instead of hanging them.
#include "train/replica_group.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <numeric>
#include <vector>

#include "kernels/cpu/cpu_backend.h"
#include "kernels/cpu/cpu_local_group.h"
#include "train/dataset.h"

namespace rumor {
namespace {

// A CpuLocalGroup whose member `failing` throws on its `fail_at`-th all-reduce (1-based), as
// a GPU falling off the bus would.
class FailingLocalGroup final : public LocalGroup {
 public:
  FailingLocalGroup(int size, int failing, int fail_at)
      : inner_(size), failing_(failing), fail_at_(fail_at) {}
  int size() const override { return inner_.size(); }
  std::string kind() const override { return "failing"; }
  void all_reduce_mean(int member, float* data, std::size_t n) override {
    if (member == failing_ && ++calls_ == fail_at_) throw Error("injected all-reduce failure");
    inner_.all_reduce_mean(member, data, n);
  }
  void broadcast(int member, float* data, std::size_t n, int root) override {
    inner_.broadcast(member, data, n, root);
  }
  void abort(const std::string& reason) noexcept override { inner_.abort(reason); }

 private:
  CpuLocalGroup inner_;
  int failing_;
  int fail_at_;
  int calls_ = 0;
};

class ReplicaGroupTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    TrainTestSplit split = load_fashion_mnist();
    slices_ = new std::vector<Dataset>{slice(split.train, 0, 2), slice(split.train, 1, 2)};
    test_ = new Dataset(split.test.head(500));
  }
  static void TearDownTestSuite() {
    delete slices_;
    delete test_;
  }
  // Every `of`-th example of the first 2400, starting at `first`.
  static Dataset slice(const Dataset& all, std::size_t first, std::size_t of) {
    std::vector<std::size_t> indices;
    for (std::size_t i = first; i < 2400; i += of) indices.push_back(i);
    return all.subset(indices);
  }
  static TrainOptions options(bool evaluate = true) {
    TrainOptions o;
    o.epochs = 1;
    o.batch = 64;
    o.warmup_steps = 5;
    o.evaluate = evaluate;
    return o;
  }

  // One replica per dataset, each on its own CPU backend; replica 0 evaluates.
  struct Node {
    std::vector<std::unique_ptr<CpuBackend>> backends;
    std::vector<std::unique_ptr<Trainer>> trainers;
    std::vector<Trainer*> pointers;
    Node(const std::vector<const Dataset*>& data, const Dataset& test, const Clock& clock) {
      for (std::size_t m = 0; m < data.size(); ++m) {
        backends.push_back(std::make_unique<CpuBackend>(1));
        trainers.push_back(std::make_unique<Trainer>(*backends.back(), options(m == 0),
                                                     *data[m], test, clock));
        pointers.push_back(trainers.back().get());
      }
    }
    std::vector<float> params(int m) const { return trainers[m]->model().params().to_host(); }
  };

  static std::vector<Dataset>* slices_;
  static Dataset* test_;
  SteadyClock clock_;
};

std::vector<Dataset>* ReplicaGroupTest::slices_ = nullptr;
Dataset* ReplicaGroupTest::test_ = nullptr;

TEST_F(ReplicaGroupTest, GradientSyncKeepsReplicasIdenticalAndAveragesTheirGradients) {
  Node node({&(*slices_)[0], &(*slices_)[1]}, *test_, clock_);
  CpuLocalGroup group(2);
  ReplicaGroup replicas(node.pointers, group, LocalSync{});
  std::vector<Progress> reports;
  replicas.run([&](const Progress& p) { reports.push_back(p); }, {});
  EXPECT_EQ(replicas.max_divergence(), 0.0);
  EXPECT_EQ(node.params(0), node.params(1));
  ASSERT_EQ(reports.size(), 1u) << "only the leader reports";
  EXPECT_GT(reports.back().test.accuracy, 0.6);

  // Each replica alone would end elsewhere: the update really used both slices' gradients.
  CpuBackend backend(1);
  Trainer alone(backend, options(), (*slices_)[0], *test_, clock_);
  alone.run([](const Progress&) {});
  EXPECT_NE(alone.model().params().to_host(), node.params(0));
}

TEST_F(ReplicaGroupTest, TwoReplicasOnTheSameDataTakeExactlyTheSoloSteps) {
  // mean(g, g) == g in floats, so two replicas on one slice must match one trainer bit for bit:
  // the all-reduce runs between backward and update and nothing else changes.
  Node node({&(*slices_)[0], &(*slices_)[0]}, *test_, clock_);
  CpuLocalGroup group(2);
  ReplicaGroup replicas(node.pointers, group, LocalSync{});
  replicas.run([](const Progress&) {}, {});
  CpuBackend backend(1);
  Trainer alone(backend, options(), (*slices_)[0], *test_, clock_);
  alone.run([](const Progress&) {});
  EXPECT_EQ(alone.model().params().to_host(), node.params(0));
  EXPECT_EQ(node.params(1), node.params(0));
}

TEST_F(ReplicaGroupTest, ParameterAveragingEndsIdentical) {
  Node node({&(*slices_)[0], &(*slices_)[1]}, *test_, clock_);
  CpuLocalGroup group(2);
  ReplicaGroup replicas(node.pointers, group, LocalSync::parse("params:4"));
  std::atomic<int> averaged_steps = 0;
  NodeHooks hooks;
  hooks.mix = [&](std::int64_t step) {
    EXPECT_EQ(step % 4, 0) << "params:4 mixes only where the replicas agree";
    ++averaged_steps;
    return false;
  };
  replicas.run([](const Progress&) {}, hooks);
  EXPECT_EQ(replicas.max_divergence(), 0.0) << "the last step is followed by an average";
  const std::int64_t steps = node.trainers[0]->total_steps();
  EXPECT_EQ(averaged_steps, (steps + 3) / 4);
}

TEST_F(ReplicaGroupTest, WhatTheLeaderMixesReachesEveryReplica) {
  Node node({&(*slices_)[0], &(*slices_)[1]}, *test_, clock_);
  Node unmixed({&(*slices_)[0], &(*slices_)[1]}, *test_, clock_);
  CpuLocalGroup group(2), other(2);
  // The "neighbour" halves the leader's parameters before step 3 (on the leader only).
  NodeHooks hooks;
  hooks.mix = [&](std::int64_t step) {
    if (step != 3) return false;
    Trainer& leader = *node.trainers[0];
    float* params = leader.model().params().data();
    leader.model().params().backend().axpby(leader.model().parameter_count(), 0.5f, params,
                                            0.0f, params);
    return true;
  };
  ReplicaGroup(node.pointers, group, LocalSync{}).run([](const Progress&) {}, hooks);
  ReplicaGroup(unmixed.pointers, other, LocalSync{}).run([](const Progress&) {}, {});
  EXPECT_EQ(node.params(1), node.params(0));
  EXPECT_NE(node.params(0), unmixed.params(0));
}

TEST_F(ReplicaGroupTest, EveryReplicaStopsAfterTheStepTheLeaderStopsAt) {
  Node node({&(*slices_)[0], &(*slices_)[1]}, *test_, clock_);
  CpuLocalGroup group(2);
  ReplicaGroup replicas(node.pointers, group, LocalSync{});
  NodeHooks hooks;
  hooks.step.should_stop = [&] { return node.trainers[0]->step() == 5; };
  replicas.run([](const Progress&) {}, hooks);
  EXPECT_EQ(node.trainers[0]->step(), 5);
  EXPECT_EQ(node.trainers[1]->step(), 5);
  // A later run continues both from there, in lock-step, to the end.
  replicas.run([](const Progress&) {}, {});
  EXPECT_EQ(node.trainers[1]->step(), node.trainers[1]->total_steps());
  EXPECT_EQ(replicas.max_divergence(), 0.0);
}

TEST_F(ReplicaGroupTest, CopyLeaderStateAlignsFollowers) {
  Node node({&(*slices_)[0], &(*slices_)[1]}, *test_, clock_);
  node.trainers[0]->run([](const Progress&) {}, {.before = {}, .after = {}, .should_stop = [&] {
    return node.trainers[0]->step() == 7;
  }});
  CpuLocalGroup group(2);
  ReplicaGroup replicas(node.pointers, group, LocalSync{});
  replicas.copy_leader_state();
  EXPECT_EQ(node.trainers[1]->step(), 7);
  EXPECT_EQ(replicas.max_divergence(), 0.0);
}

TEST_F(ReplicaGroupTest, AFailingReplicaReleasesTheOthersAndItsErrorIsRethrown) {
  for (const int failing : {0, 1}) {
    Node node({&(*slices_)[0], &(*slices_)[1]}, *test_, clock_);
    FailingLocalGroup group(2, failing, 10);
    ReplicaGroup replicas(node.pointers, group, LocalSync{});
    try {
      replicas.run([](const Progress&) {}, {});
      FAIL() << "a run whose replica " << failing << " failed returned normally";
    } catch (const BarrierAborted& e) {
      FAIL() << "the abort was rethrown instead of its cause: " << e.what();
    } catch (const Error& e) {
      EXPECT_THAT(e.what(), ::testing::HasSubstr("injected all-reduce failure"));
    }
    // The leader holds the state after its last completed step: nine updates.
    EXPECT_EQ(node.trainers[0]->step(), 9) << "failing replica " << failing;
  }
}

TEST(LocalSync, ParsesBothModesAndRejectsTheRest) {
  EXPECT_EQ(LocalSync::parse("gradients").kind, LocalSync::Kind::kGradients);
  const LocalSync p = LocalSync::parse("params:8");
  EXPECT_EQ(p.kind, LocalSync::Kind::kParameters);
  EXPECT_EQ(p.every, 8);
  EXPECT_EQ(p.to_string(), "params:8");
  for (const char* bad : {"", "params", "params:", "params:0", "params:-2", "params:3x", "grads"}) {
    EXPECT_THROW(LocalSync::parse(bad), ConfigError) << bad;
  }
}

}  // namespace
}  // namespace rumor
