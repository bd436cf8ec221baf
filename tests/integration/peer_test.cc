// `rumor peer` as users run it: several real processes on one machine gossiping over ipc
// sockets, trained on subsets of the real Fashion-MNIST. The harness synchronises on what the
// peers print (progress lines, summaries), never on sleeps. RUMOR_BIN names the binary.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <signal.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "tests/integration/child_process.h"

namespace {

namespace fs = std::filesystem;
using rumor_test::ChildProcess;
using rumor_test::wait_until;

constexpr int kPeers = 4;
// Each peer trains on 3000 examples of its shard (4 epochs, 10 warm-up steps) and is tested on
// 2000 test examples: about 0.80 with gossip.
constexpr double kAgreedAccuracy = 0.75;

std::string rumor_bin() {
  const char* bin = std::getenv("RUMOR_BIN");
  return bin ? bin : "rumor";
}

// The last "step N/" a peer printed in a progress line (-1 before the first).
long last_progress_step(const std::string& output) {
  static const std::regex step(R"(rank \d+  step (\d+)/)");
  long last = -1;
  for (auto it = std::sregex_iterator(output.begin(), output.end(), step);
       it != std::sregex_iterator(); ++it) {
    last = std::stol((*it)[1]);
  }
  return last;
}

// The accuracy in "final test accuracy 0.8123", or -1.
double final_accuracy(const std::string& output) {
  static const std::regex final(R"(final test accuracy ([0-9.]+))");
  std::smatch match;
  return std::regex_search(output, match, final) ? std::stod(match[1]) : -1.0;
}

class PeerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) / ("peer_test_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    std::ofstream peers(dir_ / "peers.txt");
    peers << "# " << kPeers << " peers on ipc sockets\n";
    for (int r = 0; r < kPeers; ++r) peers << "ipc://" << (dir_ / ("p" + std::to_string(r))).string() << "\n";
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<ChildProcess> start_peer(int rank, const std::vector<std::string>& extra) {
    std::vector<std::string> args = {"peer", "--peers", (dir_ / "peers.txt").string(),
                                     "--rank", std::to_string(rank),
                                     "--out", (dir_ / ("out-" + std::to_string(rank))).string(),
                                     "--limit-train", "3000", "--limit-test", "2000",
                                     "--progress-every", "0.05", "--http", "off",
                                     "--warmup-steps", "10"};
    args.insert(args.end(), extra.begin(), extra.end());
    return std::make_unique<ChildProcess>(rumor_bin(), args);
  }

  fs::path dir_;
};

TEST_F(PeerTest, FourPeersTrainTheirShardsAndAllReachTheAgreedAccuracy) {
  std::vector<std::unique_ptr<ChildProcess>> peers;
  for (int r = 0; r < kPeers; ++r) peers.push_back(start_peer(r, {"--epochs", "4"}));
  std::vector<std::string> params;
  for (int r = 0; r < kPeers; ++r) {
    ASSERT_EQ(peers[r]->wait(std::chrono::seconds(180)), 0) << peers[r]->output();
    const std::string& out = peers[r]->output();
    EXPECT_NE(out.find("rank " + std::to_string(r) + " of 4"), std::string::npos) << out;
    EXPECT_GE(final_accuracy(out), kAgreedAccuracy) << out;
    // It gossiped: it applied what its neighbours sent.
    EXPECT_EQ(out.find("applied 0,"), std::string::npos) << out;
    params.push_back((dir_ / ("out-" + std::to_string(r)) / "params.bin").string());
  }
  // The consensus model (the average of the replicas) is at least as good.
  std::vector<std::string> eval_args = {"eval", "--limit-test", "2000", "--average"};
  eval_args.insert(eval_args.end(), params.begin(), params.end());
  ChildProcess eval(rumor_bin(), eval_args);
  ASSERT_EQ(eval.wait(), 0) << eval.output();
  static const std::regex average(R"(average of 4 replicas: .*test accuracy ([0-9.]+))");
  std::smatch match;
  ASSERT_TRUE(std::regex_search(eval.output(), match, average)) << eval.output();
  EXPECT_GE(std::stod(match[1]), kAgreedAccuracy) << eval.output();
}

