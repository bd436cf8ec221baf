#include "train/param_file.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "core/error.h"

namespace rumor {
namespace {

namespace fs = std::filesystem;

class ParamFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ("param_file_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
    path_ = dir_ / "params.bin";
    save_param_file(path_, ParamFile{"4-3-2", {1.5f, -2.0f, 3.25f, 0.0f, 7.0f}});
    std::ifstream in(path_, std::ios::binary);
    bytes_.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  void TearDown() override { fs::remove_all(dir_); }

  void rewrite(const std::string& bytes) {
    std::ofstream(path_, std::ios::binary | std::ios::trunc) << bytes;
  }
  void expect_rejected(const std::string& phrase) {
    try {
      load_param_file(path_);
      FAIL() << "expected DataError containing '" << phrase << "'";
    } catch (const DataError& error) {
      const std::string message = error.what();
      EXPECT_NE(message.find(path_.string()), std::string::npos) << message;
      EXPECT_NE(message.find(phrase), std::string::npos) << message;
    }
  }

  fs::path dir_;
  fs::path path_;
  std::string bytes_;
};

TEST_F(ParamFileTest, RoundTrips) {
  const ParamFile file = load_param_file(path_);
  EXPECT_EQ(file.model, "4-3-2");
  EXPECT_EQ(file.values, (std::vector<float>{1.5f, -2.0f, 3.25f, 0.0f, 7.0f}));
  EXPECT_FALSE(fs::exists(path_.string() + ".tmp." + std::to_string(::getpid())));
}

TEST_F(ParamFileTest, RejectsMissingFile) {
  fs::remove(path_);
  expect_rejected("cannot open");
}

TEST_F(ParamFileTest, RejectsBadMagic) {
  rewrite("NOTRUMOR" + bytes_.substr(8));
  expect_rejected("bad magic");
}

TEST_F(ParamFileTest, RejectsUnknownVersion) {
  std::string bad = bytes_;
  bad[8] = 9;
  rewrite(bad);
  expect_rejected("version 9");
}

TEST_F(ParamFileTest, RejectsEveryTruncation) {
  for (std::size_t length = 0; length < bytes_.size(); ++length) {
    rewrite(bytes_.substr(0, length));
    EXPECT_THROW(load_param_file(path_), DataError) << "length " << length;
  }
  rewrite(bytes_.substr(0, bytes_.size() - 3));
  expect_rejected("truncated");
}

TEST_F(ParamFileTest, RejectsTrailingBytes) {
  rewrite(bytes_ + "xyz");
  expect_rejected("unexpected bytes");
}

TEST_F(ParamFileTest, RejectsFlippedBit) {
  std::string bad = bytes_;
  bad[bad.size() - 12] ^= 0x10;  // inside the values
  rewrite(bad);
  expect_rejected("checksum mismatch");
}

TEST_F(ParamFileTest, RejectsHugeCountWithoutAllocating) {
  std::string bad = bytes_;
  const std::size_t count_offset = 8 + 4 + 4 + 5;
  for (int i = 0; i < 8; ++i) bad[count_offset + i] = static_cast<char>(0xff);
  rewrite(bad);
  expect_rejected("truncated");
}

}  // namespace
}  // namespace rumor
