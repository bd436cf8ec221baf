// CheckpointStore: file naming, keep-K pruning that touches only its own files, and
// load_newest_valid falling back past corrupt, truncated and misnamed files while removing
// the temporary files of interrupted writes.
#include "train/checkpoint_store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

#include "core/error.h"
#include "test_files.h"
#include "train/atomic_file.h"

namespace rumor {
namespace {

namespace fs = std::filesystem;
using testing_files::TempDir;

Checkpoint at_step(std::int64_t step) {
  Checkpoint c;
  c.model = "4-3-2";
  c.batch = 1;
  c.step = step;
  c.total_steps = 1000;
  c.params = {static_cast<float>(step), 1.0f};
  c.velocity = {0.0f, 0.5f};
  c.loss_sums = {0.0f};
  return c;
}

std::vector<std::string> names(const std::vector<fs::path>& paths) {
  std::vector<std::string> out;
  for (const auto& p : paths) out.push_back(p.filename().string());
  return out;
}

void corrupt_byte(const fs::path& path, std::streamoff offset) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(offset);
  const char c = static_cast<char>(f.get());
  f.seekp(offset);
  f.put(static_cast<char>(c ^ 0x20));
}

void truncate_to(const fs::path& path, std::uintmax_t size) { fs::resize_file(path, size); }

TEST(CheckpointStoreTest, NamesSortByStepAndParseBack) {
  EXPECT_EQ(CheckpointStore::file_name(1200), "ckpt-0000001200.rumor");
  EXPECT_EQ(CheckpointStore::step_of("ckpt-0000001200.rumor"), 1200);
  EXPECT_EQ(CheckpointStore::step_of("ckpt-9999999999.rumor"), 9999999999);
  for (const char* other : {"ckpt-1200.rumor", "ckpt-000000120x.rumor", "ckpt-0000001200.bin",
                            "ckpt-0000001200.rumor.tmp.42", "xckpt-0000001200.rumor", ""}) {
    EXPECT_FALSE(CheckpointStore::step_of(other)) << other;
  }
  EXPECT_THROW(CheckpointStore::file_name(-1), Error);
}

TEST(CheckpointStoreTest, RejectsKeepBelowOne) {
  TempDir dir;
  try {
    CheckpointStore store(dir.path(), 0);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_NE(std::string(error.what()).find("--keep-checkpoints"), std::string::npos);
  }
}

TEST(CheckpointStoreTest, CreatesTheFolderAndRoundTrips) {
  TempDir dir;
  CheckpointStore store(dir.path() / "a" / "b");
  EXPECT_EQ(store.save(at_step(5)), dir.path() / "a" / "b" / "ckpt-0000000005.rumor");
  const CheckpointScan scan = store.load_newest_valid();
  ASSERT_TRUE(scan.newest);
  EXPECT_EQ(*scan.newest, at_step(5));
  EXPECT_EQ(scan.path.filename(), "ckpt-0000000005.rumor");
  EXPECT_TRUE(scan.skipped.empty());
}

TEST(CheckpointStoreTest, KeepsTheNewestKAndOnlyTouchesItsOwnFiles) {
  TempDir dir;
  testing_files::write_raw(dir.path() / "notes.txt", {'h', 'i'});
  testing_files::write_raw(dir.path() / "ckpt-12.rumor", {'x'});
  CheckpointStore store(dir.path(), 3);
  for (std::int64_t step : {10, 20, 30, 40, 50}) store.save(at_step(step));
  EXPECT_EQ(names(store.list()), (std::vector<std::string>{
                                     "ckpt-0000000030.rumor", "ckpt-0000000040.rumor",
                                     "ckpt-0000000050.rumor"}));
  EXPECT_TRUE(fs::exists(dir.path() / "notes.txt"));
  EXPECT_TRUE(fs::exists(dir.path() / "ckpt-12.rumor"));
}

// After a resume that skipped a corrupt newer file, the run saves lower steps than that
// file: pruning removes old files first but never the one it has just written.
TEST(CheckpointStoreTest, PruningNeverDeletesTheFileJustWritten) {
  TempDir dir;
  CheckpointStore store(dir.path(), 2);
  store.save(at_step(90));
  store.save(at_step(100));
  store.save(at_step(60));
  EXPECT_EQ(names(store.list()),
            (std::vector<std::string>{"ckpt-0000000060.rumor", "ckpt-0000000100.rumor"}));
  CheckpointStore keep_one(dir.path(), 1);
  keep_one.save(at_step(70));
  EXPECT_EQ(names(store.list()), (std::vector<std::string>{"ckpt-0000000070.rumor"}));
}

TEST(CheckpointStoreTest, LoadNewestValidSkipsCorruptNewestAndReturnsThePrevious) {
  TempDir dir;
  CheckpointStore store(dir.path(), 5);
  for (std::int64_t step : {10, 20, 30, 40}) store.save(at_step(step));
  corrupt_byte(dir.path() / "ckpt-0000000040.rumor", 120);
  truncate_to(dir.path() / "ckpt-0000000030.rumor", 50);

  const CheckpointScan scan = store.load_newest_valid();
  ASSERT_TRUE(scan.newest);
  EXPECT_EQ(scan.newest->step, 20);
  EXPECT_EQ(*scan.newest, at_step(20));
  EXPECT_EQ(scan.path, dir.path() / "ckpt-0000000020.rumor");
  ASSERT_EQ(scan.skipped.size(), 2u);
  EXPECT_EQ(scan.skipped[0].path, dir.path() / "ckpt-0000000040.rumor");
  EXPECT_NE(scan.skipped[0].reason.find("checksum mismatch"), std::string::npos);
  EXPECT_NE(scan.skipped[0].reason.find("ckpt-0000000040.rumor"), std::string::npos);
  EXPECT_EQ(scan.skipped[1].path, dir.path() / "ckpt-0000000030.rumor");
  EXPECT_NE(scan.skipped[1].reason.find("truncated"), std::string::npos);
  // The damaged files stay for inspection.
  EXPECT_TRUE(fs::exists(dir.path() / "ckpt-0000000040.rumor"));
}

TEST(CheckpointStoreTest, NothingValidReturnsNoCheckpointAndEverySkippedFile) {
  TempDir dir;
  CheckpointStore store(dir.path());
  EXPECT_FALSE(store.load_newest_valid().newest);
  store.save(at_step(1));
  store.save(at_step(2));
  truncate_to(dir.path() / "ckpt-0000000001.rumor", 0);
  corrupt_byte(dir.path() / "ckpt-0000000002.rumor", 0);
  const CheckpointScan scan = store.load_newest_valid();
  EXPECT_FALSE(scan.newest);
  EXPECT_TRUE(scan.path.empty());
  ASSERT_EQ(scan.skipped.size(), 2u);
  EXPECT_NE(scan.skipped[0].reason.find("bad magic"), std::string::npos);
}

TEST(CheckpointStoreTest, StrayTemporaryFileIsIgnoredAndRemoved) {
  TempDir dir;
  CheckpointStore store(dir.path());
  store.save(at_step(30));
  // What a crash in the middle of writing step 40 leaves behind.
  const fs::path stray = dir.path() / "ckpt-0000000040.rumor.tmp.12345";
  testing_files::write_raw(stray, {'R', 'U', 'M', 'O', 'R', 'C', 'K', 'P', 1, 0});
  const fs::path foreign = dir.path() / "ckpt-0000000040.rumor.tmp.backup";
  testing_files::write_raw(foreign, {'x'});

  const CheckpointScan scan = store.load_newest_valid();
  ASSERT_TRUE(scan.newest);
  EXPECT_EQ(scan.newest->step, 30);
  EXPECT_TRUE(scan.skipped.empty());
  EXPECT_EQ(scan.removed_temporaries, std::vector<fs::path>{stray});
  EXPECT_FALSE(fs::exists(stray));
  EXPECT_TRUE(fs::exists(foreign));  // not a name the store writes
}

TEST(CheckpointStoreTest, FileWhoseNameAndStepDisagreeIsSkipped) {
  TempDir dir;
  CheckpointStore store(dir.path());
  store.save(at_step(20));
  fs::copy_file(dir.path() / "ckpt-0000000020.rumor", dir.path() / "ckpt-0000000050.rumor");
  const CheckpointScan scan = store.load_newest_valid();
  ASSERT_TRUE(scan.newest);
  EXPECT_EQ(scan.newest->step, 20);
  ASSERT_EQ(scan.skipped.size(), 1u);
  EXPECT_NE(scan.skipped[0].reason.find("holds step 20 but its name says step 50"),
            std::string::npos)
      << scan.skipped[0].reason;
}

}  // namespace
}  // namespace rumor