// kill -9 one peer mid-run: the others keep making progress; restarted with --resume it
// continues from its last checkpoint, hears its neighbours again and finishes with the agreed
// accuracy, as do the others.
TEST_F(PeerTest, KilledPeerResumesFromItsCheckpointAndRejoins) {
  constexpr int kVictim = 2;
  const auto options = [&](int rank) {
    return std::vector<std::string>{
        // 920 steps at 4x the compute time: the survivors are still training when the
        // victim is back (its restart takes a second or two of data loading).
        "--epochs", "40", "--slowdown", "4", "--checkpoint-every", "5", "--checkpoint-dir",
        (dir_ / ("ckpt-" + std::to_string(rank))).string()};
  };
  std::vector<std::unique_ptr<ChildProcess>> peers;
  for (int r = 0; r < kPeers; ++r) peers.push_back(start_peer(r, options(r)));
  const auto all = [&] {
    std::vector<ChildProcess*> children;
    for (auto& p : peers) children.push_back(p.get());
    return children;
  };
  ASSERT_TRUE(wait_until(all(), [&] { return last_progress_step(peers[kVictim]->output()) >= 40; }))
      << peers[kVictim]->output();
  peers[kVictim]->signal(SIGKILL);
  EXPECT_EQ(peers[kVictim]->wait(), 128 + SIGKILL);
  const long killed_at = last_progress_step(peers[kVictim]->output());

  // The survivors keep training: each gets 30 steps further than it was.
  std::vector<long> before(kPeers);
  for (int r = 0; r < kPeers; ++r) before[r] = last_progress_step(peers[r]->output());
  ASSERT_TRUE(wait_until(all(), [&] {
    for (int r = 0; r < kPeers; ++r) {
      if (r != kVictim && last_progress_step(peers[r]->output()) < before[r] + 30) return false;
    }
    return true;
  })) << "a survivor stopped making progress";

  std::vector<std::string> resume = options(kVictim);
  resume.push_back("--resume");
  peers[kVictim] = start_peer(kVictim, resume);
  ASSERT_TRUE(wait_until(all(), [&] {
    return peers[kVictim]->output().find("resuming from") != std::string::npos;
  })) << peers[kVictim]->output();
  static const std::regex resumed(R"(resuming from .*: step (\d+) of)");
  std::smatch match;
  const std::string restarted = peers[kVictim]->output();
  ASSERT_TRUE(std::regex_search(restarted, match, resumed)) << restarted;
  const long resumed_step = std::stol(match[1]);
  EXPECT_GT(resumed_step, 0);
  EXPECT_LE(resumed_step, killed_at) << "a checkpoint from after the kill?";
  EXPECT_GT(resumed_step, killed_at - 10) << "checkpoints are every 5 steps";

  for (int r = 0; r < kPeers; ++r) {
    ASSERT_EQ(peers[r]->wait(std::chrono::seconds(180)), 0) << peers[r]->output();
    EXPECT_GE(final_accuracy(peers[r]->output()), kAgreedAccuracy) << peers[r]->output();
  }
  // Back in the cluster: it heard its neighbours and applied what they sent.
  const std::string& out = peers[kVictim]->output();
  static const std::regex received(R"(gossip sent \d+, received (\d+), applied (\d+))");
  ASSERT_TRUE(std::regex_search(out, match, received)) << out;
  EXPECT_GT(std::stol(match[1]), 0) << out;
  EXPECT_GT(std::stol(match[2]), 0) << out;
}

