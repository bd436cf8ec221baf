#include "gossip/topology.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <queue>
#include <set>

#include "core/error.h"
#include "core/rng.h"

namespace rumor {
namespace {

using Neighbours = std::vector<int>;

// True when every live peer reaches every other live peer along the union of the out-edges
// of rounds [0, rounds).
bool live_graph_strongly_connected(const Topology& t, const std::vector<bool>& alive_vec,
                                   int rounds) {
  const int n = t.world();
  std::vector<std::set<int>> edges(n);
  const std::vector<bool>& alive = alive_vec;
  for (int r = 0; r < n; ++r) {
    if (!alive_vec[r]) continue;
    for (int round = 0; round < rounds; ++round) {
      for (int p : t.neighbours(r, round, alive)) {
        if (!alive_vec[p]) return false;  // never send to the dead
        edges[r].insert(p);
      }
    }
  }
  for (int start = 0; start < n; ++start) {
    if (!alive_vec[start]) continue;
    std::vector<bool> seen(n, false);
    std::queue<int> frontier;
    frontier.push(start);
    seen[start] = true;
    while (!frontier.empty()) {
      const int r = frontier.front();
      frontier.pop();
      for (int p : edges[r]) {
        if (!seen[p]) seen[p] = true, frontier.push(p);
      }
    }
    for (int r = 0; r < n; ++r) {
      if (alive_vec[r] && !seen[r]) return false;
    }
  }
  return true;
}

std::vector<bool> all_alive(int n) { return std::vector<bool>(n, true); }

TEST(Topology, RingHasBothSides) {
  const auto t = Topology::parse("ring", 5);
  EXPECT_EQ(t.base_neighbours(0, 0), (Neighbours{1, 4}));
  EXPECT_EQ(t.base_neighbours(4, 7), (Neighbours{0, 3}));
  EXPECT_EQ(Topology::parse("ring", 2).base_neighbours(0, 0), (Neighbours{1}));
  EXPECT_TRUE(Topology::parse("ring", 1).base_neighbours(0, 0).empty());
}

TEST(Topology, TorusUsesMostSquareGrid) {
  const auto t = Topology::parse("torus", 12);  // 3 x 4
  auto n = t.base_neighbours(5, 0);              // row 1, col 1
  std::sort(n.begin(), n.end());
  EXPECT_EQ(n, (Neighbours{1, 4, 6, 9}));
  auto corner = t.base_neighbours(0, 0);
  std::sort(corner.begin(), corner.end());
  EXPECT_EQ(corner, (Neighbours{1, 3, 4, 8}));
}

TEST(Topology, ExponentialUsesPowersOfTwo) {
  const auto t = Topology::parse("exponential", 8);
  EXPECT_EQ(t.base_neighbours(3, 0), (Neighbours{4, 5, 7}));
  EXPECT_FALSE(t.time_varying());
}

TEST(Topology, OnePeerExponentialCyclesThroughDistances) {
  const auto t = Topology::parse("one-peer-exponential", 8);
  EXPECT_TRUE(t.time_varying());
  EXPECT_EQ(t.base_neighbours(3, 0), (Neighbours{4}));
  EXPECT_EQ(t.base_neighbours(3, 1), (Neighbours{5}));
  EXPECT_EQ(t.base_neighbours(3, 2), (Neighbours{7}));
  EXPECT_EQ(t.base_neighbours(3, 3), (Neighbours{4}));
}

TEST(Topology, CompleteHasEveryOtherRank) {
  const auto n = Topology::parse("complete", 4).base_neighbours(2, 0);
  EXPECT_EQ(std::set<int>(n.begin(), n.end()), (std::set<int>{0, 1, 3}));
}

TEST(Topology, RandomKIsSeededDistinctAndIncludesNext) {
  const auto a = Topology::parse("random:3", 10, 42);
  const auto b = Topology::parse("random:3", 10, 42);
  const auto c = Topology::parse("random:3", 10, 43);
  bool differs = false;
  for (int r = 0; r < 10; ++r) {
    const auto n = a.base_neighbours(r, 0);
    EXPECT_EQ(n, b.base_neighbours(r, 5));
    differs |= n != c.base_neighbours(r, 0);
    ASSERT_EQ(n.size(), 3u);
    EXPECT_EQ(n[0], (r + 1) % 10);
    EXPECT_EQ(std::set<int>(n.begin(), n.end()).size(), 3u);
    EXPECT_EQ(std::count(n.begin(), n.end(), r), 0);
  }
  EXPECT_TRUE(differs);
  EXPECT_EQ(Topology::parse("random:9", 4).base_neighbours(0, 0).size(), 3u);
}

TEST(Topology, DeadNeighbourIsReplacedByNextLivePeer) {
  const auto t = Topology::parse("ring", 6);
  std::vector<bool> alive = {true, true, false, true, true, true};
  EXPECT_EQ(t.neighbours(1, 0, alive), (Neighbours{3, 0}));  // right side skips dead 2
  EXPECT_EQ(t.neighbours(3, 0, alive), (Neighbours{4, 1}));  // left side skips dead 2
  alive = {true, false, false, false, false, false};
  EXPECT_TRUE(t.neighbours(0, 0, alive).empty());
  alive = {true, false, false, true, false, false};
  EXPECT_EQ(t.neighbours(0, 0, alive), (Neighbours{3}));
}

TEST(Topology, LiveGraphStaysStronglyConnectedUnderFailures) {
  for (const char* kind : {"ring", "torus", "exponential", "one-peer-exponential", "complete",
                           "random:2"}) {
    for (int n : {2, 3, 4, 8, 9, 12, 16}) {
      const auto t = Topology::parse(kind, n, 7);
      const int rounds = t.time_varying() ? 8 : 1;
      EXPECT_TRUE(live_graph_strongly_connected(t, all_alive(n), rounds)) << kind << " " << n;
      Rng rng(static_cast<std::uint64_t>(n));
      for (int trial = 0; trial < 50; ++trial) {
        std::vector<bool> alive(n);
        for (int r = 0; r < n; ++r) alive[r] = rng.uniform() < 0.6;
        EXPECT_TRUE(live_graph_strongly_connected(t, alive, rounds))
            << kind << " n=" << n << " trial " << trial;
      }
    }
  }
}

class TopologyFileTest : public ::testing::Test {
 protected:
  std::string write(const std::string& text) {
    path_ = std::filesystem::path(::testing::TempDir()) /
            ("topology_" + std::to_string(::getpid()) + ".txt");
    std::ofstream(path_) << text;
    return "file:" + path_.string();
  }
  void TearDown() override { std::filesystem::remove(path_); }
  std::filesystem::path path_;
};

TEST_F(TopologyFileTest, ReadsOneLinePerRank) {
  const auto t = Topology::parse(write("# star\n1,2\n0\n0 1 # comment\n"), 3);
  EXPECT_EQ(t.base_neighbours(0, 0), (Neighbours{1, 2}));
  EXPECT_EQ(t.base_neighbours(1, 0), (Neighbours{0}));
  EXPECT_EQ(t.base_neighbours(2, 0), (Neighbours{0, 1}));
}

TEST_F(TopologyFileTest, RejectsBadFilesWithLineNumbers) {
  const auto expect_error = [&](const std::string& text, int world, const std::string& phrase) {
    try {
      Topology::parse(write(text), world);
      ADD_FAILURE() << "accepted: " << text;
    } catch (const ConfigError& error) {
      EXPECT_NE(std::string(error.what()).find(phrase), std::string::npos) << error.what();
    }
  };
  expect_error("1\n0\n", 3, "has 2 rank lines");
  expect_error("1\n5\n", 2, ":2: '5'");
  expect_error("0\n0\n", 2, ":1: '0'");  // a rank may not list itself
  expect_error("x\n0\n", 2, "'x'");
  EXPECT_THROW(Topology::parse("file:/nonexistent/topology", 2), ConfigError);
}

TEST(Topology, RejectsUnknownKinds) {
  try {
    Topology::parse("star", 4);
    FAIL();
  } catch (const ConfigError& error) {
    EXPECT_NE(std::string(error.what()).find("one-peer-exponential"), std::string::npos);
  }
  EXPECT_THROW(Topology::parse("random:0", 4), ConfigError);
  EXPECT_THROW(Topology::parse("random:x", 4), ConfigError);
}

}  // namespace
}  // namespace rumor
