// softmax_regression.cc — rumor's C++ API inside a training loop written with plain loops.
//
// Several processes train one multinomial logistic (softmax) regression on Fashion-MNIST and
// average their parameters by gossip. The data is split by label: rank r holds only the
// training images whose class c satisfies c % world == r. Alone, a process never sees most
// classes and cannot recognise them; through gossip each ends with a model for all ten.
//
// Usage: softmax_regression --rank R --peers E0,E1,... [--data DIR] [--images N] [--epochs E]
//   Ei is peer i's endpoint (ipc:///tmp/sm/0, tcp://127.0.0.1:5550, ...); start one process
//   per endpoint. DIR holds the four gzipped IDX files of Fashion-MNIST (Debian package
//   dataset-fashion-mnist). N: training images read (shared out by class), default 30000.
// Prints one line at the end: "rank R: test accuracy A after S steps; ...".
// Exit status: 0 on success, 1 on a runtime failure, 2 on a bad argument or unreadable data.
#include <rumor/device.h>
#include <rumor/engine.h>
#include <rumor/error.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace {

constexpr int kPixels = 28 * 28;
constexpr int kClasses = 10;

// Images as floats in [0, 1] (row-major [count, kPixels]) and their labels.
struct Dataset {
  std::vector<float> images;
  std::vector<int> labels;
  int size() const { return static_cast<int>(labels.size()); }
};

// Reads up to `max_items` items of a gzipped IDX file: a big-endian magic (0x801 labels,
// 0x803 images), one 32-bit size per dimension, then one byte per value.
std::vector<std::uint8_t> read_idx(const std::string& path, std::uint32_t magic, int max_items,
                                   int item_bytes) {
  gzFile file = gzopen(path.c_str(), "rb");
  if (file == nullptr) throw rumor::ConfigError("cannot open " + path);
  const int dims = static_cast<int>(magic & 0xff);
  std::vector<std::uint8_t> header(4 * (1 + dims));
  std::vector<std::uint8_t> data;
  if (gzread(file, header.data(), static_cast<unsigned>(header.size())) ==
      static_cast<int>(header.size())) {
    const auto be32 = [&](int i) {
      return std::uint32_t{header[4 * i]} << 24 | std::uint32_t{header[4 * i + 1]} << 16 |
             std::uint32_t{header[4 * i + 2]} << 8 | std::uint32_t{header[4 * i + 3]};
    };
    if (be32(0) == magic) {
      const int items = std::min(max_items, static_cast<int>(be32(1)));
      data.resize(static_cast<std::size_t>(items) * item_bytes);
      if (gzread(file, data.data(), static_cast<unsigned>(data.size())) !=
          static_cast<int>(data.size())) {
        data.clear();
      }
    }
  }
  gzclose(file);
  if (data.empty()) throw rumor::ConfigError(path + " is not a readable IDX file");
  return data;
}

// The first `max_items` images of one split ("train" or "t10k"), keeping those `keep` accepts.
template <class Keep>
Dataset load(const std::string& dir, const std::string& split, int max_items, Keep keep) {
  const auto pixels = read_idx(dir + "/" + split + "-images-idx3-ubyte.gz", 0x803, max_items,
                               kPixels);
  const auto labels = read_idx(dir + "/" + split + "-labels-idx1-ubyte.gz", 0x801, max_items, 1);
  Dataset out;
  const int items = static_cast<int>(std::min(labels.size(), pixels.size() / kPixels));
  for (int i = 0; i < items; ++i) {
    if (labels[i] >= kClasses || !keep(labels[i])) continue;
    out.labels.push_back(labels[i]);
    for (int p = 0; p < kPixels; ++p) out.images.push_back(pixels[i * kPixels + p] / 255.0f);
  }
  return out;
}

// The model: logits[c] = b[c] + Σ_p W[c, p] · x[p], with W [kClasses, kPixels] and b [kClasses]
// in one flat buffer, W first. That buffer is what the processes average.
constexpr int kParams = kClasses * kPixels + kClasses;

// Class probabilities of one image: softmax(logits).
void predict(const float* params, const float* x, float* probs) {
  const float* bias = params + kClasses * kPixels;
  float top = -INFINITY;
  for (int c = 0; c < kClasses; ++c) {
    float z = bias[c];
    for (int p = 0; p < kPixels; ++p) z += params[c * kPixels + p] * x[p];
    probs[c] = z;
    top = std::max(top, z);
  }
  float sum = 0;
  for (int c = 0; c < kClasses; ++c) sum += probs[c] = std::exp(probs[c] - top);
  for (int c = 0; c < kClasses; ++c) probs[c] /= sum;
}

