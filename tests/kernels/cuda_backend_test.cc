// cuda_backend_test.cc — the CUDA backend against the CPU reference, op by op, on random
// inputs of odd sizes and unaligned offsets, outputs poisoned with NaN first. Without a
// device every GPU test is skipped with the reason; the device-independent checks (error
// macros, device discovery and the "not present" message) run everywhere.
#include "kernels/cuda/cuda_backend.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "kernels/cpu/cpu_backend.h"
#include "kernels/cuda/cuda_check.h"
#include "tests/kernels/cuda_test_util.h"
#include "tests/kernels/cuda_twin.h"

namespace rumor {
namespace {

using testkit::all_close;
using testkit::kPoison;
using testkit::Twin;

constexpr std::size_t kSizes[] = {1, 3, 4, 5, 17, 255, 1000, 4099, 65539, 1048583};
constexpr std::size_t kOffsets[] = {0, 1, 2, 3};

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// --- device-independent: these run with or without a GPU ---

TEST(CudaCheck, ThrowsWithFileLineAndErrorName) {
  try {
    RUMOR_CUDA_CHECK(cudaErrorInvalidValue);
    FAIL() << "RUMOR_CUDA_CHECK did not throw";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_TRUE(contains(what, "cuda_backend_test.cc:")) << what;
    EXPECT_TRUE(contains(what, "cudaErrorInvalidValue")) << what;
    EXPECT_TRUE(contains(what, "invalid argument")) << what;
  }
}

TEST(CudaCheck, CublasThrowsWithFileLineAndStatusName) {
  try {
    RUMOR_CUBLAS_CHECK(CUBLAS_STATUS_INVALID_VALUE);
    FAIL() << "RUMOR_CUBLAS_CHECK did not throw";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_TRUE(contains(what, "cuda_backend_test.cc:")) << what;
    EXPECT_TRUE(contains(what, "CUBLAS_STATUS_INVALID_VALUE")) << what;
  }
}

TEST(CudaDevices, AbsentDeviceIsAConfigErrorNamingTheAvailableOnes) {
  int count = -1;
  ASSERT_NO_THROW(count = cuda_device_count());
  ASSERT_GE(count, 0);
  EXPECT_EQ(count == 0, !cuda_unavailable_reason().empty()) << cuda_unavailable_reason();
  std::string available = "cpu";
  for (int i = 0; i < count; ++i) available += ", cuda:" + std::to_string(i);
  const std::string device = "cuda:" + std::to_string(count);  // one past the last
  try {
    make_backend(device);
    FAIL() << "make_backend(\"" << device << "\") did not throw";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()),
              "device '" + device + "' is not present; available: " + available);
  }
  EXPECT_THROW(CudaBackend{count}, Error);
}

// --- parity with the CPU reference ---

class CudaParity : public ::testing::Test {
 protected:
  void SetUp() override {
    RUMOR_SKIP_WITHOUT_CUDA();
    gpu_ = std::make_unique<CudaBackend>(0);
  }

  template <class T>
  Twin<T> twin(const std::vector<T>& values, std::size_t offset = 0) {
    return Twin<T>(cpu_, *gpu_, values, offset);
  }
  Twin<float> random(std::size_t n, std::size_t offset = 0, float lo = -1.0f, float hi = 1.0f) {
    return twin(testkit::random_floats(rng_, n, lo, hi), offset);
  }
  Twin<float> poisoned(std::size_t n, std::size_t offset = 0) {
    return twin(std::vector<float>(n, kPoison), offset);
  }
  static void expect_match(const Twin<float>& out, double abs_tol, double rel_tol) {
    EXPECT_TRUE(all_close(out.gpu_values(), out.cpu_values(), abs_tol, rel_tol));
    EXPECT_TRUE(out.gpu_guards_intact()) << "the GPU wrote outside the output";
  }

  CpuBackend cpu_{1};
  std::unique_ptr<CudaBackend> gpu_;
  Rng rng_{0x5eed};
};

TEST_F(CudaParity, NameAndDiscovery) {
  EXPECT_EQ(gpu_->name(), "cuda:0");
  EXPECT_FALSE(gpu_->host_accessible());
  EXPECT_EQ(available_devices().at(1), "cuda:0");
  EXPECT_EQ(make_backend("cuda:0")->name(), "cuda:0");
}

