// dataset_test.cc — load_fashion_mnist on the real dataset, its rejection of broken files
// (written here into a temporary folder), and Dataset::subset / head.
#include "train/dataset.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <memory>

#include "core/error.h"
#include "test_files.h"
#include "train/idx.h"

namespace rumor {
namespace {

using ::testing::HasSubstr;
using testing_files::idx_bytes;
using testing_files::read_raw;
using testing_files::TempDir;
using testing_files::write_gz;
using testing_files::write_raw;
namespace fs = std::filesystem;

constexpr const char* kTrainImages = "train-images-idx3-ubyte.gz";
constexpr const char* kTrainLabels = "train-labels-idx1-ubyte.gz";
constexpr const char* kTestImages = "t10k-images-idx3-ubyte.gz";
constexpr const char* kTestLabels = "t10k-labels-idx1-ubyte.gz";

// ---- the real Fashion-MNIST -------------------------------------------------------------

class FashionMnist : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { split_ = std::make_unique<TrainTestSplit>(load_fashion_mnist()); }
  static void TearDownTestSuite() { split_.reset(); }
  static std::unique_ptr<TrainTestSplit> split_;
};
std::unique_ptr<TrainTestSplit> FashionMnist::split_;

TEST_F(FashionMnist, ShapesAreThoseOfFashionMnist) {
  for (const Dataset* d : {&split_->train, &split_->test}) {
    EXPECT_EQ(d->features, 784u);
    EXPECT_EQ(d->classes, 10);
    EXPECT_EQ(d->images.size(), d->count * d->features);
    EXPECT_EQ(d->labels.size(), d->count);
  }
  EXPECT_EQ(split_->train.count, 60000u);
  EXPECT_EQ(split_->test.count, 10000u);
}

TEST_F(FashionMnist, EveryLabelInRangeAndClassesBalanced) {
  for (const Dataset* d : {&split_->train, &split_->test}) {
    std::vector<std::size_t> counts(10);
    for (std::int32_t label : d->labels) {
      ASSERT_GE(label, 0);
      ASSERT_LT(label, 10);
      ++counts[static_cast<std::size_t>(label)];
    }
    for (std::size_t c = 0; c < 10; ++c) EXPECT_EQ(counts[c], d->count / 10) << "class " << c;
  }
  // The first labels as published (9 = ankle boot, 0 = T-shirt/top, 3 = dress, 2 = pullover).
  EXPECT_EQ(split_->train.labels[0], 9);
  EXPECT_EQ(split_->train.labels[1], 0);
  EXPECT_EQ(split_->test.labels[0], 9);
}

TEST_F(FashionMnist, TrainPixelsAreNormalised) {
  // kPixelMean/kPixelStd are the train set's statistics rounded to 4 digits, so the normalised
  // train pixels have mean 0 and standard deviation 1 to within ~1e-3.
  double sum = 0.0, sum_sq = 0.0;
  float lo = 1e9f, hi = -1e9f;
  for (float x : split_->train.images) {
    sum += x;
    sum_sq += double{x} * x;
    lo = std::min(lo, x);
    hi = std::max(hi, x);
  }
  const double n = static_cast<double>(split_->train.images.size());
  const double mean = sum / n;
  const double std_dev = std::sqrt(sum_sq / n - mean * mean);
  EXPECT_NEAR(mean, 0.0, 2e-3);
  EXPECT_NEAR(std_dev, 1.0, 2e-3);
  EXPECT_FLOAT_EQ(lo, (0.0f - kPixelMean) / kPixelStd);  // black pixels exist
  EXPECT_FLOAT_EQ(hi, (1.0f - kPixelMean) / kPixelStd);  // and white ones
}

// ---- broken files -------------------------------------------------------------------------

std::vector<std::uint8_t> pixels(std::size_t images) {
  std::vector<std::uint8_t> out(images * 784);
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<std::uint8_t>(i * 7 % 256);
  return out;
}

// A folder holding a valid tiny dataset (3 train and 2 test examples); tests then break one file.
class BadFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    write_gz(file(kTrainImages), idx_bytes(kIdxMagicU8Images, {3, 28, 28}, pixels(3)));
    write_gz(file(kTrainLabels), idx_bytes(kIdxMagicU8Vector, {3}, {0, 9, 4}));
    write_gz(file(kTestImages), idx_bytes(kIdxMagicU8Images, {2, 28, 28}, pixels(2)));
    write_gz(file(kTestLabels), idx_bytes(kIdxMagicU8Vector, {2}, {1, 2}));
  }
  fs::path file(const char* name) const { return dir_.path() / name; }

  // Loading must throw DataError naming `name` and saying `phrase`.
  void expect_error(const char* name, const std::string& phrase) const {
    try {
      load_fashion_mnist(dir_.path());
      ADD_FAILURE() << "no DataError; expected one naming " << name << " with '" << phrase << "'";
    } catch (const DataError& e) {
      EXPECT_THAT(e.what(), HasSubstr(file(name).string()));
      EXPECT_THAT(e.what(), HasSubstr(phrase));
    }
  }

  TempDir dir_;
};