// Status, metrics and faults of live peers through `rumor ctl`; SIGTERM stops a peer
// gracefully (exit 0, a checkpoint), and its neighbour hears it leave.
TEST_F(PeerTest, LivePeersAnswerCtlAndStopGracefullyOnSigterm) {
  std::ofstream(dir_ / "two.txt") << "ipc://" << (dir_ / "q0").string() << "\n"
                                  << "ipc://" << (dir_ / "q1").string() << "\n";
  const auto start = [&](int rank, std::vector<std::string> extra) {
    std::vector<std::string> args = {"peer", "--peers", (dir_ / "two.txt").string(),
                                     "--rank", std::to_string(rank),
                                     "--out", (dir_ / ("two-" + std::to_string(rank))).string(),
                                     "--limit-train", "3000", "--limit-test", "500",
                                     "--epochs", "400", "--slowdown", "2",
                                     "--progress-every", "0.05", "--http", "127.0.0.1:0"};
    args.insert(args.end(), extra.begin(), extra.end());
    return std::make_unique<ChildProcess>(rumor_bin(), args);
  };
  auto faulty = start(0, {"--enable-faults", "--checkpoint-dir", (dir_ / "two-ckpt").string()});
  auto plain = start(1, {});
  const std::vector<ChildProcess*> both = {faulty.get(), plain.get()};
  ASSERT_TRUE(wait_until(both, [&] {
    return last_progress_step(faulty->output()) >= 20 && last_progress_step(plain->output()) >= 20;
  })) << faulty->output() << plain->output();
  const auto address = [&](int rank) {
    std::ifstream in(dir_ / ("two-" + std::to_string(rank)) / "http.addr");
    std::string text;
    in >> text;
    return text;
  };
  const auto ctl = [&](std::vector<std::string> args) {
    args.insert(args.begin(), "ctl");
    ChildProcess child(rumor_bin(), args);
    const int code = child.wait(std::chrono::seconds(30));
    // Keep the peers' pipes drained meanwhile.
    wait_until(both, [] { return true; });
    return std::make_pair(code, child.output());
  };

  auto [code, out] = ctl({address(0), "status", "--json"});
  ASSERT_EQ(code, 0) << out;
  const auto status = nlohmann::json::parse(out);
  EXPECT_EQ(status["rank"], 0);
  EXPECT_GE(status["step"].get<long>(), 20);
  std::tie(code, out) = ctl({address(1), "metrics"});
  ASSERT_EQ(code, 0) << out;
  EXPECT_NE(out.find("rumor_step{rank=\"1\"}"), std::string::npos) << out;

  std::tie(code, out) = ctl({address(0), "faults", "--drop", "0.5", "--slowdown", "3"});
  ASSERT_EQ(code, 0) << out;
  EXPECT_EQ(nlohmann::json::parse(out)["drop"], 0.5);
  std::tie(code, out) = ctl({address(1), "faults", "--drop", "0.5"});
  EXPECT_EQ(code, 1) << out;
  EXPECT_NE(out.find("--enable-faults"), std::string::npos) << out;

  // Faults off again, so that its BYE is not among the dropped messages.
  std::tie(code, out) = ctl({address(0), "faults", "--clear"});
  ASSERT_EQ(code, 0) << out;
  faulty->signal(SIGTERM);
  EXPECT_EQ(faulty->wait(), 0) << faulty->output();
  EXPECT_NE(faulty->output().find("stopped by SIGTERM"), std::string::npos) << faulty->output();
  EXPECT_FALSE(fs::is_empty(dir_ / "two-ckpt"));
  // Its BYE reaches the neighbour, which sees it dead at once and carries on alone.
  ASSERT_TRUE(wait_until({plain.get()}, [&] {
    return plain->output().find("sees peer 0 as dead") != std::string::npos;
  })) << plain->output();
  plain->signal(SIGTERM);
  EXPECT_EQ(plain->wait(), 0) << plain->output();
}

