// push_sum_rule_test.cc — PushSumRule's arithmetic edge cases, driven directly (no engine).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "gossip/rules.h"
#include "kernels/cpu/cpu_backend.h"

namespace rumor {
namespace {

// A peer whose neighbours take its shares and never send any back (idle peers) halves its
// weight every round until it is subnormal; 1/(w + Σ w_j) then overflows. Mixing must still
// give finite parameters: here every value is 1, so the result is 1.
TEST(PushSumRule, SubnormalWeightsStayFinite) {
  constexpr std::size_t n = 5;
  PushSumRule rule(n, /*robust=*/false);
  MessageFactory factory({1, model_fingerprint("push-sum-rule-test", n), 1, 1});
  BufferPool pool;
  MessageMaker maker{factory, pool, WireDType::kFloat32, false, nullptr};
  const std::vector<float> ones(n, 1.0f);
  for (int round = 0; round < 1060; ++round) (void)rule.outgoing(ones, {0}, round, maker);
  ASSERT_GT(rule.weight(), 0.0);
  ASSERT_LT(rule.weight(), 1e-308) << "the weight should be subnormal by now";

  Message in = factory.make_floats(MessageType::kParams, 1, ones, WireDType::kFloat32, pool);
  in.header.sender = 0;
  in.header.weight = rule.weight() / 4;
  (void)rule.receive(Incoming{in, 1.0}, 1, maker);
  CpuBackend backend(1);
  std::vector<float> params = ones;
  EXPECT_EQ(rule.apply(backend, params.data()).applied, 1);
  for (float v : params) EXPECT_NEAR(v, 1.0f, 1e-3f);
}

}  // namespace
}  // namespace rumor
