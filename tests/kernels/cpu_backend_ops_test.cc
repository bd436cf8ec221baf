// cpu_backend_ops_test.cc — every math op of CpuBackend against plain double-precision loops
// written here, on seeded random inputs of odd sizes, with outputs poisoned (NaN) first so an
// unwritten element fails, and guard elements around elementwise outputs so an overrun fails.
//
// Tolerances are `abs + rel * |reference|` and are stated next to each test with the reason.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "kernels/cpu/cpu_backend.h"
#include "tests/kernels/kernel_test_util.h"

namespace rumor {
namespace {

using namespace kernel_test;  // NOLINT(google-build-using-namespace): test helpers only

class CpuOps : public ::testing::Test {
 protected:
  CpuBackend backend_{1};
  Rng rng_{20240611};
};

// --- gemm ---

// C = alpha * op(A) op(B) + beta * C in double; C is not read when beta == 0 (BLAS rule).
std::vector<double> gemm_reference(Transpose ta, Transpose tb, int m, int n, int k, double alpha,
                                   const std::vector<float>& a, const std::vector<float>& b,
                                   double beta, const std::vector<float>& c) {
  std::vector<double> out(static_cast<std::size_t>(m) * n);
  for (int i = 0; i < m; ++i) {
    for (int j = 0; j < n; ++j) {
      double sum = 0.0;
      for (int p = 0; p < k; ++p) {
        const double aip = ta == Transpose::kNo ? a[i * k + p] : a[p * m + i];
        const double bpj = tb == Transpose::kNo ? b[p * n + j] : b[j * k + p];
        sum += aip * bpj;
      }
      out[i * n + j] = alpha * sum + (beta == 0.0 ? 0.0 : beta * c[i * n + j]);
    }
  }
  return out;
}

// Inputs in [-1, 1), k <= 65, |alpha| <= 2: float rounding of a k-term dot product stays far
// below 1e-4 absolute; the relative term covers the larger sums.
constexpr Tolerance kGemmTol{1e-4, 1e-5};

TEST_F(CpuOps, GemmMatchesReferenceForAllShapesTransposesAndScalars) {
  const std::vector<int> dims{1, 7, 13, 31, 65};
  struct Scalars {
    float alpha, beta;
  };
  const std::vector<Scalars> scalars{{1.0f, 0.0f}, {0.5f, -1.5f}, {-2.0f, 0.25f}, {1.0f, 1.0f}};
  int cases = 0;
  for (const Transpose ta : {Transpose::kNo, Transpose::kYes}) {
    for (const Transpose tb : {Transpose::kNo, Transpose::kYes}) {
      for (const int m : dims) {
        for (const int n : dims) {
          for (const int k : dims) {
            const auto a = random_uniform(rng_, static_cast<std::size_t>(m) * k, -1, 1);
            const auto b = random_uniform(rng_, static_cast<std::size_t>(k) * n, -1, 1);
            const auto c = random_uniform(rng_, static_cast<std::size_t>(m) * n, -1, 1);
            const auto da = to_device(backend_, a);
            const auto db = to_device(backend_, b);
            for (const auto [alpha, beta] : scalars) {
              // With beta == 0 the output is poisoned: C must be neither read nor left unwritten.
              auto dc = beta == 0.0f ? poisoned<float>(backend_, c.size()) : to_device(backend_, c);
              backend_.gemm(ta, tb, m, n, k, alpha, da.data(), db.data(), beta, dc.data());
              EXPECT_TRUE(all_close(dc, gemm_reference(ta, tb, m, n, k, alpha, a, b, beta, c),
                                    kGemmTol))
                  << "trans_a=" << (ta == Transpose::kYes) << " trans_b=" << (tb == Transpose::kYes)
                  << " m=" << m << " n=" << n << " k=" << k << " alpha=" << alpha
                  << " beta=" << beta;
              ++cases;
            }
          }
        }
      }
    }
  }
  EXPECT_EQ(cases, 4 * 125 * 4);
}

TEST_F(CpuOps, GemmWithEmptyInnerDimensionScalesC) {
  // k == 0: op(A)·op(B) is the zero matrix, so C = beta * C.
  for (const Transpose ta : {Transpose::kNo, Transpose::kYes}) {
    for (const Transpose tb : {Transpose::kNo, Transpose::kYes}) {
      const auto c = random_uniform(rng_, 3 * 5, -1, 1);
      auto dc = to_device(backend_, c);
      DeviceArray<float> a(backend_, 1), b(backend_, 1);
      backend_.gemm(ta, tb, 3, 5, 0, 1.0f, a.data(), b.data(), -0.5f, dc.data());
      std::vector<double> expected(c.begin(), c.end());
      for (auto& v : expected) v *= -0.5;
      EXPECT_TRUE(all_close(dc, expected, kOneRounding));
    }
  }
}

// --- add_bias / bias_grad ---

struct Shape {
  int rows, cols;
};
const std::vector<Shape> kMatrixShapes{{1, 1}, {1, 7}, {3, 10}, {17, 33}, {128, 10}, {5, 257}};

TEST_F(CpuOps, AddBiasAddsTheRowVectorToEveryRow) {
  // One float addition per element: exact up to one rounding.
  for (const auto [rows, cols] : kMatrixShapes) {
    const auto y = random_normal(rng_, static_cast<std::size_t>(rows) * cols, 1.0);
    const auto bias = random_normal(rng_, cols, 1.0);
    auto dy = to_device(backend_, y);
    const auto dbias = to_device(backend_, bias);
    backend_.add_bias(dy.data(), dbias.data(), rows, cols);
    std::vector<double> expected(y.size());
    for (int r = 0; r < rows; ++r) {
      for (int c = 0; c < cols; ++c) expected[r * cols + c] = double{y[r * cols + c]} + bias[c];
    }
    EXPECT_TRUE(all_close(dy, expected, kOneRounding)) << rows << "x" << cols;
    EXPECT_EQ(dbias.to_host(), bias) << "bias must not change";
  }
}

TEST_F(CpuOps, BiasGradOverwritesWithColumnSums) {
  // Float sums of <= 128 N(0,1) terms: rounding error well below 1e-4.
  constexpr Tolerance kTol{1e-4, 1e-5};
  for (const auto [rows, cols] : kMatrixShapes) {
    const auto dy = random_normal(rng_, static_cast<std::size_t>(rows) * cols, 1.0);
    const auto ddy = to_device(backend_, dy);
    auto dbias = poisoned<float>(backend_, cols);  // NaN: accumulating into it would fail
    backend_.bias_grad(ddy.data(), rows, cols, dbias.data());
    std::vector<double> expected(cols, 0.0);
    for (int r = 0; r < rows; ++r) {
      for (int c = 0; c < cols; ++c) expected[c] += dy[r * cols + c];
    }
    EXPECT_TRUE(all_close(dbias, expected, kTol)) << rows << "x" << cols;
  }
}

// --- relu / relu_backward (exact: selections only) ---

std::vector<double> relu_reference(const std::vector<float>& x) {
  std::vector<double> y(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) y[i] = x[i] > 0.0f ? x[i] : 0.0;
  return y;
}

TEST_F(CpuOps, ReluClampsNegativesToZero) {
  for (const std::size_t n : kOddSizes) {
    auto x = random_normal(rng_, n, 1.0);
    x[0] = 0.0f;
    if (n > 1) x[1] = -0.0f;
    GuardedArray dx(backend_, x);
    GuardedArray dy(backend_, n);
    backend_.relu(dx.data(), dy.data(), n);
    EXPECT_TRUE(all_close(dy, relu_reference(x), kExact)) << "n=" << n;
    EXPECT_TRUE(dy.guards_intact()) << "n=" << n;
    EXPECT_TRUE(all_close(dx, x, kExact)) << "input must not change, n=" << n;
  }
}

TEST_F(CpuOps, ReluInPlace) {
  for (const std::size_t n : kOddSizes) {
    const auto x = random_normal(rng_, n, 1.0);
    GuardedArray dx(backend_, x);
    backend_.relu(dx.data(), dx.data(), n);
    EXPECT_TRUE(all_close(dx, relu_reference(x), kExact)) << "n=" << n;
    EXPECT_TRUE(dx.guards_intact()) << "n=" << n;
  }
}

TEST_F(CpuOps, ReluBackwardPassesGradientWhereOutputIsPositive) {
  for (const bool in_place : {false, true}) {
    for (const std::size_t n : kOddSizes) {
      std::vector<float> y(n);
      const auto x = random_normal(rng_, n, 1.0);
      for (std::size_t i = 0; i < n; ++i) y[i] = std::max(x[i], 0.0f);  // a relu output
      const auto dy = random_normal(rng_, n, 1.0);
      std::vector<double> expected(n);
      for (std::size_t i = 0; i < n; ++i) expected[i] = y[i] > 0.0f ? dy[i] : 0.0;

      GuardedArray d_y(backend_, y);
      GuardedArray d_dy(backend_, dy);
      GuardedArray d_dx(backend_, n);
      GuardedArray& out = in_place ? d_dy : d_dx;
      backend_.relu_backward(d_y.data(), d_dy.data(), out.data(), n);
      EXPECT_TRUE(all_close(out, expected, kExact)) << "n=" << n << " in_place=" << in_place;
      EXPECT_TRUE(out.guards_intact()) << "n=" << n << " in_place=" << in_place;
    }
  }
}

// --- softmax_cross_entropy ---

struct SoftmaxReference {
  std::vector<double> losses, dlogits;
};

SoftmaxReference softmax_reference(const std::vector<float>& logits,
                                   const std::vector<std::int32_t>& labels, int rows,
                                   int classes, double grad_scale) {
  SoftmaxReference ref{std::vector<double>(rows),
                       std::vector<double>(static_cast<std::size_t>(rows) * classes)};
  for (int r = 0; r < rows; ++r) {
    const float* z = logits.data() + static_cast<std::size_t>(r) * classes;
    double max_z = z[0];
    for (int c = 1; c < classes; ++c) max_z = std::max(max_z, double{z[c]});
    double sum = 0.0;
    for (int c = 0; c < classes; ++c) sum += std::exp(z[c] - max_z);
    const double lse = max_z + std::log(sum);
    ref.losses[r] = lse - z[labels[r]];
    for (int c = 0; c < classes; ++c) {
      ref.dlogits[r * classes + c] =
          grad_scale * (std::exp(z[c] - lse) - (c == labels[r] ? 1.0 : 0.0));
    }
  }
  return ref;
}

// Runs the op with poisoned outputs and compares losses and (if wanted) dlogits.
void check_softmax(Backend& backend, const std::vector<float>& logits,
                   const std::vector<std::int32_t>& labels, int rows, int classes,
                   float grad_scale, bool with_dlogits, Tolerance loss_tol, Tolerance grad_tol) {
  const auto dlogits_in = to_device(backend, logits);
  const auto dlabels = to_device(backend, labels);
  auto losses = poisoned<float>(backend, rows);
  auto dlogits = poisoned<float>(backend, logits.size());
  backend.softmax_cross_entropy(dlogits_in.data(), dlabels.data(), rows, classes, grad_scale,
                                losses.data(), with_dlogits ? dlogits.data() : nullptr);
  const auto ref = softmax_reference(logits, labels, rows, classes, grad_scale);
  const std::string where = std::to_string(rows) + "x" + std::to_string(classes) +
                            " grad_scale=" + std::to_string(grad_scale);
  EXPECT_TRUE(all_close(losses, ref.losses, loss_tol)) << where;
  if (with_dlogits) {
    EXPECT_TRUE(all_close(dlogits, ref.dlogits, grad_tol)) << where;
  } else {
    EXPECT_TRUE(still_poisoned(dlogits.to_host())) << "nothing may be written: " << where;
  }
  EXPECT_EQ(dlogits_in.to_host(), logits) << "logits must not change: " << where;
}

// Logits ~ N(0, 3): losses are O(10); float exp/log sums lose a few ulps.
constexpr Tolerance kLossTol{1e-5, 1e-5};
constexpr Tolerance kGradTol{1e-6, 1e-5};

TEST_F(CpuOps, SoftmaxCrossEntropyLossesAndScaledGradients) {
  for (const Shape shape : {Shape{1, 1}, Shape{1, 10}, Shape{3, 3}, Shape{17, 10},
                            Shape{128, 10}, Shape{5, 33}, Shape{2, 1000}}) {
    const auto [rows, classes] = shape;
    const auto logits = random_normal(rng_, static_cast<std::size_t>(rows) * classes, 3.0);
    const auto labels = random_labels(rng_, rows, classes);
    for (const float grad_scale : {1.0f, 1.0f / static_cast<float>(rows), 2.5f}) {
      check_softmax(backend_, logits, labels, rows, classes, grad_scale, true, kLossTol,
                    kGradTol);
    }
  }
}

TEST_F(CpuOps, SoftmaxCrossEntropyWithoutGradientWritesOnlyLosses) {
  const int rows = 17, classes = 10;
  const auto logits = random_normal(rng_, rows * classes, 3.0);
  check_softmax(backend_, logits, random_labels(rng_, rows, classes), rows, classes, 1.0f,
                false, kLossTol, kGradTol);
}

TEST_F(CpuOps, SoftmaxCrossEntropyDoesNotOverflowOnLargeLogits) {
  // Rows around +1000 and -1000 (exp would overflow / underflow without max subtraction).
  // Losses are differences of numbers near 1000, where one float ulp is 6.1e-5: abs 2e-4.
  const int rows = 6, classes = 10;
  std::vector<float> logits(rows * classes);
  for (int c = 0; c < classes; ++c) {
    logits[0 * classes + c] = 1000.0f + static_cast<float>(rng_.normal());  // all large
    logits[1 * classes + c] = -1000.0f + static_cast<float>(rng_.normal());  // all very negative
    logits[2 * classes + c] = c % 2 == 0 ? 1000.0f : -1000.0f;               // extreme spread
    logits[3 * classes + c] = 1000.0f;                                       // all equal
    logits[4 * classes + c] = c == 3 ? 1000.0f : 0.0f;                       // one dominant
    logits[5 * classes + c] = 88.0f + static_cast<float>(c);  // exp(z) alone overflows float
  }
  const std::vector<std::int32_t> labels{0, 9, 1, 4, 3, 2};
  for (const bool with_dlogits : {true, false}) {
    check_softmax(backend_, logits, labels, rows, classes, 0.5f, with_dlogits,
                  Tolerance{2e-4, 1e-5}, Tolerance{1e-5, 1e-4});
  }
}

// --- argmax_rows ---

TEST_F(CpuOps, ArgmaxRowsPicksFirstIndexOnTies) {
  for (const Shape shape : {Shape{1, 1}, Shape{5, 2}, Shape{7, 3}, Shape{128, 10},
                            Shape{3, 33}, Shape{2, 1000}}) {
    const auto [rows, cols] = shape;
    for (const float offset : {0.0f, -10.0f}) {  // -10: all negative, no element is 0
      // Values from a small integer set, so most rows have ties for the maximum.
      std::vector<float> x(static_cast<std::size_t>(rows) * cols);
      for (auto& v : x) v = offset + static_cast<float>(rng_.below(4));
      std::vector<std::int32_t> expected(rows);
      for (int r = 0; r < rows; ++r) {
        int best = 0;
        for (int c = 1; c < cols; ++c) {
          if (x[r * cols + c] > x[r * cols + best]) best = c;
        }
        expected[r] = best;
      }
      const auto dx = to_device(backend_, x);
      auto out = poisoned<std::int32_t>(backend_, rows);
      backend_.argmax_rows(dx.data(), rows, cols, out.data());
      EXPECT_TRUE(all_equal(out, expected)) << rows << "x" << cols << " offset " << offset;
    }
  }
}

// --- axpby ---

struct AxpbyScalars {
  float a, b;
};
const std::vector<AxpbyScalars> kAxpbyScalars{
    {0.5f, 0.5f}, {1.25f, -0.75f}, {0.0f, 1.0f}, {1.0f, 0.0f}, {-2.0f, 0.3f}};
// Two products and a sum of values <= ~6 in magnitude: a few float roundings.
constexpr Tolerance kAxpbyTol{1e-6, 1e-6};

TEST_F(CpuOps, AxpbyMixesXIntoY) {
  for (const auto [a, b] : kAxpbyScalars) {
    for (const std::size_t n : kOddSizes) {
      const auto x = random_normal(rng_, n, 1.0);
      const auto y = random_normal(rng_, n, 1.0);
      std::vector<double> expected(n);
      for (std::size_t i = 0; i < n; ++i) expected[i] = double{a} * x[i] + double{b} * y[i];
      GuardedArray dx(backend_, x);
      GuardedArray dy(backend_, y);
      backend_.axpby(n, a, dx.data(), b, dy.data());
      EXPECT_TRUE(all_close(dy, expected, kAxpbyTol)) << "n=" << n << " a=" << a << " b=" << b;
      EXPECT_TRUE(dy.guards_intact()) << "n=" << n;
      EXPECT_TRUE(all_close(dx, x, kExact)) << "x must not change, n=" << n;
    }
  }
}

TEST_F(CpuOps, AxpbyWithXAliasingY) {
  for (const auto [a, b] : kAxpbyScalars) {
    for (const std::size_t n : kOddSizes) {
      const auto y = random_normal(rng_, n, 1.0);
      std::vector<double> expected(n);
      for (std::size_t i = 0; i < n; ++i) expected[i] = double{a} * y[i] + double{b} * y[i];
      GuardedArray dy(backend_, y);
      backend_.axpby(n, a, dy.data(), b, dy.data());
      EXPECT_TRUE(all_close(dy, expected, kAxpbyTol)) << "n=" << n << " a=" << a << " b=" << b;
      EXPECT_TRUE(dy.guards_intact()) << "n=" << n;
    }
  }
}

// --- sgd_update ---

// torch.optim.SGD (dampening 0) in double; the velocity starts as given (zero = fresh).
struct SgdReference {
  std::vector<double> params, velocity;
  void step(const SgdConfig& config, const std::vector<float>& grads) {
    for (std::size_t i = 0; i < params.size(); ++i) {
      const double g = double{grads[i]} + double{config.weight_decay} * params[i];
      velocity[i] = double{config.momentum} * velocity[i] + g;
      const double d = config.nesterov ? g + double{config.momentum} * velocity[i] : velocity[i];
      params[i] -= double{config.lr} * d;
    }
  }
};

// Five steps of float updates on O(1) values drift from the double reference by a few ulps.
constexpr Tolerance kSgdTol{1e-5, 1e-5};

void check_sgd_steps(Backend& backend, Rng& rng, const SgdConfig& config, std::size_t n,
                     bool fresh_velocity) {
  const auto params = random_normal(rng, n, 1.0);
  const auto velocity = fresh_velocity ? std::vector<float>(n, 0.0f) : random_normal(rng, n, 0.5);
  SgdReference ref{to_double(params), to_double(velocity)};
  GuardedArray dparams(backend, params);
  GuardedArray dvelocity(backend, velocity);
  const std::string where = "n=" + std::to_string(n) + " lr=" + std::to_string(config.lr) +
                            " momentum=" + std::to_string(config.momentum) +
                            " wd=" + std::to_string(config.weight_decay) +
                            " nesterov=" + std::to_string(config.nesterov) +
                            " fresh_velocity=" + std::to_string(fresh_velocity);
  for (int step = 1; step <= 5; ++step) {
    const auto grads = random_normal(rng, n, 1.0);
    GuardedArray dgrads(backend, grads);
    backend.sgd_update(n, config, dparams.data(), dgrads.data(), dvelocity.data());
    ref.step(config, grads);
    EXPECT_TRUE(all_close(dparams, ref.params, kSgdTol)) << where << " step " << step;
    EXPECT_TRUE(all_close(dvelocity, ref.velocity, kSgdTol)) << where << " step " << step;
    EXPECT_TRUE(all_close(dgrads, grads, kExact)) << "grads must not change: " << where;
  }
  EXPECT_TRUE(dparams.guards_intact()) << where;
  EXPECT_TRUE(dvelocity.guards_intact()) << where;
}

TEST_F(CpuOps, SgdUpdateFollowsTorchSgdOverSeveralSteps) {
  for (const bool nesterov : {true, false}) {
    for (const float momentum : {0.9f, 0.0f}) {
      if (nesterov && momentum == 0.0f) continue;  // torch rejects Nesterov without momentum
      for (const float weight_decay : {0.0f, 5e-4f, 0.1f}) {
        const SgdConfig config{0.05f, momentum, weight_decay, nesterov};
        for (const std::size_t n : kOddSizes) check_sgd_steps(backend_, rng_, config, n, true);
      }
    }
  }
}

TEST_F(CpuOps, SgdUpdateContinuesFromExistingVelocity) {
  for (const bool nesterov : {true, false}) {
    const SgdConfig config{0.1f, 0.9f, 5e-4f, nesterov};
    for (const std::size_t n : kOddSizes) check_sgd_steps(backend_, rng_, config, n, false);
  }
}

// --- sum_squares ---

double sum_squares_reference(const std::vector<float>& x) {
  double sum = 0.0;
  for (const float v : x) sum += double{v} * v;
  return sum;
}

TEST_F(CpuOps, SumSquaresAccumulatesInDouble) {
  // Float products are exact in double; a double sum of <= 4097 terms is good to ~5e-13
  // relative. A float accumulator would be off by ~1e-7 and fail.
  constexpr Tolerance kTol{0.0, 1e-12};
  EXPECT_EQ(backend_.sum_squares(nullptr, 0), 0.0);
  const auto check = [&](const std::vector<float>& x, const char* what) {
    const auto dx = to_device(backend_, x);
    EXPECT_TRUE(scalar_close(backend_.sum_squares(dx.data(), x.size()),
                             sum_squares_reference(x), kTol))
        << what << " n=" << x.size();
  };
  for (const std::size_t n : kOddSizes) {
    check(random_normal(rng_, n, 1.0), "normal");
    check(random_uniform(rng_, n, 1e20, 3e20), "squares overflow float");
    std::vector<float> mixed(n, 1e-4f);  // 1 + tiny squares: lost in float, kept in double
    mixed[n / 2] = 1.0f;
    check(mixed, "mixed magnitudes");
  }
}

// --- all_finite ---

TEST_F(CpuOps, AllFiniteAcceptsExtremeFiniteValues) {
  EXPECT_TRUE(backend_.all_finite(nullptr, 0));
  for (const std::size_t n : kOddSizes) {
    auto x = random_normal(rng_, n, 1e30);
    const float specials[] = {std::numeric_limits<float>::max(),
                              std::numeric_limits<float>::lowest(),
                              std::numeric_limits<float>::denorm_min(), -0.0f, 0.0f};
    for (std::size_t i = 0; i < std::size(specials) && i < n; ++i) x[(i * 7) % n] = specials[i];
    const auto dx = to_device(backend_, x);
    EXPECT_TRUE(backend_.all_finite(dx.data(), n)) << "n=" << n;
  }
}

TEST_F(CpuOps, AllFiniteRejectsNanAndInfinityAnywhere) {
  const float bad_values[] = {std::numeric_limits<float>::quiet_NaN(),
                              -std::numeric_limits<float>::quiet_NaN(),
                              std::numeric_limits<float>::signaling_NaN(),
                              std::bit_cast<float>(0x7f800001u),  // NaN, smallest payload
                              std::numeric_limits<float>::infinity(),
                              -std::numeric_limits<float>::infinity()};
  for (const std::size_t n : kOddSizes) {
    const auto x = random_normal(rng_, n, 1.0);
    for (const std::size_t pos : {std::size_t{0}, n / 2, n - 1}) {
      for (const float bad : bad_values) {
        auto with_bad = x;
        with_bad[pos] = bad;
        const auto dx = to_device(backend_, with_bad);
        EXPECT_FALSE(backend_.all_finite(dx.data(), n))
            << "n=" << n << " position " << pos << " value " << bad;
      }
    }
  }
}

}  // namespace
}  // namespace rumor
