#include "peer/progress_display.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

namespace rumor {
namespace {

ProgressLine sample() {
  ProgressLine line;
  line.rank = 2;
  line.step = 120;
  line.total_steps = 480;
  line.epoch = 1;
  line.epochs = 4;
  line.samples_per_second = 35120.4;
  line.live_neighbours = 2;
  line.peers = 3;
  line.mean_staleness = 1.25;
  return line;
}

TEST(ProgressLine, ShowsWhatIsKnown) {
  ProgressLine line = sample();
  EXPECT_EQ(format_progress(line),
            "rank 2  step 120/480 (25.0%)  epoch 1/4  35120 samples/s  peers 2/3 live  "
            "staleness 1.2");
  line.train_loss = 0.61234;
  line.test_accuracy = 0.8012;
  line.waiting = true;
  EXPECT_EQ(format_progress(line),
            "rank 2  step 120/480 (25.0%)  epoch 1/4  loss 0.6123  acc 0.8012  35120 samples/s  "
            "peers 2/3 live  staleness 1.2  (waiting)");
}

// Reads what the display wrote to a memory stream.
class DisplayTest : public ::testing::Test {
 protected:
  void SetUp() override { out_ = open_memstream(&buffer_, &size_); }
  void TearDown() override { std::free(buffer_); }
  std::string written() {
    std::fflush(out_);
    return std::string(buffer_, size_);
  }
  void close() { std::fclose(out_); }

  char* buffer_ = nullptr;
  std::size_t size_ = 0;
  std::FILE* out_ = nullptr;
  ManualClock clock_;
};

TEST_F(DisplayTest, PlainLinesAtTheInterval) {
  ProgressDisplay display(out_, false, std::chrono::seconds(10), clock_);
  EXPECT_TRUE(display.due());
  display.update(sample());
  EXPECT_FALSE(display.due());
  display.update(sample());  // too soon: nothing
  clock_.advance(std::chrono::seconds(10));
  display.update(sample());
  display.print("an event");
  const std::string line = format_progress(sample()) + "\n";
  EXPECT_EQ(written(), line + line + "an event\n");
  close();
}

TEST_F(DisplayTest, NoIntervalMeansNoProgressLines) {
  ProgressDisplay display(out_, false, Clock::Duration(0), clock_);
  EXPECT_FALSE(display.due());
  display.update(sample());
  EXPECT_EQ(written(), "");
  close();
}

TEST_F(DisplayTest, LiveLineIsRedrawnInPlaceAndKeptBelowPrintedLines) {
  ProgressDisplay display(out_, true, Clock::Duration(0), clock_);
  display.update(sample());
  clock_.advance(std::chrono::milliseconds(100));
  display.update(sample());  // within 200 ms: not redrawn
  display.print("evaluation");
  display.finish();
  const std::string live = format_progress(sample());
  EXPECT_EQ(written(), "\r\033[K" + live + "\r\033[Kevaluation\n\r\033[K" + live + "\r\033[K");
  close();
}

}  // namespace
}  // namespace rumor
