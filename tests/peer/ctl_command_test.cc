// `rumor ctl` in-process: CLI11 parses the flags, run_ctl_command talks to a real HttpServer.
#include "peer/ctl_command.h"

#include <CLI/CLI.hpp>
#include <gtest/gtest.h>

#include <memory>
#include <sstream>

#include "core/error.h"
#include "fake_peer.h"
#include "prometheus_parser.h"
#include "silent_port.h"

namespace rumor {
namespace {

using nlohmann::json;
using testing::FakePeer;

// Parses `rumor ctl <command_line>` and runs it; returns what it printed.
std::string ctl(const std::string& command_line) {
  CLI::App app;
  CtlCommandArgs args;
  add_ctl_command(app, args);
  app.parse("ctl " + command_line, false);
  std::ostringstream out;
  EXPECT_EQ(run_ctl_command(args, out), 0);
  return out.str();
}

// The message of the exception of type E that `ctl(command_line)` throws.
template <class E>
std::string ctl_error(const std::string& command_line) {
  try {
    ctl(command_line);
  } catch (const E& error) {
    return error.what();
  }
  ADD_FAILURE() << "no exception from: rumor ctl " << command_line;
  return "";
}

class CtlCommandTest : public ::testing::Test {
 protected:
  void start(bool faults_enabled) {
    peer_ = std::make_unique<FakePeer>(faults_enabled);
    server_ = std::make_unique<HttpServer>("127.0.0.1:0", peer_->handlers());
    addr_ = server_->address();
  }