// A straggler (4x slower) with --catch-up-lag pulls a fast neighbour's state whenever it is
// more than 50 steps behind, and its trainer continues from that step: it finishes with the
// others instead of far behind them.
TEST_F(PeerTest, StragglerCatchesUpWithTheFastPeersStep) {
  std::vector<std::unique_ptr<ChildProcess>> peers;
  for (int r = 0; r < kPeers; ++r) {
    peers.push_back(start_peer(r, {"--epochs", "30", "--rule", "average", "--catch-up-lag", "50",
                                   "--slowdown", r == 3 ? "4" : "1"}));
  }
  for (int r = 0; r < kPeers; ++r) {
    ASSERT_EQ(peers[r]->wait(std::chrono::seconds(180)), 0) << peers[r]->output();
    EXPECT_GE(final_accuracy(peers[r]->output()), kAgreedAccuracy) << peers[r]->output();
  }
  const std::string& straggler = peers[3]->output();
  static const std::regex jumped(R"(rank 3: caught up from peer \d, continuing at step (\d+))");
  std::smatch match;
  ASSERT_TRUE(std::regex_search(straggler, match, jumped)) << straggler;
  EXPECT_GT(std::stol(match[1]), 50) << straggler;
  EXPECT_NE(straggler.find("690 steps"), std::string::npos) << straggler;  // 30 epochs x 23
}

// A peer that rejoins (--resume or --catch-up) a run that has ended waits only until its
// failure detector has declared the others dead, not the whole --startup-wait, then trains
// alone and finishes.
TEST_F(PeerTest, RejoiningAnEndedRunStartsAloneOnceTheOthersAreDead) {
  auto peer = start_peer(1, {"--epochs", "1", "--limit-train", "1000", "--catch-up",
                             "--catch-up-timeout-ms", "500", "--startup-wait", "600"});
  ASSERT_EQ(peer->wait(std::chrono::seconds(120)), 0) << peer->output();
  const std::string& out = peer->output();
  EXPECT_NE(out.find("rank 1: every other peer is dead"), std::string::npos) << out;
  EXPECT_EQ(out.find("starting anyway"), std::string::npos) << "it waited out --startup-wait";
  EXPECT_GT(final_accuracy(out), 0.0) << out;
}

// Hierarchical peers: 2 nodes of 2 replicas each (threads, CPU local group). Each node's
// replicas end bit-identical, and each node reaches the accuracy of one replica trained alone
// on all the data both nodes saw (same epochs), within a point.
TEST_F(PeerTest, TwoNodesOfTwoReplicasKeepTheirReplicasIdenticalAndReachOneReplicasAccuracy) {
  std::ofstream(dir_ / "nodes.txt") << "ipc://" << (dir_ / "n0").string() << "\n"
                                    << "ipc://" << (dir_ / "n1").string() << "\n";
  const std::vector<std::string> recipe = {"--epochs", "10", "--limit-test", "2000",
                                           "--warmup-steps", "10"};
  std::vector<std::unique_ptr<ChildProcess>> nodes;
  for (int r = 0; r < 2; ++r) {
    std::vector<std::string> args = {"peer", "--peers", (dir_ / "nodes.txt").string(),
                                     "--rank", std::to_string(r), "--local-replicas", "2",
                                     "--out", (dir_ / ("node-" + std::to_string(r))).string(),
                                     "--limit-train", "6000", "--http", "off"};
    args.insert(args.end(), recipe.begin(), recipe.end());
    nodes.push_back(std::make_unique<ChildProcess>(rumor_bin(), args));
  }
  std::vector<std::string> alone_args = {"train", "--limit-train", "12000", "--out",
                                         (dir_ / "alone").string()};
  alone_args.insert(alone_args.end(), recipe.begin(), recipe.end());
  ChildProcess alone(rumor_bin(), alone_args);
  ASSERT_EQ(alone.wait(std::chrono::seconds(180)), 0) << alone.output();
  const double reference = final_accuracy(alone.output());
  ASSERT_GT(reference, 0.8) << alone.output();
  for (int r = 0; r < 2; ++r) {
    ASSERT_EQ(nodes[r]->wait(std::chrono::seconds(180)), 0) << nodes[r]->output();
    const std::string& out = nodes[r]->output();
    EXPECT_NE(out.find("2 replicas on cpu, cpu; gradients all-reduced every step"),
              std::string::npos) << out;
    EXPECT_NE(out.find("local replicas: 2, identical"), std::string::npos) << out;
    EXPECT_GE(final_accuracy(out), reference - 0.01) << out;
    EXPECT_EQ(out.find("applied 0,"), std::string::npos) << "the nodes did not gossip\n" << out;
    // The summary record says the same.
    std::ifstream metrics(dir_ / ("node-" + std::to_string(r)) / "metrics.jsonl");
    nlohmann::json summary;
    for (std::string line; std::getline(metrics, line);) {
      const auto record = nlohmann::json::parse(line);
      if (record["event"] == "summary") summary = record;
    }
    ASSERT_FALSE(summary.is_null()) << "no summary record";
    EXPECT_EQ(summary["local_replicas"], 2);
    EXPECT_EQ(summary["local_divergence"], 0.0);
  }
}

