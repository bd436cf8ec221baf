// AbortableBarrier: phases in order across many rounds, no thread passes before all arrive,
// and abort() releases waiting and later arrivals with the first reason.
#include "core/abortable_barrier.h"

#include <gtest/gtest.h>

#include <atomic>
#include <exception>
#include <string>
#include <thread>
#include <vector>

namespace rumor {
namespace {

TEST(AbortableBarrier, NoThreadPassesAPhaseBeforeEveryoneArrived) {
  constexpr int kThreads = 4;
  constexpr int kRounds = 2000;
  AbortableBarrier barrier(kThreads);
  std::atomic<int> arrivals = 0;
  std::atomic<bool> early = false;
  std::vector<std::vector<std::uint64_t>> phases(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < kRounds; ++round) {
        ++arrivals;
        phases[t].push_back(barrier.arrive_and_wait());
        // Every thread of this round has arrived, and none of the next can have.
        if (arrivals.load() != (round + 1) * kThreads) early = true;
        barrier.arrive_and_wait();  // keeps the next round's arrivals out of the check
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_FALSE(early);
  for (int t = 0; t < kThreads; ++t) {
    ASSERT_EQ(phases[t].size(), static_cast<std::size_t>(kRounds));
    for (int round = 0; round < kRounds; ++round) EXPECT_EQ(phases[t][round], 2u * round);
  }
}

TEST(AbortableBarrier, AbortReleasesWaitersAndLaterArrivalsWithTheFirstReason) {
  AbortableBarrier barrier(3);
  std::vector<std::string> errors(2);
  std::vector<std::thread> waiters;
  for (int t = 0; t < 2; ++t) {
    waiters.emplace_back([&, t] {
      try {
        barrier.arrive_and_wait();
      } catch (const BarrierAborted& e) {
        errors[t] = e.what();
      }
    });
  }
  // The third party never comes; whether the waiters arrived yet or not, they must throw.
  barrier.abort("party 2 failed");
  barrier.abort("a later reason");
  for (std::thread& t : waiters) t.join();
  EXPECT_EQ(errors[0], "party 2 failed");
  EXPECT_EQ(errors[1], "party 2 failed");
  EXPECT_THROW(barrier.arrive_and_wait(), BarrierAborted);
}

TEST(AbortableBarrier, OnePartyNeverWaits) {
  AbortableBarrier barrier(1);
  EXPECT_EQ(barrier.arrive_and_wait(), 0u);
  EXPECT_EQ(barrier.arrive_and_wait(), 1u);
  EXPECT_THROW(AbortableBarrier(0), Error);
}

}  // namespace
}  // namespace rumor