  std::unique_ptr<FakePeer> peer_;
  std::unique_ptr<HttpServer> server_;
  std::string addr_;
};

TEST_F(CtlCommandTest, StatusPrintsASummary) {
  start(false);
  const std::string out = ctl(addr_ + " status");
  EXPECT_NE(out.find("peer 2 of 4: step 1234 of 5000, epoch 3 of 10, up 1h02m03s"),
            std::string::npos) << out;
  EXPECT_NE(out.find("test accuracy 0.9125"), std::string::npos) << out;
  EXPECT_NE(out.find("applied 15"), std::string::npos) << out;
  EXPECT_NE(out.find("suspect"), std::string::npos) << out;
  EXPECT_NE(out.find("faults injected: dropped 21"), std::string::npos) << out;
}

TEST_F(CtlCommandTest, StatusJsonPrintsTheStatus) {
  start(false);
  const json status = json::parse(ctl(addr_ + " status --json"));
  EXPECT_EQ(status["rank"], 2);
  EXPECT_EQ(status["gossip"]["sent"], 12);
}

TEST_F(CtlCommandTest, MetricsPrintsPrometheusText) {
  start(false);
  const testing::PromText text = testing::parse_prometheus(ctl(addr_ + " metrics"));
  for (const std::string& error : text.errors) ADD_FAILURE() << error;
  EXPECT_EQ(text.value("rumor_gossip_applied_total", {{"rank", "2"}}), 15);
}

TEST_F(CtlCommandTest, FaultsWithoutFlagsShowsThemAndChangesNothing) {
  start(true);
  const json shown = json::parse(ctl(addr_ + " faults"));
  EXPECT_EQ(shown, to_json(RuntimeFaults{}));
  EXPECT_EQ(peer_->sets(), 0);
}

TEST_F(CtlCommandTest, FaultFlagsPostOnlyTheKeysGiven) {
  start(true);
  RuntimeFaults before;
  before.transport.delay = std::chrono::milliseconds(40);
  before.transport.corrupt = 0.01;
  peer_->set(before);

  const json shown =
      json::parse(ctl(addr_ + " faults --drop 0.1 --jitter-ms 7 --partition 1,3 --slowdown 2"));
  const RuntimeFaults now = peer_->faults();
  EXPECT_EQ(peer_->sets(), 1);
  EXPECT_EQ(now.transport.drop, 0.1);
  EXPECT_EQ(now.transport.jitter, std::chrono::milliseconds(7));
  EXPECT_EQ(now.transport.partitioned, (std::set<std::uint32_t>{1, 3}));
  EXPECT_EQ(now.slowdown, 2.0);
  EXPECT_EQ(now.transport.delay, std::chrono::milliseconds(40));  // kept
  EXPECT_EQ(now.transport.corrupt, 0.01);                         // kept
  EXPECT_EQ(shown, to_json(now));
}

TEST_F(CtlCommandTest, ClearResetsEverythingThenAppliesTheFlags) {
  start(true);
  RuntimeFaults before;
  before.transport.drop = 0.5;
  before.transport.partitioned = {1};
  before.slowdown = 3.0;
  peer_->set(before);

  ctl(addr_ + " faults --clear");
  EXPECT_EQ(to_json(peer_->faults()), to_json(RuntimeFaults{}));

  peer_->set(before);
  ctl(addr_ + " faults --clear --duplicate 0.2");
  RuntimeFaults expected;
  expected.transport.duplicate = 0.2;
  EXPECT_EQ(to_json(peer_->faults()), to_json(expected));
}

TEST_F(CtlCommandTest, PartitionNoneHeals) {
  start(true);
  RuntimeFaults before;
  before.transport.partitioned = {1, 2};
  peer_->set(before);
  ctl(addr_ + " faults --partition none");
  EXPECT_TRUE(peer_->faults().transport.partitioned.empty());
}

TEST_F(CtlCommandTest, DisabledFaultsIsARuntimeErrorWithThePeersMessage) {
  start(false);
  const std::string what = ctl_error<Error>(addr_ + " faults --drop 0.1");
  EXPECT_NE(what.find("HTTP 403"), std::string::npos) << what;
  EXPECT_NE(what.find("--enable-faults"), std::string::npos) << what;
  EXPECT_THROW(ctl(addr_ + " faults --drop 0.1"), Error);
}

TEST_F(CtlCommandTest, RefusedFaultsAreAConfigErrorWithThePeersMessage) {
  start(true);
  peer_->refuse_with("faults: partition: rank 9 is not a peer (valid: 0..3)");
  const std::string what = ctl_error<ConfigError>(addr_ + " faults --partition 9");
  EXPECT_NE(what.find("rank 9 is not a peer"), std::string::npos) << what;
}

TEST_F(CtlCommandTest, BadFlagsAreRejectedBeforeSending) {
  start(true);
  EXPECT_THROW(ctl(addr_ + " faults --drop 1.5"), CLI::ValidationError);
  EXPECT_THROW(ctl(addr_ + " faults --slowdown 0.5"), CLI::ValidationError);
  EXPECT_THROW(ctl(addr_ + " faults --delay-ms -1"), CLI::ParseError);
  EXPECT_THROW(ctl(addr_ + " restart"), CLI::ValidationError);
  EXPECT_NE(ctl_error<ConfigError>(addr_ + " faults --partition 1,x").find("--partition"),
            std::string::npos);
  EXPECT_NE(ctl_error<ConfigError>(addr_ + " status --drop 0.1").find("only to"),
            std::string::npos);
  EXPECT_NE(ctl_error<ConfigError>(addr_ + " metrics --json").find("--json"), std::string::npos);
  EXPECT_NE(ctl_error<ConfigError>("foo status").find("ADDR 'foo'"), std::string::npos);
  EXPECT_EQ(peer_->sets(), 0);
}

TEST(CtlCommandUnreachable, RefusedConnectionSaysCannotReach) {
  const testing::SilentPort closed(/*listening=*/false);
  const std::string what = ctl_error<Error>(closed.address() + " status");
  EXPECT_EQ(what.rfind("cannot reach peer at " + closed.address() + ": ", 0), 0u) << what;
}

TEST(CtlCommandUnreachable, SilentPeerTimesOut) {
  const testing::SilentPort hung(/*listening=*/true);
  const std::string what = ctl_error<Error>(hung.address() + " status --timeout-ms 100");
  EXPECT_EQ(what.rfind("cannot reach peer at " + hung.address() + ": ", 0), 0u) << what;
  EXPECT_NE(what.find("100 ms"), std::string::npos) << what;
}

}  // namespace
}  // namespace rumor
