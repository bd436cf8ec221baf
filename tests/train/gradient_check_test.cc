// Gradient checks by central finite differences: every layer (Linear, ReLU, softmax
// cross-entropy) and the whole MLP. Forward values are float (the backend's precision);
// losses are accumulated in double.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <vector>

#include "core/rng.h"
#include "kernels/cpu/cpu_backend.h"
#include "train/linear.h"
#include "train/mlp.h"

namespace rumor {
namespace {

std::vector<float> random_vector(Rng& rng, std::size_t n, double scale = 1.0) {
  std::vector<float> v(n);
  for (auto& x : v) x = static_cast<float>(rng.normal() * scale);
  return v;
}

// Checks analytic[i] against the central difference of loss() around values[i].
void expect_gradient_matches(std::vector<float>& values, const std::vector<float>& analytic,
                             const std::function<double()>& loss, double h,
                             const char* what) {
  ASSERT_EQ(values.size(), analytic.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    const float saved = values[i];
    values[i] = static_cast<float>(saved + h);
    const double up = loss();
    values[i] = static_cast<float>(saved - h);
    const double down = loss();
    values[i] = saved;
    const double numeric = (up - down) / (2 * h);
    EXPECT_NEAR(analytic[i], numeric, 2e-3 + 2e-2 * std::abs(numeric)) << what << "[" << i << "]";
  }
}

TEST(GradientCheck, LinearLayer) {
  CpuBackend backend;
  Rng rng(11);
  const int batch = 3, in = 5, out = 4;
  ArenaLayout layout;
  Linear layer(layout, "fc", in, out);
  std::vector<float> params = random_vector(rng, layout.total());
  std::vector<float> x = random_vector(rng, batch * in);
  const std::vector<float> r = random_vector(rng, batch * out);  // L = Σ r ⊙ y
  std::vector<float> y(batch * out);
  const auto loss = [&] {
    layer.forward(backend, params.data(), x.data(), y.data(), batch);
    double sum = 0;
    for (std::size_t i = 0; i < y.size(); ++i) sum += static_cast<double>(r[i]) * y[i];
    return sum;
  };
  std::vector<float> grads(layout.total(), 0.0f), dx(batch * in);
  layer.backward(backend, params.data(), grads.data(), x.data(), r.data(), dx.data(), batch);
  expect_gradient_matches(params, grads, loss, 1e-2, "params");
  expect_gradient_matches(x, dx, loss, 1e-2, "x");
}

TEST(GradientCheck, Relu) {
  CpuBackend backend;
  Rng rng(12);
  std::vector<float> x = random_vector(rng, 37);
  for (auto& v : x) v += v >= 0 ? 0.1f : -0.1f;  // keep clear of the kink
  const std::vector<float> r = random_vector(rng, x.size());
  std::vector<float> y(x.size());
  const auto loss = [&] {
    backend.relu(x.data(), y.data(), y.size());
    double sum = 0;
    for (std::size_t i = 0; i < y.size(); ++i) sum += static_cast<double>(r[i]) * y[i];
    return sum;
  };
  loss();
  std::vector<float> dx(x.size());
  backend.relu_backward(y.data(), r.data(), dx.data(), dx.size());
  expect_gradient_matches(x, dx, loss, 1e-3, "x");
}

TEST(GradientCheck, SoftmaxCrossEntropy) {
  CpuBackend backend;
  Rng rng(13);
  const int rows = 4, classes = 7;
  std::vector<float> logits = random_vector(rng, rows * classes, 2.0);
  const std::vector<std::int32_t> labels = {0, 6, 3, 3};
  std::vector<float> losses(rows), dlogits(rows * classes);
  const auto loss = [&] {
    backend.softmax_cross_entropy(logits.data(), labels.data(), rows, classes, 0.0f,
                                  losses.data(), nullptr);
    double sum = 0;
    for (float l : losses) sum += l;
    return sum / rows;
  };
  backend.softmax_cross_entropy(logits.data(), labels.data(), rows, classes, 1.0f / rows,
                                losses.data(), dlogits.data());
  expect_gradient_matches(logits, dlogits, loss, 1e-2, "logits");
}

TEST(GradientCheck, WholeMlp) {
  CpuBackend backend;
  Rng rng(14);
  const int batch = 6;
  Mlp model(backend, MlpSpec::parse("9-8-7-4"), batch);
  model.init_he(3);
  std::vector<float> x = random_vector(rng, batch * 9);
  const std::vector<std::int32_t> labels = {0, 1, 2, 3, 1, 2};
  std::vector<float> params = model.params().to_host();

  const auto loss = [&] {
    model.params().upload(params);
    model.loss_only(x.data(), labels.data(), batch);
    double sum = 0;
    for (int i = 0; i < batch; ++i) sum += model.losses()[i];
    return sum / batch;
  };
  model.forward_backward(x.data(), labels.data(), batch);
  const std::vector<float> grads = model.grads().to_host();
  expect_gradient_matches(params, grads, loss, 1e-3, "mlp params");
}

}  // namespace
}  // namespace rumor
