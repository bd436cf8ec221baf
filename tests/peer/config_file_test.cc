#include "peer/config_file.h"

#include <CLI/CLI.hpp>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/error.h"

namespace rumor {
namespace {

namespace fs = std::filesystem;

class ConfigFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto* cmd = app_.add_subcommand("train");
    cmd->add_option("--config");
    cmd->add_option("--epochs");
    cmd->add_option("--weight-decay");
    cmd->add_option("--model");
    cmd->add_option("--devices");
    cmd->add_flag("--nesterov,!--no-nesterov");
    path_ = fs::path(::testing::TempDir()) / ("config_file_test_" + std::to_string(::getpid()) +
                                              ".toml");
  }
  void TearDown() override { fs::remove(path_); }
  std::vector<std::string> expand(const std::string& toml, std::vector<std::string> extra = {}) {
    std::ofstream(path_) << toml;
    std::vector<std::string> args = {"train", "--config", path_.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return expand_config_file(app_, args);
  }

  CLI::App app_;
  fs::path path_;
};

TEST_F(ConfigFileTest, KeysBecomeLeadingArguments) {
  const auto args = expand(
      "epochs = 3\nweight_decay = 0.0005\nmodel = \"784-10\"\nnesterov = false\n"
      "devices = [\"a\", \"b\"]\n",
      {"--epochs", "7"});
  // Keys come out in toml++'s (sorted) order; array elements keep theirs.
  const std::vector<std::string> expected = {
      "train", "--devices=a", "--devices=b", "--epochs=3", "--model=784-10", "--nesterov=false",
      "--weight-decay=0.0005", "--config", path_.string(), "--epochs", "7"};
  EXPECT_EQ(args, expected);
}

TEST_F(ConfigFileTest, WithoutConfigArgumentsAreUnchanged) {
  const std::vector<std::string> args = {"train", "--epochs", "2"};
  EXPECT_EQ(expand_config_file(app_, args), args);
}

TEST_F(ConfigFileTest, UnknownKeyNamesFileKeyAndValidKeys) {
  try {
    expand("epochs = 1\nlearning_rate = 0.1\n");
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find(path_.string()), std::string::npos) << message;
    EXPECT_NE(message.find("learning_rate"), std::string::npos) << message;
    EXPECT_NE(message.find("valid keys: epochs, weight-decay"), std::string::npos) << message;
  }
}

TEST_F(ConfigFileTest, SyntaxErrorNamesLine) {
  try {
    expand("epochs = 1\nmodel = \n");
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_NE(std::string(error.what()).find(path_.string() + ":2:"), std::string::npos)
        << error.what();
  }
}

TEST_F(ConfigFileTest, TablesAreRejected) {
  EXPECT_THROW(expand("[epochs]\nx = 1\n"), ConfigError);
}

}  // namespace
}  // namespace rumor
