#include "train/optimizer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "kernels/cpu/cpu_backend.h"

namespace rumor {
namespace {

TEST(LrSchedule, WarmsUpLinearlyThenDecaysByCosineToZero) {
  const LrSchedule schedule(0.1f, 10, 110);
  EXPECT_FLOAT_EQ(schedule.at(0), 0.01f);
  EXPECT_FLOAT_EQ(schedule.at(4), 0.05f);
  EXPECT_FLOAT_EQ(schedule.at(9), 0.1f);
  EXPECT_FLOAT_EQ(schedule.at(10), 0.1f);
  EXPECT_NEAR(schedule.at(60), 0.05f, 1e-6);  // half-way through the decay
  EXPECT_NEAR(schedule.at(109), 0.1 * 0.5 * (1 + std::cos(M_PI * 99.0 / 100.0)), 1e-7);
  EXPECT_NEAR(schedule.at(110), 0.0f, 1e-9);
  for (int s = 10; s < 110; ++s) EXPECT_LE(schedule.at(s + 1), schedule.at(s));
}

TEST(LrSchedule, NoWarmupStartsAtPeak) {
  const LrSchedule schedule(0.5f, 0, 100);
  EXPECT_FLOAT_EQ(schedule.at(0), 0.5f);
}

// Two steps of Nesterov SGD with weight decay, checked against the formula by hand.
TEST(Sgd, MatchesTorchFormulaOverTwoSteps) {
  CpuBackend backend;
  Sgd sgd(backend, 2, SgdConfig{0.0f, 0.9f, 0.1f, true});
  std::vector<float> p = {1.0f, -2.0f};
  const std::vector<float> g = {0.5f, 0.25f};
  double ref_p[2] = {1.0, -2.0}, ref_v[2] = {0, 0};
  for (int step = 0; step < 2; ++step) {
    const float lr = step == 0 ? 0.1f : 0.05f;
    sgd.step(p.data(), g.data(), lr);
    for (int i = 0; i < 2; ++i) {
      const double gi = g[i] + 0.1 * ref_p[i];
      ref_v[i] = 0.9 * ref_v[i] + gi;
      ref_p[i] -= lr * (gi + 0.9 * ref_v[i]);
    }
  }
  EXPECT_NEAR(p[0], ref_p[0], 1e-6);
  EXPECT_NEAR(p[1], ref_p[1], 1e-6);
}

}  // namespace
}  // namespace rumor
