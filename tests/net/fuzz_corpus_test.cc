// fuzz_corpus_test.cc — replays the checked-in fuzz corpus (tests/fuzz/corpus) as a regular
// test: every "<reason>--<case>.bin" must be rejected with exactly that reason, every
// "ok--<case>.bin" accepted. Also feeds every prefix of every file to the decoder.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <fstream>
#include <iterator>
#include <string>

#include "net/message.h"
#include "tests/fuzz/fuzz_input.h"

namespace rumor {
namespace {

std::vector<std::byte> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> chars((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto* begin = reinterpret_cast<const std::byte*>(chars.data());
  return {begin, begin + chars.size()};
}

std::vector<std::filesystem::path> corpus() {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(RUMOR_FUZZ_CORPUS_DIR)) {
    if (entry.path().extension() == ".bin") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

DecodeResult decode(std::span<const std::byte> bytes) {
  const auto frames = fuzz::split_frames(bytes);
  return decode_message(frames, nullptr, fuzz::expectations());
}

TEST(FuzzCorpus, EveryCaseGivesTheReasonInItsName) {
  const auto files = corpus();
  ASSERT_GE(files.size(), 30u) << RUMOR_FUZZ_CORPUS_DIR;
  for (const auto& path : files) {
    const std::string name = path.stem().string();
    const std::string expected = name.substr(0, name.find("--"));
    const DecodeResult r = decode(read_file(path));
    const std::string got = r.ok() ? "ok" : std::string(drop_reason_name(r.reason));
    EXPECT_EQ(got, expected) << path.filename();
  }
}

TEST(FuzzCorpus, CoversEveryDecoderReason) {
  std::set<std::string> seen;
  for (const auto& path : corpus()) {
    const std::string name = path.stem().string();
    seen.insert(name.substr(0, name.find("--")));
  }
  for (DropReason r = DropReason::kMissingFrame; r <= DropReason::kNonFinite;
       r = static_cast<DropReason>(static_cast<int>(r) + 1)) {
    EXPECT_TRUE(seen.count(std::string(drop_reason_name(r)))) << drop_reason_name(r);
  }
  EXPECT_TRUE(seen.count("ok"));
}

TEST(FuzzCorpus, EveryPrefixIsHandled) {
  for (const auto& path : corpus()) {
    const auto bytes = read_file(path);
    for (std::size_t n = 0; n <= bytes.size(); ++n) {
      (void)decode(std::span(bytes).first(n));  // must not crash (ASan builds check the reads)
    }
  }
}

TEST(FuzzInput, SplitInvertsJoin) {
  const std::vector<std::vector<std::byte>> frames = {{std::byte{1}, std::byte{2}}, {}, {std::byte{3}}};
  const auto joined = fuzz::join_frames(frames);
  const auto split = fuzz::split_frames(joined);
  ASSERT_EQ(split.size(), 3u);
  EXPECT_EQ(split[0].size(), 2u);
  EXPECT_EQ(split[1].size(), 0u);
  EXPECT_EQ(split[2].size(), 1u);
}

}  // namespace
}  // namespace rumor