TEST_F(CudaParity, CopiesRoundTripAndHandleOverlap) {
  for (std::size_t n : kSizes) {
    SCOPED_TRACE(n);
    const std::vector<float> host = testkit::random_floats(rng_, n);
    DeviceArray<float> a(*gpu_, n);
    DeviceArray<float> b(*gpu_, n);
    a.upload(host);
    gpu_->copy(b.data(), a.data(), n * sizeof(float));
    EXPECT_EQ(b.to_host(), host);
    if (n < 8) continue;
    // Overlapping moves in both directions, as memmove on the CPU.
    Twin<float> t = twin(host);
    const std::size_t bytes = (n - 5) * sizeof(float);
    for (Backend* be : {static_cast<Backend*>(&cpu_), static_cast<Backend*>(gpu_.get())}) {
      float* p = be == &cpu_ ? t.cpu() : t.gpu();
      be->copy(p + 3, p, bytes);
      be->copy(p, p + 5, bytes);
    }
    EXPECT_EQ(t.gpu_values(), t.cpu_values());
  }
}

TEST_F(CudaParity, Fill) {
  for (std::size_t n : kSizes) {
    for (std::size_t offset : kOffsets) {
      SCOPED_TRACE(testing::Message() << "n=" << n << " offset=" << offset);
      Twin<float> x = poisoned(n, offset);
      cpu_.fill(x.cpu(), n, -2.5f);
      gpu_->fill(x.gpu(), n, -2.5f);
      expect_match(x, 0.0, 0.0);
    }
  }
}

TEST_F(CudaParity, GemmAllTransposes) {
  struct Shape { int m, n, k; };
  for (const Shape s : {Shape{1, 1, 1}, Shape{7, 5, 3}, Shape{37, 53, 29}, Shape{64, 10, 128},
                        Shape{129, 257, 65}}) {
    for (Transpose ta : {Transpose::kNo, Transpose::kYes}) {
      for (Transpose tb : {Transpose::kNo, Transpose::kYes}) {
        for (float beta : {0.0f, 0.5f}) {
          SCOPED_TRACE(testing::Message() << "m=" << s.m << " n=" << s.n << " k=" << s.k
                                          << " ta=" << (ta == Transpose::kYes)
                                          << " tb=" << (tb == Transpose::kYes) << " beta=" << beta);
          Twin<float> a = random(static_cast<std::size_t>(s.m) * s.k);
          Twin<float> b = random(static_cast<std::size_t>(s.k) * s.n);
          const std::size_t cn = static_cast<std::size_t>(s.m) * s.n;
          // beta == 0 must not read C: poison it. Otherwise C is an input.
          Twin<float> c = beta == 0.0f ? poisoned(cn) : random(cn);
          cpu_.gemm(ta, tb, s.m, s.n, s.k, 1.25f, a.cpu(), b.cpu(), beta, c.cpu());
          gpu_->gemm(ta, tb, s.m, s.n, s.k, 1.25f, a.gpu(), b.gpu(), beta, c.gpu());
          expect_match(c, 2e-6 * s.k, 1e-5);
        }
      }
    }
  }
}

TEST_F(CudaParity, AddBiasAndBiasGrad) {
  struct Shape { int rows, cols; };
  for (const Shape s : {Shape{1, 1}, Shape{3, 1000}, Shape{1000, 3}, Shape{128, 10},
                        Shape{129, 257}, Shape{5, 33}}) {
    SCOPED_TRACE(testing::Message() << "rows=" << s.rows << " cols=" << s.cols);
    const std::size_t n = static_cast<std::size_t>(s.rows) * s.cols;
    Twin<float> y = random(n);
    Twin<float> bias = random(s.cols);
    cpu_.add_bias(y.cpu(), bias.cpu(), s.rows, s.cols);
    gpu_->add_bias(y.gpu(), bias.gpu(), s.rows, s.cols);
    expect_match(y, 1e-7, 1e-7);

    Twin<float> dbias = poisoned(s.cols);
    cpu_.bias_grad(y.cpu(), s.rows, s.cols, dbias.cpu());
    gpu_->bias_grad(y.gpu(), s.rows, s.cols, dbias.gpu());
    expect_match(dbias, 2e-6 * s.rows, 1e-5);
  }
  Twin<float> empty_grad = poisoned(9);  // no rows: the gradient is zero
  gpu_->bias_grad(empty_grad.gpu(), 0, 9, empty_grad.gpu());
  EXPECT_EQ(empty_grad.gpu_values(), std::vector<float>(9, 0.0f));
}

