// Resuming a run from a checkpoint on the CPU backend: stopping at any step, saving, and
// finishing in a fresh trainer gives bit-identical parameters, velocity and progress reports
// to the uninterrupted run. Also: early stop, checkpoints of other runs rejected by option
// name, and PeriodicCheckpointer's schedule.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>

#include "core/error.h"
#include "kernels/cpu/cpu_backend.h"
#include "test_files.h"
#include "train/checkpoint_store.h"
#include "train/dataset.h"
#include "train/periodic_checkpointer.h"
#include "train/trainer.h"

namespace rumor {
namespace {

using testing_files::TempDir;

bool bitwise_equal(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// Everything of a report except timings (the clock is a ManualClock that never moves).
void expect_same_report(const Progress& a, const Progress& b) {
  EXPECT_EQ(a.epoch, b.epoch);
  EXPECT_EQ(a.step, b.step);
  EXPECT_EQ(a.total_steps, b.total_steps);
  EXPECT_EQ(a.train_loss, b.train_loss) << "step " << a.step;
  EXPECT_EQ(a.lr, b.lr);
  EXPECT_EQ(a.test.loss, b.test.loss) << "step " << a.step;
  EXPECT_EQ(a.test.accuracy, b.test.accuracy);
  EXPECT_EQ(a.final, b.final);
}

class TrainerResumeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    TrainTestSplit split = load_fashion_mnist();
    train_ = new Dataset(split.train.head(1280));  // 10 steps per epoch at batch 128
    test_ = new Dataset(split.test.head(500));
  }
  static void TearDownTestSuite() {
    delete train_;
    delete test_;
  }
  static TrainOptions options() {
    TrainOptions o;
    o.model = "784-64-32-10";
    o.epochs = 3;
    o.warmup_steps = 5;
    o.eval_every = 4;  // reports mid-epoch too: steps 4, 8, 10, 12, 16, 20, 24, 28, 30
    o.seed = 7;
    return o;
  }
  std::unique_ptr<Trainer> make(CpuBackend& backend, const TrainOptions& o = options()) {
    return std::make_unique<Trainer>(backend, o, *train_, *test_, clock_);
  }

