// backend_mlp.h — a plain multilayer perceptron (Linear → ReLU → … → Linear → softmax
// cross-entropy) written with Backend ops only, so that tests and benchmarks can run the same
// training-like workload on every backend and compare. It is test code, not the production
// model (src/train): no data pipeline, no schedule, one flat arena as gossip would ship it.
#pragma once

#include <cmath>
#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "core/arena_layout.h"
#include "core/error.h"
#include "core/rng.h"
#include "kernels/backend.h"

namespace rumor::testkit {

class BackendMlp {
 public:
  // sizes = {inputs, hidden..., classes}; `batch` rows per step. Weights are He-initialised
  // from `seed` (identical on every backend), biases zero. Weights are stored [in, out].
  BackendMlp(Backend& backend, std::vector<int> sizes, int batch, std::uint64_t seed)
      : backend_(backend), sizes_(std::move(sizes)), batch_(batch) {
    RUMOR_CHECK(sizes_.size() >= 2 && batch_ > 0, "an MLP needs >= 2 sizes and a batch > 0");
    for (std::size_t l = 0; l + 1 < sizes_.size(); ++l) {
      weights_.push_back(layout_.add("w", sizes_[l], sizes_[l + 1]));
      biases_.push_back(layout_.add("b", 1, sizes_[l + 1]));
    }
    std::vector<float> init(layout_.total(), 0.0f);
    Rng rng(seed);
    for (std::size_t l = 0; l < weights_.size(); ++l) {
      const TensorSlot& w = layout_.slot(weights_[l]);
      const double scale = std::sqrt(2.0 / static_cast<double>(w.rows));
      for (std::size_t i = 0; i < w.size(); ++i) {
        init[w.offset + i] = static_cast<float>(scale * rng.normal());
      }
    }
    params_ = DeviceArray<float>(backend_, layout_.total());
    grads_ = DeviceArray<float>(backend_, layout_.total());
    velocity_ = DeviceArray<float>(backend_, layout_.total());
    params_.upload(init);
    backend_.fill(grads_.data(), grads_.size(), 0.0f);  // padding stays zero
    backend_.fill(velocity_.data(), velocity_.size(), 0.0f);
    for (std::size_t l = 0; l < weights_.size(); ++l) {
      const std::size_t width = static_cast<std::size_t>(batch_) * sizes_[l + 1];
      outputs_.emplace_back(backend_, width);  // post-ReLU (logits for the last layer)
      input_grads_.emplace_back(backend_, static_cast<std::size_t>(batch_) * sizes_[l]);
    }
    losses_ = DeviceArray<float>(backend_, batch_);
    dlogits_ = DeviceArray<float>(backend_, static_cast<std::size_t>(batch_) * sizes_.back());
  }

  // Logits [rows, classes] for inputs x [rows, inputs] (rows <= batch); stays valid until the
  // next call. Issued asynchronously.
  const float* forward(const float* x, int rows) {
    RUMOR_CHECK(rows > 0 && rows <= batch_, "forward of ", rows, " rows, batch is ", batch_);
    const float* h = x;
    for (std::size_t l = 0; l < weights_.size(); ++l) {
      float* z = outputs_[l].data();
      backend_.gemm(Transpose::kNo, Transpose::kNo, rows, sizes_[l + 1], sizes_[l], 1.0f, h,
                    slot(params_, weights_[l]), 0.0f, z);
      backend_.add_bias(z, slot(params_, biases_[l]), rows, sizes_[l + 1]);
      if (l + 1 < weights_.size()) backend_.relu(z, z, static_cast<std::size_t>(rows) * sizes_[l + 1]);
      h = z;
    }
    return h;
  }

  // Forward, backward and one SGD step on a full batch; the per-row losses stay on the device
  // (mean_loss() reads them). Issued asynchronously.
  void train_step(const float* x, const std::int32_t* labels, const SgdConfig& sgd) {
    const float* logits = forward(x, batch_);
    backend_.softmax_cross_entropy(logits, labels, batch_, sizes_.back(), 1.0f / batch_,
                                   losses_.data(), dlogits_.data());
    const float* d = dlogits_.data();
    for (std::size_t l = weights_.size(); l-- > 0;) {
      const float* h = l == 0 ? x : outputs_[l - 1].data();
      const int in = sizes_[l];
      const int out = sizes_[l + 1];
      // dW[in, out] = hᵀ·d ; db = column sums of d ; dh[batch, in] = d·Wᵀ masked by ReLU.
      backend_.gemm(Transpose::kYes, Transpose::kNo, in, out, batch_, 1.0f, h, d, 0.0f,
                    slot(grads_, weights_[l]));
      backend_.bias_grad(d, batch_, out, slot(grads_, biases_[l]));
      if (l > 0) {
        float* dh = input_grads_[l].data();
        backend_.gemm(Transpose::kNo, Transpose::kYes, batch_, in, out, 1.0f, d,
                      slot(params_, weights_[l]), 0.0f, dh);
        backend_.relu_backward(h, dh, dh, static_cast<std::size_t>(batch_) * in);
        d = dh;
      }
    }
    backend_.sgd_update(params_.size(), sgd, params_.data(), grads_.data(), velocity_.data());
  }

  // Mean loss of the last train_step (synchronizes).
  double mean_loss() const {
    double sum = 0.0;
    for (float loss : losses_.to_host()) sum += loss;
    return sum / batch_;
  }

  // Fraction of rows of x [rows, inputs] whose argmax matches labels (host vector).
  double accuracy(const float* x, const std::vector<std::int32_t>& labels) {
    DeviceArray<std::int32_t> predicted(backend_, batch_);
    std::size_t correct = 0;
    const int rows = static_cast<int>(labels.size());
    for (int start = 0; start < rows; start += batch_) {
      const int n = std::min(batch_, rows - start);
      const float* logits = forward(x + static_cast<std::size_t>(start) * sizes_.front(), n);
      backend_.argmax_rows(logits, n, sizes_.back(), predicted.data());
      const std::vector<std::int32_t> host = predicted.to_host();
      for (int r = 0; r < n; ++r) correct += host[r] == labels[start + r] ? 1 : 0;
    }
    return static_cast<double>(correct) / rows;
  }

  const DeviceArray<float>& params() const { return params_; }
  std::size_t parameter_count() const { return layout_.total(); }

 private:
  float* slot(DeviceArray<float>& arena, std::size_t index) {
    return arena.data() + layout_.slot(index).offset;
  }

  Backend& backend_;
  std::vector<int> sizes_;
  int batch_;
  ArenaLayout layout_;
  std::vector<std::size_t> weights_;
  std::vector<std::size_t> biases_;
  DeviceArray<float> params_;
  DeviceArray<float> grads_;
  DeviceArray<float> velocity_;
  std::vector<DeviceArray<float>> outputs_;
  std::vector<DeviceArray<float>> input_grads_;
  DeviceArray<float> losses_;
  DeviceArray<float> dlogits_;
};

}  // namespace rumor::testkit
