// `rumor ctl` as users run it: the built binary against a real HttpServer in this process
// (or against a port where nothing answers), checking exit codes and messages.
// RUMOR_BIN names the binary under test (set by Meson).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "fake_peer.h"
#include "peer/http_server.h"
#include "silent_port.h"

namespace rumor {
namespace {

struct Result {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

// Runs the binary to completion; the server answers from its own threads meanwhile.
Result run_rumor(const std::string& args) {
  const char* bin = std::getenv("RUMOR_BIN");
  if (bin == nullptr) ADD_FAILURE() << "RUMOR_BIN is not set";
  const std::string command = std::string(bin ? bin : "rumor") + " " + args + " 2>&1";
  Result result;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  while (std::size_t n = std::fread(buffer, 1, sizeof(buffer), pipe)) result.output.append(buffer, n);
  const int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

void expect_exit(const Result& r, int code, const std::string& phrase) {
  EXPECT_EQ(r.exit_code, code) << r.output;
  EXPECT_NE(r.output.find(phrase), std::string::npos) << "missing '" << phrase << "' in:\n"
                                                      << r.output;
}

TEST(CtlCli, UnreachablePeerExitsOneSayingSo) {
  const testing::SilentPort closed(/*listening=*/false);
  expect_exit(run_rumor("ctl " + closed.address() + " status"), 1,
              "rumor: error: cannot reach peer at " + closed.address() + ": ");
}

TEST(CtlCli, MalformedAddressExitsTwo) {
  expect_exit(run_rumor("ctl foo status"), 2, "ADDR 'foo'");
  expect_exit(run_rumor("ctl 127.0.0.1:99999 status"), 2, "0..65535");
}

TEST(CtlCli, HelpListsTheActionsAndFaultFlags) {
  const Result r = run_rumor("ctl --help");
  expect_exit(r, 0, "status");
  EXPECT_NE(r.output.find("--delay-ms"), std::string::npos) << r.output;
  expect_exit(run_rumor("--help"), 0, "ctl");
}

TEST(CtlCli, TalksToALivePeer) {
  testing::FakePeer peer(/*faults_enabled=*/true);
  HttpServer server("127.0.0.1:0", peer.handlers());
  const std::string ctl = "ctl " + server.address() + " ";

  const Result status = run_rumor(ctl + "status --json");
  ASSERT_EQ(status.exit_code, 0) << status.output;
  EXPECT_EQ(nlohmann::json::parse(status.output)["rank"], 2);

  expect_exit(run_rumor(ctl + "status"), 0, "peer 2 of 4");
  expect_exit(run_rumor(ctl + "metrics"), 0, "rumor_step{rank=\"2\"} 1234\n");

  const Result faults = run_rumor(ctl + "faults --drop 0.3 --partition 1");
  ASSERT_EQ(faults.exit_code, 0) << faults.output;
  EXPECT_EQ(nlohmann::json::parse(faults.output)["drop"], 0.3);
  EXPECT_EQ(peer.faults().transport.drop, 0.3);
  EXPECT_EQ(peer.faults().transport.partitioned, std::set<std::uint32_t>{1});
}

TEST(CtlCli, FaultErrorsCarryThePeersMessage) {
  testing::FakePeer disabled(/*faults_enabled=*/false);
  HttpServer server("127.0.0.1:0", disabled.handlers());
  expect_exit(run_rumor("ctl " + server.address() + " faults --drop 0.1"), 1, "--enable-faults");
  expect_exit(run_rumor("ctl " + server.address() + " faults --drop 2"), 2, "--drop");
}

}  // namespace
}  // namespace rumor
