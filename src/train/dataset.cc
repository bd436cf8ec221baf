// dataset.cc — Dataset selection and the Fashion-MNIST loader; see dataset.h.
#include "train/dataset.h"

#include <algorithm>
#include <array>
#include <string>

#include "core/error.h"
#include "train/idx.h"

namespace rumor {
namespace {

constexpr int kFashionClasses = 10;
constexpr std::uint32_t kImageRows = 28;
constexpr std::uint32_t kImageCols = 28;

[[noreturn]] void fail(const std::filesystem::path& file, const std::string& problem) {
  throw DataError(detail::concat(file.string(), ": ", problem));
}

// Normalised value of every possible pixel byte.
std::array<float, 256> pixel_table() {
  std::array<float, 256> table{};
  for (int p = 0; p < 256; ++p) {
    table[p] = static_cast<float>((p / 255.0 - double{kPixelMean}) / double{kPixelStd});
  }
  return table;
}

// One split (train or test) from its images and labels files.
Dataset load_split(const std::filesystem::path& images_path,
                   const std::filesystem::path& labels_path) {
  const std::vector<std::uint8_t> image_bytes = read_gzip_file(images_path);
  const IdxHeader images = parse_idx_header(image_bytes, kIdxMagicU8Images, images_path.string());
  if (images.dims[1] != kImageRows || images.dims[2] != kImageCols) {
    fail(images_path, detail::concat("wrong image dimensions ", images.dims[1], "x", images.dims[2],
                                     ", expected ", kImageRows, "x", kImageCols));
  }
  if (images.dims[0] == 0) fail(images_path, "no images (the count dimension is 0)");

  const std::vector<std::uint8_t> label_bytes = read_gzip_file(labels_path);
  const IdxHeader labels = parse_idx_header(label_bytes, kIdxMagicU8Vector, labels_path.string());
  if (labels.dims[0] != images.dims[0]) {
    fail(images_path,
         detail::concat("image/label count mismatch: ", images.dims[0], " images, but ",
                        labels_path.string(), " has ", labels.dims[0], " labels"));
  }

  Dataset data;
  data.count = images.dims[0];
  data.features = std::size_t{kImageRows} * kImageCols;
  data.classes = kFashionClasses;

  data.labels.resize(data.count);
  const std::uint8_t* label_data = label_bytes.data() + labels.data_offset;
  for (std::size_t i = 0; i < data.count; ++i) {
    if (label_data[i] >= kFashionClasses) {
      fail(labels_path, detail::concat("label out of range: label ", int{label_data[i]},
                                       " at index ", i, ", expected 0..", kFashionClasses - 1));
    }
    data.labels[i] = label_data[i];
  }

  static const std::array<float, 256> table = pixel_table();
  const std::uint8_t* pixels = image_bytes.data() + images.data_offset;
  data.images.resize(images.data_bytes);
  for (std::size_t i = 0; i < images.data_bytes; ++i) data.images[i] = table[pixels[i]];
  return data;
}

}  // namespace

Dataset Dataset::subset(std::span<const std::size_t> indices) const {
  Dataset out;
  out.count = indices.size();
  out.features = features;
  out.classes = classes;
  out.images.resize(indices.size() * features);
  out.labels.resize(indices.size());
  for (std::size_t i = 0; i < indices.size(); ++i) {
    const std::size_t index = indices[i];
    RUMOR_CHECK(index < count, "index ", index, " at position ", i, " is out of range for ", count,
                " examples");
    std::copy_n(images.begin() + static_cast<std::ptrdiff_t>(index * features), features,
                out.images.begin() + static_cast<std::ptrdiff_t>(i * features));
    out.labels[i] = labels[index];
  }
  return out;
}

Dataset Dataset::head(std::size_t n) const {
  Dataset out;
  out.count = std::min(n, count);
  out.features = features;
  out.classes = classes;
  out.images.assign(images.begin(),
                    images.begin() + static_cast<std::ptrdiff_t>(out.count * features));
  out.labels.assign(labels.begin(), labels.begin() + static_cast<std::ptrdiff_t>(out.count));
  return out;
}

TrainTestSplit load_fashion_mnist(const std::filesystem::path& dir) {
  TrainTestSplit split;
  split.train = load_split(dir / "train-images-idx3-ubyte.gz", dir / "train-labels-idx1-ubyte.gz");
  split.test = load_split(dir / "t10k-images-idx3-ubyte.gz", dir / "t10k-labels-idx1-ubyte.gz");
  return split;
}

}  // namespace rumor
