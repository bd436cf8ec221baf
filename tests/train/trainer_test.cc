// The training loop on real Fashion-MNIST subsets: it learns, it is deterministic, and it
// rejects bad options by name.
#include "train/trainer.h"

#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <memory>

#include "core/error.h"
#include "kernels/cpu/cpu_backend.h"
#include "train/dataset.h"

namespace rumor {
namespace {

class TrainerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    TrainTestSplit split = load_fashion_mnist();
    train_ = new Dataset(split.train.head(6000));
    test_ = new Dataset(split.test.head(2000));
  }
  static void TearDownTestSuite() {
    delete train_;
    delete test_;
  }
  static TrainOptions small_options() {
    TrainOptions options;
    options.epochs = 2;
    options.warmup_steps = 20;
    return options;
  }

  static Dataset* train_;
  static Dataset* test_;
  SteadyClock clock_;
};

Dataset* TrainerTest::train_ = nullptr;
Dataset* TrainerTest::test_ = nullptr;

TEST_F(TrainerTest, LearnsFashionMnistSubset) {
  CpuBackend backend(1);
  Trainer trainer(backend, small_options(), *train_, *test_, clock_);
  const Evaluation before = trainer.evaluate();
  std::vector<Progress> reports;
  trainer.run([&](const Progress& p) { reports.push_back(p); });
  ASSERT_EQ(reports.size(), 2u);  // one per epoch
  EXPECT_TRUE(reports.back().final);
  EXPECT_EQ(reports.back().step, 2 * (6000 / 128));
  EXPECT_LT(reports.back().train_loss, reports.front().train_loss);
  EXPECT_LT(reports.back().test.loss, before.loss);
  // 6000 examples, 2 epochs: a 784-256-128-10 MLP reaches ~0.8; chance is 0.1.
  EXPECT_GT(reports.back().test.accuracy, 0.75);
  EXPECT_GT(reports.back().samples_per_second, 0.0);
}

// Same seed and thread count → bitwise identical parameters; another seed → different ones.
TEST_F(TrainerTest, SameSeedAndThreadsGiveBitwiseIdenticalParameters) {
  TrainOptions options = small_options();
  options.epochs = 1;
  for (int threads : {1, 2}) {
    const auto train_params = [&](std::uint64_t seed) {
      CpuBackend backend(threads);
      options.seed = seed;
      Trainer trainer(backend, options, *train_, *test_, clock_);
      trainer.run([](const Progress&) {});
      return trainer.model().params().to_host();
    };
    const auto a = train_params(5);
    const auto b = train_params(5);
    const auto c = train_params(6);
    ASSERT_EQ(a.size(), b.size());
    EXPECT_EQ(0, std::memcmp(a.data(), b.data(), a.size() * sizeof(float))) << threads;
    EXPECT_NE(0, std::memcmp(a.data(), c.data(), a.size() * sizeof(float))) << threads;
  }
}

TEST_F(TrainerTest, PeriodicEvaluationReportsEveryNSteps) {
  CpuBackend backend(1);
  TrainOptions options = small_options();
  options.epochs = 1;
  options.eval_every = 10;
  Trainer trainer(backend, options, *train_, *test_, clock_);
  std::vector<std::int64_t> steps;
  trainer.run([&](const Progress& p) { steps.push_back(p.step); });
  ASSERT_EQ(steps.size(), 5u);  // 10, 20, 30, 40 and the epoch end at 46
  EXPECT_EQ(steps[0], 10);
  EXPECT_EQ(steps.back(), 46);
}

void expect_config_error(const std::function<void()>& make, const std::string& flag) {
  try {
    make();
    FAIL() << "expected ConfigError naming " << flag;
  } catch (const ConfigError& error) {
    EXPECT_NE(std::string(error.what()).find(flag), std::string::npos) << error.what();
  }
}

TEST_F(TrainerTest, RejectsBadOptionsByName) {
  CpuBackend backend(1);
  const auto with = [&](auto change) {
    return [&, change] {
      TrainOptions options = small_options();
      change(options);
      Trainer trainer(backend, options, *train_, *test_, clock_);
    };
  };
  expect_config_error(with([](TrainOptions& o) { o.epochs = 0; }), "--epochs");
  expect_config_error(with([](TrainOptions& o) { o.batch = 0; }), "--batch");
  expect_config_error(with([](TrainOptions& o) { o.batch = 10000; }), "--batch");
  expect_config_error(with([](TrainOptions& o) { o.lr = -1; }), "--lr");
  expect_config_error(with([](TrainOptions& o) { o.momentum = 1.0f; }), "--momentum");
  expect_config_error(with([](TrainOptions& o) { o.weight_decay = -1; }), "--weight-decay");
  expect_config_error(with([](TrainOptions& o) { o.model = "784-x-10"; }), "model");
  expect_config_error(with([](TrainOptions& o) { o.model = "100-10"; }), "--model");
  expect_config_error(with([](TrainOptions& o) { o.model = "784-32-7"; }), "--model");
}

}  // namespace
}  // namespace rumor
