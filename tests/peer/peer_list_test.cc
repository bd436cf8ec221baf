#include "peer/peer_list.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "core/error.h"

namespace rumor {
namespace {

void expect_config_error(const std::string& text, const std::string& phrase) {
  try {
    parse_peer_list(text, "peers.txt");
    ADD_FAILURE() << "no error for:\n" << text;
  } catch (const ConfigError& error) {
    EXPECT_NE(std::string(error.what()).find(phrase), std::string::npos)
        << "'" << error.what() << "' lacks '" << phrase << "'";
  }
}

TEST(PeerList, OneEndpointPerPeerLineInRankOrder) {
  const PeerList list = parse_peer_list(
      "# the cluster\n"
      "10.0.0.1:5555\n"
      "\n"
      "  node-b.example:6000   # rank 1\n"
      "tcp://[::1]:7000\n"
      "ipc:///tmp/rumor-3\n",
      "peers.txt");
  const std::vector<std::string> expected = {"tcp://10.0.0.1:5555", "tcp://node-b.example:6000",
                                             "tcp://[::1]:7000", "ipc:///tmp/rumor-3"};
  EXPECT_EQ(list.endpoints, expected);
}

TEST(PeerList, MalformedLinesNameFileAndLine) {
  expect_config_error("10.0.0.1:5555\nnode-b\n", "peers.txt:2");
  expect_config_error("node:0\n", "1..65535");
  expect_config_error("node:70000\n", "1..65535");
  expect_config_error("node:12ab\n", "1..65535");
  expect_config_error(":5555\n", "not a peer");
  expect_config_error("a:1 b:2\n", "one peer per line");
  expect_config_error("udp://a:1\n", "only tcp:// and ipc://");
  expect_config_error("a:1\n# again\na:1\n", "peers.txt:3: peer 'a:1' is listed twice");
  expect_config_error("# nobody\n\n", "no peers listed");
}

TEST(PeerList, UnreadableFileIsAConfigError) {
  EXPECT_THROW(load_peer_list("/nonexistent/peers.txt"), ConfigError);
}

TEST(PeerList, BindsNumericHostsAsListedAndNamesOnEveryInterface) {
  EXPECT_EQ(bind_endpoint("tcp://127.0.0.1:5555", ""), "tcp://127.0.0.1:5555");
  EXPECT_EQ(bind_endpoint("tcp://[::1]:5555", ""), "tcp://[::1]:5555");
  EXPECT_EQ(bind_endpoint("tcp://localhost:5555", ""), "tcp://localhost:5555");
  EXPECT_EQ(bind_endpoint("tcp://node-b.example:6000", ""), "tcp://*:6000");
  EXPECT_EQ(bind_endpoint("ipc:///tmp/x", ""), "ipc:///tmp/x");
  EXPECT_EQ(bind_endpoint("tcp://node-b.example:6000", "0.0.0.0:7000"), "tcp://0.0.0.0:7000");
  EXPECT_THROW(bind_endpoint("tcp://a:1", "nonsense"), ConfigError);
}

// A fake environment.
Getenv env(std::map<std::string, std::string> values) {
  return [values = std::move(values)](const char* name) -> const char* {
    const auto it = values.find(name);
    return it == values.end() ? nullptr : it->second.c_str();
  };
}

TEST(PeerRank, FlagWinsOverTheEnvironment) {
  EXPECT_EQ(resolve_rank(2, 4, env({{"SLURM_PROCID", "1"}})), 2);
}

TEST(PeerRank, LaunchersAreReadInOrder) {
  EXPECT_EQ(resolve_rank(std::nullopt, 4, env({{"SLURM_PROCID", "3"}, {"RANK", "1"}})), 3);
  EXPECT_EQ(resolve_rank(std::nullopt, 4, env({{"OMPI_COMM_WORLD_RANK", "2"}, {"RANK", "1"}})), 2);
  EXPECT_EQ(resolve_rank(std::nullopt, 4, env({{"PMI_RANK", "0"}})), 0);
  EXPECT_EQ(resolve_rank(std::nullopt, 4, env({{"RANK", "1"}})), 1);
}

TEST(PeerRank, MissingBadOrOutOfRangeRanksAreConfigErrors) {
  EXPECT_THROW(resolve_rank(std::nullopt, 4, env({})), ConfigError);
  EXPECT_THROW(resolve_rank(std::nullopt, 4, env({{"RANK", "two"}})), ConfigError);
  EXPECT_THROW(resolve_rank(4, 4, env({})), ConfigError);
  EXPECT_THROW(resolve_rank(-1, 4, env({})), ConfigError);
  try {
    resolve_rank(std::nullopt, 2, env({{"SLURM_PROCID", "5"}}));
    ADD_FAILURE();
  } catch (const ConfigError& error) {
    EXPECT_NE(std::string(error.what()).find("SLURM_PROCID: rank 5 is outside the peer list"),
              std::string::npos)
        << error.what();
  }
}

}  // namespace
}  // namespace rumor