TEST_F(CudaParity, ReluForwardAndBackward) {
  for (std::size_t n : kSizes) {
    for (std::size_t offset : kOffsets) {
      SCOPED_TRACE(testing::Message() << "n=" << n << " offset=" << offset);
      Twin<float> x = random(n, offset);
      Twin<float> y = poisoned(n, (offset + 1) % 4);  // mismatched alignment: scalar path
      cpu_.relu(x.cpu(), y.cpu(), n);
      gpu_->relu(x.gpu(), y.gpu(), n);
      expect_match(y, 0.0, 0.0);
      cpu_.relu(x.cpu(), x.cpu(), n);  // in place
      gpu_->relu(x.gpu(), x.gpu(), n);
      expect_match(x, 0.0, 0.0);

      Twin<float> dy = random(n, offset);
      Twin<float> dx = poisoned(n, offset);
      cpu_.relu_backward(y.cpu(), dy.cpu(), dx.cpu(), n);
      gpu_->relu_backward(y.gpu(), dy.gpu(), dx.gpu(), n);
      expect_match(dx, 0.0, 0.0);
      cpu_.relu_backward(x.cpu(), dy.cpu(), dy.cpu(), n);  // dx aliases dy
      gpu_->relu_backward(x.gpu(), dy.gpu(), dy.gpu(), n);
      expect_match(dy, 0.0, 0.0);
    }
  }
}

TEST_F(CudaParity, SoftmaxCrossEntropy) {
  struct Shape { int rows, classes; float scale; };
  for (const Shape s : {Shape{1, 1, 1.0f}, Shape{37, 10, 3.0f}, Shape{5, 1000, 1.0f},
                        Shape{64, 33, 50.0f}, Shape{300, 2, 80.0f}}) {
    for (bool with_grad : {true, false}) {
      SCOPED_TRACE(testing::Message() << "rows=" << s.rows << " classes=" << s.classes
                                      << " scale=" << s.scale << " grad=" << with_grad);
      const std::size_t n = static_cast<std::size_t>(s.rows) * s.classes;
      Twin<float> logits = random(n, 0, -s.scale, s.scale);  // large: stability matters
      std::vector<std::int32_t> label_values(s.rows);
      for (auto& t : label_values) t = static_cast<std::int32_t>(rng_.below(s.classes));
      Twin<std::int32_t> labels = twin(label_values);
      Twin<float> losses = poisoned(s.rows);
      Twin<float> dlogits = poisoned(n);
      const float grad_scale = 1.0f / s.rows;
      cpu_.softmax_cross_entropy(logits.cpu(), labels.cpu(), s.rows, s.classes, grad_scale,
                                 losses.cpu(), with_grad ? dlogits.cpu() : nullptr);
      gpu_->softmax_cross_entropy(logits.gpu(), labels.gpu(), s.rows, s.classes, grad_scale,
                                  losses.gpu(), with_grad ? dlogits.gpu() : nullptr);
      expect_match(losses, 1e-5, 1e-5);
      if (with_grad) {
        expect_match(dlogits, 1e-6, 1e-4);
      } else {
        for (float d : dlogits.gpu_values()) ASSERT_TRUE(std::isnan(d)) << "dlogits was written";
      }
    }
  }
}

TEST_F(CudaParity, SoftmaxCrossEntropyInvalidLabelGivesNaN) {
  Twin<float> logits = random(2 * 4);
  Twin<std::int32_t> labels = twin(std::vector<std::int32_t>{1, 4});
  Twin<float> losses = poisoned(2);
  gpu_->softmax_cross_entropy(logits.gpu(), labels.gpu(), 2, 4, 1.0f, losses.gpu(), nullptr);
  const std::vector<float> got = losses.gpu_values();
  EXPECT_TRUE(std::isfinite(got[0]));
  EXPECT_TRUE(std::isnan(got[1]));
}

TEST_F(CudaParity, ArgmaxRowsTakesTheFirstMaximum) {
  for (int cols : {1, 2, 31, 32, 33, 100, 1000}) {
    for (int rows : {1, 7, 130}) {
      for (bool ties : {false, true}) {
        SCOPED_TRACE(testing::Message() << "rows=" << rows << " cols=" << cols << " ties=" << ties);
        const std::size_t n = static_cast<std::size_t>(rows) * cols;
        std::vector<float> values = testkit::random_floats(rng_, n);
        if (ties) {
          for (float& v : values) v = static_cast<float>(rng_.below(3));
        }
        Twin<float> x = twin(values);
        Twin<std::int32_t> out = twin(std::vector<std::int32_t>(rows, -1));
        cpu_.argmax_rows(x.cpu(), rows, cols, out.cpu());
        gpu_->argmax_rows(x.gpu(), rows, cols, out.gpu());
        EXPECT_EQ(out.gpu_values(), out.cpu_values());
        EXPECT_TRUE(out.gpu_guards_intact());
      }
    }
  }
}

