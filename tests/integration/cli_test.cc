// The `rumor` program as users run it: real processes, real files, exit codes and messages.
// RUMOR_BIN names the binary under test (set by Meson).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

struct Result {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

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

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ("cli_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& text) {
    const fs::path path = dir_ / name;
    std::ofstream(path) << text;
    return path.string();
  }
  // A quick training run on a subset: 2000 examples, 1 epoch.
  std::string quick_train(const std::string& extra = "") {
    return "train --epochs 1 --limit-train 2000 --limit-test 1000 --warmup-steps 5 --quiet --out " +
           dir_.string() + " " + extra;
  }
  std::vector<nlohmann::json> metrics() {
    std::vector<nlohmann::json> records;
    std::ifstream in(dir_ / "metrics.jsonl");
    for (std::string line; std::getline(in, line);) records.push_back(nlohmann::json::parse(line));
    return records;
  }

  fs::path dir_;
};

void expect_exit(const Result& r, int code, const std::string& phrase) {
  EXPECT_EQ(r.exit_code, code) << r.output;
  EXPECT_NE(r.output.find(phrase), std::string::npos) << "missing '" << phrase << "' in:\n"
                                                      << r.output;
}

TEST_F(CliTest, HelpListsCommands) {
  const Result r = run_rumor("--help");
  expect_exit(r, 0, "train");
  EXPECT_NE(r.output.find("eval"), std::string::npos);
  expect_exit(run_rumor("train --help"), 0, "--weight-decay");
}

TEST_F(CliTest, NoCommandIsAnError) { expect_exit(run_rumor(""), 2, "subcommand"); }

TEST_F(CliTest, BadFlagsExitTwoNamingTheFlag) {
  expect_exit(run_rumor("train --epochs abc"), 2, "--epochs");
  expect_exit(run_rumor("train --epochs 0 --limit-train 500"), 2, "--epochs");
  expect_exit(run_rumor("train --bogus 1"), 2, "--bogus");
  expect_exit(run_rumor("train --model 784-x-10"), 2, "784-x-10");
  expect_exit(run_rumor("train --shard foo"), 2, "dirichlet");
  expect_exit(run_rumor("train --rank 3 --world 2"), 2, "--rank");
  expect_exit(run_rumor("train --threads -1"), 2, "--threads");
}

TEST_F(CliTest, AbsentDeviceExitsTwoListingDevices) {
  const Result r = run_rumor("train --device cuda:7");
  expect_exit(r, 2, "cuda:7");
  EXPECT_NE(r.output.find("available: cpu"), std::string::npos) << r.output;
  expect_exit(run_rumor("train --device gpu"), 2, "cpu or cuda:N");
}

TEST_F(CliTest, MissingDatasetNamesTheFile) {
  expect_exit(run_rumor("train --data " + dir_.string()), 1, "train-images-idx3-ubyte.gz");
}

TEST_F(CliTest, ConfigFileSetsOptionsAndFlagsWin) {
  const std::string config = write("run.toml", "epochs = 2\nlimit_train = 1280\nbatch = 128\n");
  ASSERT_EQ(run_rumor(quick_train("--config " + config)).exit_code, 0);
  // The file is expanded before every flag, so quick_train's --epochs 1 and
  // --limit-train 2000 win over the file's epochs = 2 and limit_train = 1280.
  EXPECT_EQ(metrics().back()["step"], 2000 / 128);

  const std::string only_config = write("only.toml",
      "epochs = 2\nlimit_train = 1280\nlimit_test = 500\nquiet = true\nout = \"" +
      dir_.string() + "\"\n");
  ASSERT_EQ(run_rumor("train --config " + only_config).exit_code, 0);
  EXPECT_EQ(metrics().back()["step"], 2 * (1280 / 128));
}

TEST_F(CliTest, ConfigFileErrorsNameFileAndKey) {
  const std::string unknown = write("unknown.toml", "epochs = 1\nbogus_key = 3\n");
  const Result r = run_rumor("train --config " + unknown);
  expect_exit(r, 2, "bogus_key");
  EXPECT_NE(r.output.find("valid keys"), std::string::npos) << r.output;
  expect_exit(run_rumor("train --config " + write("broken.toml", "epochs = = 1\n")), 2,
              "broken.toml:1");
  expect_exit(run_rumor("train --config " + (dir_ / "absent.toml").string()), 2, "absent.toml");
}

TEST_F(CliTest, TrainWritesMetricsAndParamsThatEvalReproduces) {
  const Result trained = run_rumor(quick_train());
  ASSERT_EQ(trained.exit_code, 0) << trained.output;
  EXPECT_NE(trained.output.find("final test accuracy"), std::string::npos);
  const auto records = metrics();
  ASSERT_FALSE(records.empty());
  const auto& last = records.back();
  EXPECT_EQ(last["event"], "final");
  EXPECT_GT(last["test_accuracy"].get<double>(), 0.6);
  ASSERT_TRUE(fs::exists(dir_ / "params.bin"));

  const Result evaluated =
      run_rumor("eval " + (dir_ / "params.bin").string() + " --limit-test 1000 --json");
  ASSERT_EQ(evaluated.exit_code, 0) << evaluated.output;
  const auto result = nlohmann::json::parse(evaluated.output);
  EXPECT_DOUBLE_EQ(result["test_accuracy"].get<double>(), last["test_accuracy"].get<double>());
  EXPECT_EQ(result["examples"], 1000);
}

TEST_F(CliTest, ProgressLinesShowEpochLossAccuracyAndSpeed) {
  const Result r = run_rumor("train --epochs 2 --limit-train 1280 --limit-test 500 --out " +
                             dir_.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const char* field : {"epoch   1/2", "epoch   2/2", "loss", "test_acc", "samples/s"}) {
    EXPECT_NE(r.output.find(field), std::string::npos) << field << " in:\n" << r.output;
  }
}

TEST_F(CliTest, EvalRejectsCorruptParameterFile) {
  ASSERT_EQ(run_rumor(quick_train()).exit_code, 0);
  const fs::path params = dir_ / "params.bin";
  {
    std::fstream f(params, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(100);
    f.put('\x7f');
  }
  expect_exit(run_rumor("eval " + params.string()), 1, "checksum mismatch");
  expect_exit(run_rumor("eval " + (dir_ / "none.bin").string()), 1, "none.bin");
}

}  // namespace