// Adds the gradient of the cross-entropy of one image, scaled by `scale`, to `grad`:
// dL/dlogits[c] = probs[c] − [c == label].
void accumulate_gradient(const float* params, const float* x, int label, float scale,
                         float* grad) {
  float probs[kClasses];
  predict(params, x, probs);
  for (int c = 0; c < kClasses; ++c) {
    const float d = scale * (probs[c] - (c == label ? 1.0f : 0.0f));
    for (int p = 0; p < kPixels; ++p) grad[c * kPixels + p] += d * x[p];
    grad[kClasses * kPixels + c] += d;
  }
}

double accuracy(const float* params, const Dataset& data) {
  int correct = 0;
  float probs[kClasses];
  for (int i = 0; i < data.size(); ++i) {
    predict(params, &data.images[static_cast<std::size_t>(i) * kPixels], probs);
    correct += std::max_element(probs, probs + kClasses) - probs == data.labels[i];
  }
  return static_cast<double>(correct) / data.size();
}

}  // namespace

int main(int argc, char** argv) {
  int rank = -1, images = 30000, epochs = 3;
  std::string data_dir = "/usr/share/datasets/fashion-mnist";
  std::vector<std::string> peers;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--rank") rank = std::atoi(value.c_str());
    else if (flag == "--images") images = std::atoi(value.c_str());
    else if (flag == "--epochs") epochs = std::atoi(value.c_str());
    else if (flag == "--data") data_dir = value;
    else if (flag == "--peers") {
      std::stringstream list(value);
      for (std::string endpoint; std::getline(list, endpoint, ',');) peers.push_back(endpoint);
    } else {
      rank = -1;
      break;
    }
  }
  if (argc % 2 == 0 || rank < 0 || peers.empty() || images < 1 || epochs < 1) {
    std::fprintf(stderr, "usage: %s --rank R --peers E0,E1,... [--data DIR] [--images N] "
                         "[--epochs E]\n", argv[0]);
    return 2;
  }
  const int world = static_cast<int>(peers.size());

  try {
    const Dataset train = load(data_dir, "train", images,
                               [&](int label) { return label % world == rank; });
    const Dataset test = load(data_dir, "t10k", 10000, [](int) { return true; });

    // The parameters and the engine that averages them with the other processes.
    std::vector<float> params(kParams, 0.0f);
    rumor::Device device("cpu");
    rumor::GossipConfig config;               // push-sum over an exponential graph
    config.model = "softmax-regression-784x10";  // peers check they train the same model
    config.staleness.drift_limit = 4;         // wait rather than run >4 steps ahead
    rumor::GossipEngine engine(config, peers, rank, device.backend(), params.data(),
                               params.size());

    // Every process takes the same number of steps (of the largest shard's epochs), so that
    // they all train, and mix, until close to the end.
    constexpr int kBatch = 32;
    const int steps = epochs * (images / world) / kBatch;
    std::mt19937 rng(static_cast<unsigned>(rank));
    std::uniform_int_distribution<int> pick(0, train.size() - 1);
    std::vector<float> grad(kParams);
    for (int step = 0; step < steps; ++step) {
      engine.mix();  // 1. apply what the neighbours sent

      // 2. One SGD step on a random mini-batch; the learning rate decays linearly to zero.
      std::fill(grad.begin(), grad.end(), 0.0f);
      for (int k = 0; k < kBatch; ++k) {
        const int i = pick(rng);
        accumulate_gradient(params.data(), &train.images[static_cast<std::size_t>(i) * kPixels],
                            train.labels[i], 1.0f / kBatch, grad.data());
      }
      const float lr = 0.5f * (1.0f - static_cast<float>(step) / steps);
      for (int j = 0; j < kParams; ++j) params[j] -= lr * grad[j];

      engine.publish(step);  // 3. send the new parameters to this round's neighbours
    }

    const rumor::GossipStats stats = engine.stats();
    std::printf("rank %d: test accuracy %.4f after %d steps on %d images of %d classes; "
                "applied %llu contributions, waited %llu times\n",
                rank, accuracy(params.data(), test), steps, train.size(),
                (kClasses + world - 1 - rank) / world,
                static_cast<unsigned long long>(stats.applied),
                static_cast<unsigned long long>(stats.waits));
  } catch (const rumor::ConfigError& e) {
    std::fprintf(stderr, "rank %d: %s\n", rank, e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "rank %d: %s\n", rank, e.what());
    return 1;
  }
  return 0;
}
