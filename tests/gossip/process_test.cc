// Peers as separate processes over tcp on loopback (OS-chosen ports): each runs
// gossip_peer_process (path in GOSSIP_PEER_BIN). The test learns every peer's endpoint from its
// stdout, hands the list to all of them, waits until every one reports convergence to the exact
// mean, then stops them and checks their final values and exit codes.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

extern char** environ;

namespace {

// A child process with its stdin and stdout connected to pipes.
class Child {
 public:
  explicit Child(const std::vector<std::string>& argv) {
    int to_child[2], from_child[2];
    if (::pipe(to_child) != 0 || ::pipe(from_child) != 0) return;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, to_child[0], 0);
    posix_spawn_file_actions_adddup2(&actions, from_child[1], 1);
    posix_spawn_file_actions_addclose(&actions, to_child[1]);
    posix_spawn_file_actions_addclose(&actions, from_child[0]);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    if (posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
    ::close(to_child[0]);
    ::close(from_child[1]);
    in_ = to_child[1];
    out_ = from_child[0];
  }
  ~Child() {
    if (pid_ > 0 && !waited_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    ::close(in_);
    ::close(out_);
  }

  bool started() const { return pid_ > 0; }
  void send_line(const std::string& line) {
    const std::string data = line + "\n";
    ASSERT_EQ(::write(in_, data.data(), data.size()), static_cast<ssize_t>(data.size()));
  }
  // The next line of output, or empty when none arrives before `deadline`.
  std::string read_line(std::chrono::steady_clock::time_point deadline) {
    for (;;) {
      if (const auto nl = buffer_.find('\n'); nl != std::string::npos) {
        std::string line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return line;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return {};
      pollfd fd{out_, POLLIN, 0};
      if (::poll(&fd, 1, static_cast<int>(left.count())) <= 0) continue;
      char chunk[256];
      const ssize_t n = ::read(out_, chunk, sizeof(chunk));
      if (n <= 0) return {};
      buffer_.append(chunk, static_cast<std::size_t>(n));
    }
  }
  int wait_exit() {
    int status = 0;
    ::waitpid(pid_, &status, 0);
    waited_ = true;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

 private:
  pid_t pid_ = -1;
  int in_ = -1;
  int out_ = -1;
  bool waited_ = false;
  std::string buffer_;
};

void run_processes(int n, const std::string& rule, const std::string& topology) {
  const char* bin = std::getenv("GOSSIP_PEER_BIN");
  ASSERT_NE(bin, nullptr) << "GOSSIP_PEER_BIN is not set";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  std::vector<std::unique_ptr<Child>> children;
  for (int r = 0; r < n; ++r) {
    children.push_back(std::make_unique<Child>(std::vector<std::string>{
        bin, std::to_string(r), std::to_string(n), rule, topology}));
    ASSERT_TRUE(children.back()->started());
  }
  std::string peers = "peers";
  for (auto& child : children) {
    const std::string line = child->read_line(deadline);
    ASSERT_EQ(line.rfind("endpoint tcp://127.0.0.1:", 0), 0u) << line;
    peers += " " + line.substr(9);
  }
  for (auto& child : children) child->send_line(peers);
  for (int r = 0; r < n; ++r) {
    EXPECT_EQ(children[r]->read_line(deadline), "converged") << "rank " << r;
  }
  for (auto& child : children) child->send_line("stop");
  const double exact = (n - 1) / 2.0;
  for (int r = 0; r < n; ++r) {
    const std::string line = children[r]->read_line(deadline);
    ASSERT_EQ(line.rfind("final ", 0), 0u) << "rank " << r << ": " << line;
    EXPECT_NEAR(std::stod(line.substr(6)), exact, 1e-4) << "rank " << r;
    EXPECT_EQ(children[r]->wait_exit(), 0) << "rank " << r;
  }
}

TEST(Processes, PushSumOverTcpReachesTheExactMean) {
  run_processes(4, "push-sum", "exponential");
}

TEST(Processes, PairwiseOverTcpReachesTheExactMean) { run_processes(4, "pairwise", "ring"); }

}  // namespace