// A replica of a hierarchical node fails mid-run (injected through POST /faults, as a lost GPU
// would): the node does not hang on the collectives, writes the leader's checkpoint, exits 1
// saying where it is, and a restart with --resume continues from that step.
TEST_F(PeerTest, AFailingReplicaStopsItsNodeWithACheckpointToResumeFrom) {
  std::ofstream(dir_ / "one.txt") << "ipc://" << (dir_ / "solo").string() << "\n";
  const auto start = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = {"peer", "--peers", (dir_ / "one.txt").string(),
                                     "--rank", "0", "--local-replicas", "2",
                                     "--out", (dir_ / "solo-out").string(),
                                     "--limit-train", "3000", "--limit-test", "500",
                                     "--epochs", "400", "--slowdown", "2",
                                     "--checkpoint-dir", (dir_ / "solo-ckpt").string(),
                                     "--checkpoint-every", "5",
                                     "--progress-every", "0.05", "--http", "127.0.0.1:0",
                                     "--enable-faults"};
    args.insert(args.end(), extra.begin(), extra.end());
    return std::make_unique<ChildProcess>(rumor_bin(), args);
  };
  auto node = start({});
  ASSERT_TRUE(wait_until({node.get()}, [&] { return last_progress_step(node->output()) >= 20; }))
      << node->output();
  std::ifstream in(dir_ / "solo-out" / "http.addr");
  std::string address;
  in >> address;
  const auto ctl = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"ctl", address, "faults"});
    ChildProcess child(rumor_bin(), args);
    const int code = child.wait(std::chrono::seconds(30));
    wait_until({node.get()}, [] { return true; });  // keeps the node's pipe drained
    return std::make_pair(code, child.output());
  };
  auto [code, out] = ctl({"--fail-replica", "2"});
  EXPECT_EQ(code, 2) << out;
  EXPECT_NE(out.find("this node has 2 replicas (0..1), not 2"), std::string::npos) << out;
  std::tie(code, out) = ctl({"--fail-replica", "1"});
  ASSERT_EQ(code, 0) << out;

  EXPECT_EQ(node->wait(std::chrono::seconds(60)), 1) << node->output();
  const std::string failed = node->output();
  EXPECT_NE(failed.find("replica 1 failed: injected through POST /faults"), std::string::npos)
      << failed;
  static const std::regex saved(R"(stopped at step (\d+): .*checkpoint of step (\d+) in)");
  std::smatch match;
  ASSERT_TRUE(std::regex_search(failed, match, saved)) << failed;
  const long stopped_at = std::stol(match[1]);
  EXPECT_EQ(std::stol(match[2]), stopped_at);
  EXPECT_GE(stopped_at, 20);

  auto resumed = start({"--resume"});
  ASSERT_TRUE(wait_until({resumed.get()}, [&] {
    return last_progress_step(resumed->output()) > stopped_at;
  })) << resumed->output();
  static const std::regex from(R"(resuming from .*: step (\d+) of)");
  const std::string restarted = resumed->output();
  ASSERT_TRUE(std::regex_search(restarted, match, from)) << restarted;
  EXPECT_EQ(std::stol(match[1]), stopped_at);
  resumed->signal(SIGTERM);
  EXPECT_EQ(resumed->wait(), 0) << resumed->output();
}