  static Dataset* train_;
  static Dataset* test_;
  ManualClock clock_;
};

Dataset* TrainerResumeTest::train_ = nullptr;
Dataset* TrainerResumeTest::test_ = nullptr;

TEST_F(TrainerResumeTest, ResumedRunIsBitIdenticalToTheUninterruptedRun) {
  CpuBackend backend_a(1);
  auto whole = make(backend_a);
  std::vector<Progress> whole_reports;
  whole->run([&](const Progress& p) { whole_reports.push_back(p); });
  ASSERT_EQ(whole->step(), 30);
  const auto params = whole->model().params().to_host();
  const auto velocity = whole->optimizer().velocity().to_host();

  // Mid-interval, at a periodic report, at an epoch end, mid-epoch after it, at the end.
  for (std::int64_t stop_at : {3, 8, 10, 17, 30}) {
    SCOPED_TRACE("stopped after step " + std::to_string(stop_at));
    TempDir dir;
    CheckpointStore store(dir.path());
    {
      CpuBackend backend(1);
      auto first = make(backend);
      Checkpoint in_hook;
      StepHooks hooks;
      hooks.after = [&](std::int64_t step) {
        if (step + 1 == stop_at) in_hook = first->checkpoint(2);
      };
      hooks.should_stop = [&] { return first->step() == stop_at; };
      first->run([](const Progress&) {}, hooks);
      ASSERT_EQ(first->step(), stop_at);
      const Checkpoint after_stop = first->checkpoint(2);
      EXPECT_EQ(in_hook, after_stop);  // a snapshot in `after` is the state after the step
      EXPECT_EQ(after_stop.rank, 2);
      store.save(after_stop);
    }
    CpuBackend backend(1);
    auto second = make(backend);
    const CheckpointScan scan = store.load_newest_valid();
    ASSERT_TRUE(scan.newest);
    second->restore(*scan.newest);
    EXPECT_EQ(second->step(), stop_at);
    std::vector<Progress> reports;
    second->run([&](const Progress& p) { reports.push_back(p); });

    EXPECT_TRUE(bitwise_equal(second->model().params().to_host(), params));
    EXPECT_TRUE(bitwise_equal(second->optimizer().velocity().to_host(), velocity));
    std::vector<Progress> expected;
    for (const Progress& p : whole_reports) {
      if (p.step > stop_at) expected.push_back(p);
    }
    ASSERT_EQ(reports.size(), expected.size());
    for (std::size_t i = 0; i < reports.size(); ++i) expect_same_report(reports[i], expected[i]);
  }
}

TEST_F(TrainerResumeTest, StoppedRunContinuesWithRunAgain) {
  CpuBackend backend_a(1);
  auto whole = make(backend_a);
  whole->run([](const Progress&) {});
  CpuBackend backend_b(1);
  auto stopped = make(backend_b);
  std::vector<std::int64_t> reported;
  StepHooks hooks;
  hooks.should_stop = [&] { return stopped->step() == 13; };
  stopped->run([&](const Progress& p) { reported.push_back(p.step); }, hooks);
  EXPECT_EQ(stopped->step(), 13);
  EXPECT_EQ(reported, (std::vector<std::int64_t>{4, 8, 10, 12}));
  stopped->run([](const Progress&) {});
  EXPECT_EQ(stopped->step(), 30);
  EXPECT_TRUE(bitwise_equal(stopped->model().params().to_host(),
                            whole->model().params().to_host()));
  stopped->run([](const Progress&) { ADD_FAILURE() << "a finished run reports nothing"; });
}

void expect_config_error(const std::function<void()>& action, const std::string& phrase) {
  try {
    action();
    FAIL() << "expected ConfigError containing " << phrase;
  } catch (const ConfigError& error) {
    EXPECT_NE(std::string(error.what()).find(phrase), std::string::npos) << error.what();
  }
}

TEST_F(TrainerResumeTest, RestoreRejectsCheckpointsOfOtherRuns) {
  CpuBackend backend(1);
  auto trainer = make(backend);
  StepHooks hooks;
  hooks.should_stop = [&] { return trainer->step() == 5; };
  trainer->run([](const Progress&) {}, hooks);
  const Checkpoint good = trainer->checkpoint(0);

  const auto restore_into = [&](auto change_options) {
    return [&, change_options] {
      TrainOptions o = options();
      change_options(o);
      CpuBackend other_backend(1);
      make(other_backend, o)->restore(good);
    };
  };
  expect_config_error(restore_into([](TrainOptions& o) { o.model = "784-32-10"; }), "--model");
  expect_config_error(restore_into([](TrainOptions& o) { o.seed = 8; }), "--seed");
  expect_config_error(restore_into([](TrainOptions& o) { o.batch = 64; }), "--batch");
  expect_config_error(restore_into([](TrainOptions& o) { o.epochs = 4; }), "--epochs");
  expect_config_error([&] {
    CpuBackend other_backend(1);
    Trainer(other_backend, options(), train_->head(1200), *test_, clock_).restore(good);
  }, "training set");

  CpuBackend fresh_backend(1);
  auto fresh = make(fresh_backend);
  const auto initial = fresh->model().params().to_host();
  Checkpoint bad = good;
  bad.velocity.pop_back();
  EXPECT_THROW(fresh->restore(bad), DataError);
  bad = good;
  bad.model = "784-x";
  EXPECT_THROW(fresh->restore(bad), DataError);
  EXPECT_EQ(fresh->step(), 0);  // unchanged by the failed restores
  EXPECT_TRUE(bitwise_equal(fresh->model().params().to_host(), initial));
}

TEST_F(TrainerResumeTest, PeriodicCheckpointerSavesEveryNStepsAndAtTheEnd) {
  TempDir dir;
  CheckpointStore store(dir.path(), 100);
  CpuBackend backend(1);
  TrainOptions o = options();
  o.epochs = 1;
  auto trainer = make(backend, o);
  EXPECT_THROW(PeriodicCheckpointer(*trainer, store, 0, -1), ConfigError);
  PeriodicCheckpointer saver(*trainer, store, 0, 4);
  StepHooks hooks;
  hooks.after = [&](std::int64_t) { saver.after_step(); };
  trainer->run([](const Progress&) {}, hooks);
  EXPECT_EQ(saver.last_saved_step(), 8);
  ASSERT_TRUE(saver.save_now());
  EXPECT_FALSE(saver.save_now());  // step 10 is already on disk
  std::vector<std::int64_t> steps;
  for (const auto& path : store.list()) steps.push_back(*CheckpointStore::step_of(path.filename()));
  EXPECT_EQ(steps, (std::vector<std::int64_t>{4, 8, 10}));
  EXPECT_EQ(store.load_newest_valid().newest, trainer->checkpoint(0));
}

}  // namespace
}  // namespace rumor