TEST_F(CudaParity, Axpby) {
  for (std::size_t n : kSizes) {
    for (std::size_t offset : kOffsets) {
      SCOPED_TRACE(testing::Message() << "n=" << n << " offset=" << offset);
      Twin<float> x = random(n, offset);
      Twin<float> y = random(n, offset);
      Twin<float> z = random(n, (offset + 2) % 4);  // alignment differs from x
      cpu_.axpby(n, 0.3f, x.cpu(), 0.7f, y.cpu());
      gpu_->axpby(n, 0.3f, x.gpu(), 0.7f, y.gpu());
      expect_match(y, 1e-7, 1e-6);
      cpu_.axpby(n, -1.5f, x.cpu(), 0.25f, z.cpu());
      gpu_->axpby(n, -1.5f, x.gpu(), 0.25f, z.gpu());
      expect_match(z, 1e-7, 1e-6);
      cpu_.axpby(n, 0.5f, x.cpu(), 0.5f, x.cpu());  // x aliases y
      gpu_->axpby(n, 0.5f, x.gpu(), 0.5f, x.gpu());
      expect_match(x, 1e-7, 1e-6);
    }
  }
}

TEST_F(CudaParity, SgdUpdateWithAndWithoutNesterov) {
  for (bool nesterov : {true, false}) {
    const SgdConfig config{.lr = 0.05f, .momentum = 0.9f, .weight_decay = 1e-3f,
                           .nesterov = nesterov};
    for (std::size_t n : kSizes) {
      for (std::size_t offset : kOffsets) {
        SCOPED_TRACE(testing::Message() << "n=" << n << " offset=" << offset
                                        << " nesterov=" << nesterov);
        Twin<float> params = random(n, offset);
        Twin<float> velocity = twin(std::vector<float>(n, 0.0f), offset);
        for (int step = 0; step < 3; ++step) {
          Twin<float> grads = random(n, offset);
          cpu_.sgd_update(n, config, params.cpu(), grads.cpu(), velocity.cpu());
          gpu_->sgd_update(n, config, params.gpu(), grads.gpu(), velocity.gpu());
        }
        expect_match(params, 1e-6, 1e-5);
        expect_match(velocity, 1e-6, 1e-5);
      }
    }
  }
}

TEST_F(CudaParity, SumSquaresInDoubleAndDeterministic) {
  std::vector<std::size_t> sizes(std::begin(kSizes), std::end(kSizes));
  sizes.push_back(0);
  sizes.push_back(10'000'019);
  for (std::size_t n : sizes) {
    for (std::size_t offset : {std::size_t{0}, std::size_t{3}}) {
      SCOPED_TRACE(testing::Message() << "n=" << n << " offset=" << offset);
      Twin<float> x = random(n, offset, -2.0f, 2.0f);
      const double ref = cpu_.sum_squares(x.cpu(), n);
      const double got = gpu_->sum_squares(x.gpu(), n);
      EXPECT_NEAR(got, ref, 1e-11 * ref);  // two summation orders, both in double
      EXPECT_EQ(gpu_->sum_squares(x.gpu(), n), got) << "not deterministic";
    }
  }
}

TEST_F(CudaParity, AllFiniteFindsEveryNonFiniteValue) {
  const float bad_values[] = {std::numeric_limits<float>::quiet_NaN(),
                              std::numeric_limits<float>::infinity(),
                              -std::numeric_limits<float>::infinity()};
  EXPECT_TRUE(gpu_->all_finite(nullptr, 0));
  for (std::size_t n : kSizes) {
    for (std::size_t offset : kOffsets) {
      SCOPED_TRACE(testing::Message() << "n=" << n << " offset=" << offset);
      std::vector<float> values = testkit::random_floats(rng_, n, -1e30f, 1e30f);
      Twin<float> clean = twin(values, offset);
      EXPECT_EQ(gpu_->all_finite(clean.gpu(), n), cpu_.all_finite(clean.cpu(), n));
      EXPECT_TRUE(gpu_->all_finite(clean.gpu(), n));
      for (std::size_t where : {std::size_t{0}, n / 2, n - 1}) {
        for (float bad : bad_values) {
          std::vector<float> dirty = values;
          dirty[where] = bad;
          Twin<float> x = twin(dirty, offset);
          EXPECT_FALSE(gpu_->all_finite(x.gpu(), n)) << "at " << where << ": " << bad;
          EXPECT_FALSE(cpu_.all_finite(x.cpu(), n));
        }
      }
    }
  }
}

}  // namespace
}  // namespace rumor