TEST_F(PeerTest, ConfigurationErrorsExitTwoAndSayWhatToFix) {
  const auto run = [&](const std::vector<std::string>& args) {
    ChildProcess child(rumor_bin(), args);
    const int code = child.wait();
    return std::make_pair(code, child.output());
  };
  const std::string peers = (dir_ / "peers.txt").string();
  auto [code, out] = run({"peer", "--peers", peers, "--rank", "4"});
  EXPECT_EQ(code, 2);
  EXPECT_NE(out.find("rank 4 is outside the peer list (4 peers: ranks 0..3)"), std::string::npos)
      << out;
  std::tie(code, out) = run({"peer", "--peers", peers});
  EXPECT_EQ(code, 2);
  EXPECT_NE(out.find("--rank: not given"), std::string::npos) << out;
  std::ofstream(dir_ / "bad.txt") << "10.0.0.1:5555\nnode-b\n";
  std::tie(code, out) = run({"peer", "--peers", (dir_ / "bad.txt").string(), "--rank", "0"});
  EXPECT_EQ(code, 2);
  EXPECT_NE(out.find("bad.txt:2"), std::string::npos) << out;
  std::tie(code, out) = run({"peer", "--peers", peers, "--rank", "0", "--slowdown", "0.5"});
  EXPECT_EQ(code, 2);
  EXPECT_NE(out.find("--slowdown"), std::string::npos) << out;
  std::tie(code, out) = run({"peer", "--peers", peers, "--rank", "0", "--rule", "gossipy"});
  EXPECT_EQ(code, 2);
  EXPECT_NE(out.find("gossipy"), std::string::npos) << out;
  std::ofstream(dir_ / "run.toml") << "epochs = 2\nmax-staleness = 50\nstaleness_halflife = 4\n";
  std::tie(code, out) = run({"peer", "--peers", peers, "--rank", "0", "--config",
                             (dir_ / "run.toml").string()});
  EXPECT_EQ(code, 2);
  EXPECT_NE(out.find("key 'staleness_halflife' is not an option of 'rumor peer'"),
            std::string::npos)
      << out;
  std::tie(code, out) = run({"peer", "--peers", peers, "--rank", "0", "--devices",
                             "cuda:0,cuda:0"});
  EXPECT_EQ(code, 2);
  EXPECT_NE(out.find("--devices: cuda:0 is listed twice"), std::string::npos) << out;
  std::tie(code, out) = run({"peer", "--peers", peers, "--rank", "0", "--devices", "cuda:7"});
  EXPECT_EQ(code, 2);
  EXPECT_NE(out.find("cuda:7"), std::string::npos) << out;
  std::tie(code, out) = run({"peer", "--peers", peers, "--rank", "0", "--local-replicas", "2",
                             "--device", "cuda:0"});
  EXPECT_EQ(code, 2);
  EXPECT_NE(out.find("list them with --devices"), std::string::npos) << out;
  std::tie(code, out) = run({"peer", "--peers", peers, "--rank", "0", "--local-sync", "params:0"});
  EXPECT_EQ(code, 2);
  EXPECT_NE(out.find("--local-sync"), std::string::npos) << out;
}

}  // namespace
