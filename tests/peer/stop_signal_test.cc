// StopSignal: the first SIGINT/SIGTERM sets the flag, a second one exits with 130, the
// previous handlers come back on destruction, and only one may be alive at a time. raise()
// runs the handler before it returns, so nothing here waits.
#include "peer/stop_signal.h"

#include <gtest/gtest.h>

#include <csignal>

#include "core/error.h"

namespace rumor {
namespace {

volatile std::sig_atomic_t g_custom_calls = 0;
extern "C" void custom_handler(int) { g_custom_calls = g_custom_calls + 1; }

void (*current_handler(int signal_number))(int) {
  struct sigaction now {};
  ::sigaction(signal_number, nullptr, &now);
  return now.sa_handler;
}

TEST(StopSignalTest, FirstSignalSetsTheFlag) {
  StopSignal stop;
  EXPECT_FALSE(stop.stop_requested());
  EXPECT_STREQ(stop.signal_name(), "no signal");
  ASSERT_EQ(std::raise(SIGTERM), 0);
  EXPECT_TRUE(stop.stop_requested());
  EXPECT_EQ(stop.signal_number(), SIGTERM);
  EXPECT_STREQ(stop.signal_name(), "SIGTERM");
}

TEST(StopSignalTest, ANewStopSignalStartsClear) {
  {
    StopSignal stop;
    ASSERT_EQ(std::raise(SIGINT), 0);
    EXPECT_EQ(stop.signal_number(), SIGINT);
  }
  StopSignal again;
  EXPECT_FALSE(again.stop_requested());
}

TEST(StopSignalTest, SecondSignalExitsAtOnceWith130) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        StopSignal stop;
        std::raise(SIGINT);
        std::raise(SIGTERM);
        std::_Exit(0);  // not reached
      },
      ::testing::ExitedWithCode(StopSignal::kExitCodeOnSecondSignal),
      "stopping after the current step");
}

TEST(StopSignalTest, RestoresThePreviousHandlers) {
  std::signal(SIGTERM, custom_handler);
  std::signal(SIGINT, custom_handler);
  {
    StopSignal stop;
    EXPECT_NE(current_handler(SIGTERM), custom_handler);
  }
  EXPECT_EQ(current_handler(SIGTERM), custom_handler);
  EXPECT_EQ(current_handler(SIGINT), custom_handler);
  ASSERT_EQ(std::raise(SIGTERM), 0);
  EXPECT_EQ(g_custom_calls, 1);
  std::signal(SIGTERM, SIG_DFL);
  std::signal(SIGINT, SIG_DFL);
}

TEST(StopSignalTest, OnlyOneAtATime) {
  StopSignal first;
  EXPECT_THROW(StopSignal second, Error);
  ASSERT_EQ(std::raise(SIGTERM), 0);  // the first one still handles signals
  EXPECT_TRUE(first.stop_requested());
}

}  // namespace
}  // namespace rumor
