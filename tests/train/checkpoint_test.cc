// The checkpoint file format: a round trip is exact, and every kind of damage (truncation at
// any length, any flipped bit, wrong magic or version, trailing bytes, absurd counts,
// inconsistent fields behind a valid checksum) is a DataError naming the file.
#include "train/checkpoint.h"

#include <gtest/gtest.h>
#include <xxhash.h>

#include <cstring>
#include <string>

#include "core/error.h"
#include "test_files.h"
#include "train/atomic_file.h"
#include "train/param_file.h"

namespace rumor {
namespace {

namespace fs = std::filesystem;
using testing_files::TempDir;

constexpr std::size_t kStepOffset = 32;
constexpr std::size_t kParamCountOffset = 80;

Checkpoint small_checkpoint() {
  Checkpoint c;
  c.model = "4-3-2";
  c.rank = 3;
  c.batch = 2;
  c.epoch = 2;
  c.step = 7;
  c.seed = 0x0123456789abcdefULL;
  c.train_examples = 9;
  c.total_steps = 12;
  c.train_seconds = 1.25;
  c.loss_steps = 3;
  c.params = {1.5f, -2.0f, 3.25f, 0.0f, 7.0f, -0.125f};
  c.velocity = {0.5f, 0.25f, -1.0f, 0.0f, 2.0f, 1e-7f};
  c.loss_sums = {4.5f, 3.0f};
  return c;
}

class CheckpointFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.path() / "ckpt.rumor";
    save_checkpoint(path_, small_checkpoint());
    bytes_ = read_whole_file(path_, "test checkpoint");
  }

  void rewrite(const std::string& bytes) {
    std::ofstream(path_, std::ios::binary | std::ios::trunc) << bytes;
  }
  // Rewrites `bytes` with a checksum that matches them.
  void rewrite_with_valid_checksum(std::string bytes) {
    const std::uint64_t sum = XXH3_64bits(bytes.data(), bytes.size() - 8);
    std::memcpy(bytes.data() + bytes.size() - 8, &sum, sizeof(sum));
    rewrite(bytes);
  }
  // Expects load_checkpoint to throw a DataError naming the file and containing `phrase`.
  void expect_rejected(const std::string& phrase) {
    try {
      load_checkpoint(path_);
      FAIL() << "expected DataError containing '" << phrase << "'";
    } catch (const DataError& error) {
      const std::string message = error.what();
      EXPECT_NE(message.find(path_.string()), std::string::npos) << message;
      EXPECT_NE(message.find(phrase), std::string::npos) << message;
    }
  }

  TempDir dir_;
  fs::path path_;
  std::string bytes_;
};

TEST_F(CheckpointFileTest, RoundTripsEveryField) {
  EXPECT_EQ(load_checkpoint(path_), small_checkpoint());
  EXPECT_EQ(bytes_.size(), 112u + 5 + 4 * (6 + 6 + 2));
  EXPECT_FALSE(fs::exists(temporary_path_for(path_)));
  EXPECT_TRUE(has_checkpoint_magic(path_));
}

TEST_F(CheckpointFileTest, RejectsMissingFile) {
  fs::remove(path_);
  expect_rejected("cannot open");
}

TEST_F(CheckpointFileTest, EncodeMatchesTheFileAndDecodesBack) {
  EXPECT_EQ(encode_checkpoint(small_checkpoint()), bytes_);
  EXPECT_EQ(decode_checkpoint(bytes_, "memory"), small_checkpoint());
}

// In memory (decode_checkpoint is what load_checkpoint runs on the file's bytes), then on
// files for the messages.
TEST_F(CheckpointFileTest, RejectsEveryTruncation) {
  for (std::size_t length = 0; length < bytes_.size(); ++length) {
    const std::string_view cut(bytes_.data(), length);
    EXPECT_THROW(decode_checkpoint(cut, "memory"), DataError) << "length " << length;
  }
  rewrite(bytes_.substr(0, 60));
  expect_rejected("truncated");
  rewrite(bytes_.substr(0, bytes_.size() - 1));
  expect_rejected("truncated");
}

TEST_F(CheckpointFileTest, RejectsEveryFlippedBit) {
  for (std::size_t byte = 0; byte < bytes_.size(); ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string bad = bytes_;
      bad[byte] = static_cast<char>(bad[byte] ^ (1 << bit));
      EXPECT_THROW(decode_checkpoint(bad, "memory"), DataError)
          << "byte " << byte << " bit " << bit;
    }
  }
  std::string bad = bytes_;
  bad[bad.size() - 20] ^= 0x04;  // inside the velocity
  rewrite(bad);
  expect_rejected("checksum mismatch");
}

TEST_F(CheckpointFileTest, RejectsWrongMagicAndVersion) {
  rewrite("RUMORPRM" + bytes_.substr(8));
  expect_rejected("not a rumor checkpoint (bad magic)");
  std::string bad = bytes_;
  bad[8] = 2;
  rewrite(bad);
  expect_rejected("unsupported checkpoint version 2");
}

TEST_F(CheckpointFileTest, RejectsTrailingBytes) {
  rewrite(bytes_ + "x");
  expect_rejected("1 unexpected bytes after the checksum");
}

TEST_F(CheckpointFileTest, RejectsHugeCountWithoutAllocating) {
  std::string bad = bytes_;
  std::memset(bad.data() + kParamCountOffset, 0xff, 8);
  rewrite(bad);
  expect_rejected("truncated: header says 18446744073709551615 parameter values");
}

TEST_F(CheckpointFileTest, RejectsInconsistentFieldsBehindAValidChecksum) {
  std::string bad = bytes_;
  const std::int64_t step = 13;  // more than total_steps (12)
  std::memcpy(bad.data() + kStepOffset, &step, sizeof(step));
  rewrite_with_valid_checksum(bad);
  expect_rejected("inconsistent checkpoint: step is 13");
}

TEST_F(CheckpointFileTest, SaveRefusesInconsistentCheckpoint) {
  Checkpoint c = small_checkpoint();
  c.velocity.pop_back();
  EXPECT_THROW(save_checkpoint(dir_.path() / "bad.rumor", c), Error);
  EXPECT_FALSE(fs::exists(dir_.path() / "bad.rumor"));
}

TEST_F(CheckpointFileTest, ParameterFileIsNotACheckpoint) {
  const fs::path params = dir_.path() / "params.bin";
  save_param_file(params, ParamFile{"4-3-2", {1.0f}});
  EXPECT_FALSE(has_checkpoint_magic(params));
  EXPECT_FALSE(has_checkpoint_magic(dir_.path() / "absent"));
  EXPECT_THROW(load_checkpoint(params), DataError);
}

}  // namespace
}  // namespace rumor
