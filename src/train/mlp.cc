#include "train/mlp.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "core/error.h"
#include "core/rng.h"

namespace rumor {

MlpSpec MlpSpec::parse(std::string_view text) {
  const auto invalid = [&](std::string_view why) {
    return ConfigError("model '" + std::string(text) + "' is not valid (" + std::string(why) +
                       "): use layer widths joined by '-', input first and classes last, "
                       "e.g. 784-256-128-10");
  };
  MlpSpec spec;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t end = std::min(text.find('-', start), text.size());
    const std::string_view part = text.substr(start, end - start);
    int width = 0;
    const auto [ptr, ec] = std::from_chars(part.data(), part.data() + part.size(), width);
    if (part.empty() || ec != std::errc{} || ptr != part.data() + part.size()) {
      throw invalid("'" + std::string(part) + "' is not a width");
    }
    if (width <= 0 || width > 65536) throw invalid("widths must be in 1..65536");
    spec.widths.push_back(width);
    start = end + 1;
  }
  if (spec.widths.size() < 2) throw invalid("need at least an input and an output width");
  return spec;
}

std::string MlpSpec::to_string() const {
  std::string out;
  for (int w : widths) {
    if (!out.empty()) out += '-';
    out += std::to_string(w);
  }
  return out;
}

Mlp::Mlp(Backend& backend, MlpSpec spec, int max_batch)
    : backend_(&backend), spec_(std::move(spec)), max_batch_(max_batch) {
  RUMOR_CHECK(max_batch > 0, "max_batch must be positive, got ", max_batch);
  RUMOR_CHECK(spec_.widths.size() >= 2, "an MLP needs at least two widths");
  for (std::size_t i = 0; i + 1 < spec_.widths.size(); ++i) {
    layers_.emplace_back(layout_, "fc" + std::to_string(i + 1), spec_.widths[i],
                         spec_.widths[i + 1]);
  }
  params_ = DeviceArray<float>(backend, layout_.total());
  grads_ = DeviceArray<float>(backend, layout_.total());
  backend.fill(params_.data(), params_.size(), 0.0f);
  backend.fill(grads_.data(), grads_.size(), 0.0f);
  int widest = 0;
  for (const auto& layer : layers_) {
    activations_.emplace_back(backend, static_cast<std::size_t>(max_batch) * layer.out());
    widest = std::max(widest, layer.out());
  }
  delta_a_ = DeviceArray<float>(backend, static_cast<std::size_t>(max_batch) * widest);
  delta_b_ = DeviceArray<float>(backend, static_cast<std::size_t>(max_batch) * widest);
  losses_ = DeviceArray<float>(backend, max_batch);
}

void Mlp::init_he(std::uint64_t seed) {
  std::vector<float> host(layout_.total(), 0.0f);
  Rng rng(seed);
  for (const auto& layer : layers_) {
    const double stddev = std::sqrt(2.0 / layer.in());
    float* weight = host.data() + layer.weight_offset();
    const std::size_t count = static_cast<std::size_t>(layer.in()) * layer.out();
    for (std::size_t i = 0; i < count; ++i) weight[i] = static_cast<float>(rng.normal() * stddev);
  }
  params_.upload(host);
}

const float* Mlp::forward(const float* x, int batch) {
  RUMOR_CHECK(batch > 0 && batch <= max_batch_, "batch ", batch, " outside 1..", max_batch_);
  const float* input = x;
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    float* output = activations_[i].data();
    layers_[i].forward(*backend_, params_.data(), input, output, batch);
    const bool hidden = i + 1 < layers_.size();
    if (hidden) backend_->relu(output, output, static_cast<std::size_t>(batch) * layers_[i].out());
    input = output;
  }
  return activations_.back().data();
}

const float* Mlp::loss_only(const float* x, const std::int32_t* labels, int batch) {
  const float* logits = forward(x, batch);
  backend_->softmax_cross_entropy(logits, labels, batch, spec_.classes(), 0.0f, losses_.data(),
                                  nullptr);
  return logits;
}

void Mlp::forward_backward(const float* x, const std::int32_t* labels, int batch) {
  const float* logits = forward(x, batch);
  // d(mean loss)/d logits, into delta_a_.
  float* delta = delta_a_.data();
  float* spare = delta_b_.data();
  backend_->softmax_cross_entropy(logits, labels, batch, spec_.classes(), 1.0f / batch,
                                  losses_.data(), delta);
  for (std::size_t i = layers_.size(); i-- > 0;) {
    const float* input = i == 0 ? x : activations_[i - 1].data();
    float* dx = i == 0 ? nullptr : spare;
    layers_[i].backward(*backend_, params_.data(), grads_.data(), input, delta, dx, batch);
    if (i == 0) break;
    // Through the ReLU that produced layer i's input.
    backend_->relu_backward(activations_[i - 1].data(), dx, dx,
                            static_cast<std::size_t>(batch) * layers_[i].in());
    std::swap(delta, spare);
  }
}

}  // namespace rumor