TEST_F(BadFiles, ValidTinyDatasetLoads) {
  const TrainTestSplit split = load_fashion_mnist(dir_.path());
  ASSERT_EQ(split.train.count, 3u);
  ASSERT_EQ(split.test.count, 2u);
  EXPECT_EQ(split.train.labels, (std::vector<std::int32_t>{0, 9, 4}));
  EXPECT_EQ(split.test.labels, (std::vector<std::int32_t>{1, 2}));
  const auto raw = pixels(3);
  for (std::size_t i : {std::size_t{0}, std::size_t{5}, std::size_t{3 * 784 - 1}}) {
    EXPECT_NEAR(split.train.images[i], (raw[i] / 255.0 - kPixelMean) / kPixelStd, 1e-6);
  }
}

TEST_F(BadFiles, MissingFile) {
  fs::remove(file(kTrainLabels));
  expect_error(kTrainLabels, "file missing");
}

TEST_F(BadFiles, DirectoryInsteadOfFile) {
  fs::remove(file(kTestLabels));
  fs::create_directory(file(kTestLabels));
  expect_error(kTestLabels, "read error");
}

TEST_F(BadFiles, NotGzip) {
  write_raw(file(kTestImages), idx_bytes(kIdxMagicU8Images, {2, 28, 28}, pixels(2)));
  expect_error(kTestImages, "not a gzip file");
}

TEST_F(BadFiles, EmptyFile) {
  write_raw(file(kTrainImages), {});
  expect_error(kTrainImages, "not a gzip file");
}

TEST_F(BadFiles, GzipTruncatedMidStream) {
  const auto whole = read_raw(file(kTrainImages));
  ASSERT_GT(whole.size(), 40u);
  // In the header, in the deflate data, in the CRC and one byte short of the end.
  for (std::size_t keep :
       {std::size_t{5}, std::size_t{12}, whole.size() / 2, whole.size() - 6, whole.size() - 1}) {
    SCOPED_TRACE(keep);
    write_raw(file(kTrainImages), {whole.begin(), whole.begin() + static_cast<long>(keep)});
    expect_error(kTrainImages, "truncated gzip stream");
  }
}

TEST_F(BadFiles, GzipCrcMismatch) {
  auto bytes = read_raw(file(kTestLabels));
  bytes[bytes.size() - 8] ^= 0xff;  // first byte of the CRC-32 in the trailer
  write_raw(file(kTestLabels), bytes);
  expect_error(kTestLabels, "corrupt gzip data");
}

TEST_F(BadFiles, WrongImageMagic) {
  write_gz(file(kTrainImages), idx_bytes(0x00000804, {3, 28, 28, 1}, pixels(3)));
  expect_error(kTrainImages, "wrong IDX magic 0x00000804");
}

TEST_F(BadFiles, LabelsFileWithImageMagic) {
  write_gz(file(kTrainLabels), idx_bytes(kIdxMagicU8Images, {3, 1, 1}, {0, 1, 2}));
  expect_error(kTrainLabels, "wrong IDX magic 0x00000803 (uint8, 3-D), expected 0x00000801");
}

TEST_F(BadFiles, TruncatedIdxHeader) {
  write_gz(file(kTestImages), {0, 0, 8, 3, 0, 0});
  expect_error(kTestImages, "truncated IDX header");
}

TEST_F(BadFiles, DataShorterThanDims) {
  auto data = pixels(3);
  data.pop_back();
  write_gz(file(kTrainImages), idx_bytes(kIdxMagicU8Images, {3, 28, 28}, data));
  expect_error(kTrainImages, "IDX data length mismatch");
  expect_error(kTrainImages, "(1 bytes missing)");
}

