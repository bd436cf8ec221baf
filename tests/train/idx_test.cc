// idx_test.cc — the file layer on its own: read_gzip_file (members, trailing bytes, size
// limit) and parse_idx_header on in-memory buffers.
#include "train/idx.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/error.h"
#include "test_files.h"

namespace rumor {
namespace {

using ::testing::HasSubstr;
using testing_files::idx_bytes;
using testing_files::read_raw;
using testing_files::TempDir;
using testing_files::write_gz;
using testing_files::write_raw;

std::vector<std::uint8_t> counting(std::size_t n) {
  std::vector<std::uint8_t> out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<std::uint8_t>(i * 31 + i / 7);
  return out;
}

std::string error_of(const auto& call) {
  try {
    call();
  } catch (const DataError& e) {
    return e.what();
  }
  return "(no DataError)";
}

TEST(ReadGzipFile, RoundTripsSmallAndLargeContent) {
  TempDir dir;
  for (std::size_t n :
       {std::size_t{0}, std::size_t{1}, std::size_t{100000}, std::size_t{3} << 20}) {
    SCOPED_TRACE(n);
    const auto content = counting(n);
    write_gz(dir.path() / "a.gz", content);
    EXPECT_EQ(read_gzip_file(dir.path() / "a.gz"), content);
  }
}

TEST(ReadGzipFile, ReadsConcatenatedMembers) {
  TempDir dir;
  write_gz(dir.path() / "a.gz", counting(1000));
  write_gz(dir.path() / "b.gz", {1, 2, 3});
  auto both = read_raw(dir.path() / "a.gz");
  const auto second = read_raw(dir.path() / "b.gz");
  both.insert(both.end(), second.begin(), second.end());
  write_raw(dir.path() / "ab.gz", both);
  auto expected = counting(1000);
  expected.insert(expected.end(), {1, 2, 3});
  EXPECT_EQ(read_gzip_file(dir.path() / "ab.gz"), expected);
}

TEST(ReadGzipFile, RejectsTrailingGarbage) {
  TempDir dir;
  write_gz(dir.path() / "a.gz", counting(1000));
  auto bytes = read_raw(dir.path() / "a.gz");
  bytes.insert(bytes.end(), {'x', 'y'});
  write_raw(dir.path() / "a.gz", bytes);
  const std::string message = error_of([&] { read_gzip_file(dir.path() / "a.gz"); });
  EXPECT_THAT(message, HasSubstr("a.gz"));
  EXPECT_THAT(message, HasSubstr("2 trailing bytes after the gzip stream"));
}

TEST(ReadGzipFile, EnforcesSizeLimit) {
  TempDir dir;
  write_gz(dir.path() / "bomb.gz", std::vector<std::uint8_t>(1 << 20, 0));  // 1 KB compressed
  EXPECT_EQ(read_gzip_file(dir.path() / "bomb.gz", 1 << 20).size(), std::size_t{1} << 20);
  const std::string message = error_of([&] { read_gzip_file(dir.path() / "bomb.gz", 1000); });
  EXPECT_THAT(message, HasSubstr("bomb.gz"));
  EXPECT_THAT(message, HasSubstr("exceeds the limit of 1000 bytes"));
}

TEST(ReadGzipFile, LyingSizeTrailerIsHarmless) {
  // A huge claimed size in the trailer must not cause a huge allocation, only a CRC/size error.
  TempDir dir;
  write_gz(dir.path() / "a.gz", {1, 2, 3});
  auto bytes = read_raw(dir.path() / "a.gz");
  for (std::size_t i = bytes.size() - 4; i < bytes.size(); ++i) bytes[i] = 0xff;
  write_raw(dir.path() / "a.gz", bytes);
  EXPECT_THAT(error_of([&] { read_gzip_file(dir.path() / "a.gz"); }),
              HasSubstr("corrupt gzip data"));
}

TEST(ParseIdxHeader, AcceptsValidFiles) {
  const auto bytes = idx_bytes(kIdxMagicU8Images, {2, 3, 4}, counting(24));
  const IdxHeader h = parse_idx_header(bytes, kIdxMagicU8Images, "x");
  EXPECT_EQ(h.magic, kIdxMagicU8Images);
  EXPECT_EQ(h.dims, (std::vector<std::uint32_t>{2, 3, 4}));
  EXPECT_EQ(h.data_offset, 16u);
  EXPECT_EQ(h.data_bytes, 24u);

  const auto labels = idx_bytes(kIdxMagicU8Vector, {0}, {});
  EXPECT_EQ(parse_idx_header(labels, kIdxMagicU8Vector, "x").data_bytes, 0u);
}

TEST(ParseIdxHeader, RejectsEachProblemWithItsOwnMessage) {
  const auto parse = [](const std::vector<std::uint8_t>& bytes, std::uint32_t magic) {
    return error_of([&] { parse_idx_header(bytes, magic, "name.idx"); });
  };
  EXPECT_THAT(parse({0, 0, 8}, kIdxMagicU8Vector), HasSubstr("name.idx: truncated IDX header"));
  EXPECT_THAT(parse({0, 0, 8, 3, 0, 0, 0, 1}, kIdxMagicU8Images),
              HasSubstr("truncated IDX header"));
  EXPECT_THAT(parse({'P', 'K', 3, 4, 0}, kIdxMagicU8Vector),
              HasSubstr("wrong IDX magic 0x504b0304 (not an IDX magic)"));
  EXPECT_THAT(parse(idx_bytes(0x00000D01, {1}, {0, 0, 0, 0}), kIdxMagicU8Vector),
              HasSubstr("wrong IDX magic 0x00000d01 (float32, 1-D)"));
  EXPECT_THAT(parse(idx_bytes(kIdxMagicU8Images, {1u << 31, 1u << 31, 8}, {}), kIdxMagicU8Images),
              HasSubstr("2147483648x2147483648x8 are too large"));
  EXPECT_THAT(parse(idx_bytes(kIdxMagicU8Vector, {5}, {1, 2}), kIdxMagicU8Vector),
              HasSubstr("need 5 bytes of data, the file has 2 (3 bytes missing)"));
  EXPECT_THAT(parse(idx_bytes(kIdxMagicU8Vector, {1}, {1, 2}), kIdxMagicU8Vector),
              HasSubstr("(1 extra trailing bytes)"));
}

}  // namespace
}  // namespace rumor
