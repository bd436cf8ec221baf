// dataset.h — labelled datasets in host memory, and the Fashion-MNIST loader.
//
// load_fashion_mnist reads the four IDX .gz files (through idx.h), validates them against
// each other and normalises pixels to floats; every problem with a file is a rumor::DataError
// naming that file. A Dataset is a plain value (vectors), cheap to move, shared by nobody.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>

namespace rumor {

inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";
// Normalisation used for Fashion-MNIST pixels: (p/255 - kPixelMean) / kPixelStd.
inline constexpr float kPixelMean = 0.2860f;
inline constexpr float kPixelStd = 0.3530f;

// A labelled dataset in host memory.
struct Dataset {
  std::vector<float> images;         // [count, features], normalised, row-major
  std::vector<std::int32_t> labels;  // [count], each in [0, classes)
  std::size_t count = 0;
  std::size_t features = 0;  // 784 for Fashion-MNIST
  int classes = 0;           // 10 for Fashion-MNIST
  // The examples at `indices`, in that order (indices must be < count; throws rumor::Error).
  Dataset subset(std::span<const std::size_t> indices) const;
  // The first min(n, count) examples.
  Dataset head(std::size_t n) const;
};

struct TrainTestSplit {
  Dataset train;
  Dataset test;
};

// Loads train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and
// t10k-labels-idx1-ubyte.gz from `dir`. Throws rumor::DataError whose message names the file
// and the problem (missing, not gzip, truncated, wrong magic, wrong dimensions, label out of
// range, image/label count mismatch). Never crashes or reads out of bounds on bad files.
// Images must be 28x28 and each split must hold at least one example. Blocks on file I/O
// (~55 MB decompressed in all).
TrainTestSplit load_fashion_mnist(const std::filesystem::path& dir = kFashionMnistDir);

}  // namespace rumor