TEST_F(BadFiles, DataLongerThanDims) {
  write_gz(file(kTestLabels), idx_bytes(kIdxMagicU8Vector, {2}, {1, 2, 3, 4, 5}));
  expect_error(kTestLabels, "IDX data length mismatch");
  expect_error(kTestLabels, "(3 extra trailing bytes)");
}

TEST_F(BadFiles, AbsurdImageDimsOverflow) {
  write_gz(file(kTrainImages),
           idx_bytes(kIdxMagicU8Images, {0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF}, pixels(1)));
  expect_error(kTrainImages, "too large");
}

TEST_F(BadFiles, AbsurdLabelCount) {
  write_gz(file(kTrainLabels), idx_bytes(kIdxMagicU8Vector, {0xFFFFFFFF}, {0, 9, 4}));
  expect_error(kTrainLabels, "need 4294967295 bytes of data, the file has 3");
}

TEST_F(BadFiles, WrongImageDimensions) {
  write_gz(file(kTestImages),
           idx_bytes(kIdxMagicU8Images, {2, 27, 29}, std::vector<std::uint8_t>(2 * 27 * 29)));
  expect_error(kTestImages, "wrong image dimensions 27x29, expected 28x28");
}

TEST_F(BadFiles, NoExamples) {
  write_gz(file(kTestImages), idx_bytes(kIdxMagicU8Images, {0, 28, 28}, {}));
  write_gz(file(kTestLabels), idx_bytes(kIdxMagicU8Vector, {0}, {}));
  expect_error(kTestImages, "no images");
}

TEST_F(BadFiles, ImageLabelCountMismatch) {
  write_gz(file(kTrainLabels), idx_bytes(kIdxMagicU8Vector, {2}, {0, 9}));
  expect_error(kTrainImages, "image/label count mismatch: 3 images");
  expect_error(kTrainLabels, "has 2 labels");  // the message names both files
}

TEST_F(BadFiles, LabelOutOfRange) {
  write_gz(file(kTestLabels), idx_bytes(kIdxMagicU8Vector, {2}, {1, 10}));
  expect_error(kTestLabels, "label out of range: label 10 at index 1, expected 0..9");
}

// ---- subset and head --------------------------------------------------------------------------

Dataset numbered(std::size_t count, std::size_t features) {
  Dataset d;
  d.count = count;
  d.features = features;
  d.classes = 10;
  for (std::size_t i = 0; i < count; ++i) {
    d.labels.push_back(static_cast<std::int32_t>(i % 10));
    for (std::size_t f = 0; f < features; ++f) d.images.push_back(100.0f * i + f);
  }
  return d;
}

TEST(DatasetSelect, SubsetTakesRowsInGivenOrder) {
  const Dataset d = numbered(12, 3);
  const std::vector<std::size_t> pick = {11, 0, 5, 5};
  const Dataset s = d.subset(pick);
  ASSERT_EQ(s.count, 4u);
  EXPECT_EQ(s.features, 3u);
  EXPECT_EQ(s.classes, 10);
  EXPECT_EQ(s.labels, (std::vector<std::int32_t>{1, 0, 5, 5}));
  EXPECT_EQ(s.images,
            (std::vector<float>{1100, 1101, 1102, 0, 1, 2, 500, 501, 502, 500, 501, 502}));
  EXPECT_EQ(d.subset({}).count, 0u);
}

TEST(DatasetSelect, SubsetRejectsOutOfRangeIndex) {
  const Dataset d = numbered(4, 2);
  const std::vector<std::size_t> pick = {0, 4};
  EXPECT_THROW(d.subset(pick), Error);
}

TEST(DatasetSelect, HeadTakesFirstRowsAndClamps) {
  const Dataset d = numbered(5, 2);
  const Dataset h = d.head(2);
  ASSERT_EQ(h.count, 2u);
  EXPECT_EQ(h.labels, (std::vector<std::int32_t>{0, 1}));
  EXPECT_EQ(h.images, (std::vector<float>{0, 1, 100, 101}));
  const Dataset all = d.head(99);
  EXPECT_EQ(all.count, 5u);
  EXPECT_EQ(all.images, d.images);
  EXPECT_EQ(all.labels, d.labels);
  EXPECT_EQ(d.head(0).count, 0u);
}

}  // namespace
}  // namespace rumor
