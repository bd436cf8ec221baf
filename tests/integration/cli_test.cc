// The `rumor` program as users run it: real processes, real files, exit codes and messages.
// RUMOR_BIN names the binary under test (set by Meson).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/wait.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "child_process.h"

namespace {

namespace fs = std::filesystem;

struct Result {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

std::string rumor_bin() {
  const char* bin = std::getenv("RUMOR_BIN");
  if (bin == nullptr) ADD_FAILURE() << "RUMOR_BIN is not set";
  return bin ? bin : "rumor";
}

Result run_rumor(const std::string& args) {
  const std::string command = rumor_bin() + " " + args + " 2>&1";
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

// --- checkpoints, resume, stop signals, eval --average ---

std::vector<std::string> split(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> words;
  for (std::string word; in >> word;) words.push_back(word);
  return words;
}

// The number after `prefix` in `text` (e.g. "after step " → 37), or -1.
long long number_after(const std::string& text, const std::string& prefix) {
  const std::size_t at = text.find(prefix);
  return at == std::string::npos ? -1 : std::atoll(text.c_str() + at + prefix.size());
}

std::string checkpoint_name(long long step) {
  char name[32];
  std::snprintf(name, sizeof(name), "ckpt-%010lld.rumor", step);
  return name;
}

TEST_F(CliTest, CheckpointFlagsAreValidated) {
  expect_exit(run_rumor("train --resume"), 2, "--resume: needs --checkpoint-dir");
  expect_exit(run_rumor("train --checkpoint-every 5"), 2, "--checkpoint-every");
  expect_exit(run_rumor("train --checkpoint-dir x --checkpoint-every -1"), 2,
              "--checkpoint-every");
  expect_exit(run_rumor("train --checkpoint-dir x --keep-checkpoints 0"), 2, "--keep-checkpoints");
}

// Stop with SIGTERM once progress is printed: exit 0 with a checkpoint of the step reached.
// Resume from it: the run continues at the next step (its first report is at the next epoch
// end), and a second SIGTERM stops it again further on.
TEST_F(CliTest, SigtermStopsWithACheckpointAndResumeContinues) {
  const fs::path ckpt = dir_ / "ckpt";
  // 10 steps per epoch, 50000 steps in all: far longer than the test takes to send the signal.
  const std::string args = "train --model 784-32-10 --epochs 5000 --limit-train 1280 "
                           "--limit-test 200 --warmup-steps 5 --out " + dir_.string() +
                           " --checkpoint-dir " + ckpt.string();
  long long stopped_at = 0;
  {
    rumor_test::ChildProcess run(rumor_bin(), split(args));
    ASSERT_NE(run.wait_for("step     10/50000"), std::string::npos) << run.output();
    run.signal(SIGTERM);
    ASSERT_EQ(run.wait(), 0) << run.output();
    stopped_at = number_after(run.output(), "stopped by SIGTERM after step ");
    ASSERT_GE(stopped_at, 10) << run.output();
    EXPECT_NE(run.output().find("of 50000; checkpoint: "), std::string::npos) << run.output();
    EXPECT_TRUE(fs::exists(ckpt / checkpoint_name(stopped_at))) << run.output();
  }
  {
    rumor_test::ChildProcess run(rumor_bin(), split(args + " --resume"));
    const std::size_t resumed = run.wait_for("resuming from ");
    ASSERT_NE(resumed, std::string::npos) << run.output();
    ASSERT_NE(run.wait_for(" of 50000 (epoch", resumed), std::string::npos) << run.output();
    EXPECT_EQ(number_after(run.output().substr(resumed), ": step "), stopped_at);
    const std::size_t progress = run.wait_for("/50000  loss", resumed);
    ASSERT_NE(progress, std::string::npos) << run.output();
    run.signal(SIGTERM);
    ASSERT_EQ(run.wait(), 0) << run.output();
    const std::string after = run.output().substr(resumed);
    EXPECT_EQ(number_after(after, "/5000  step "), (stopped_at / 10 + 1) * 10) << after;
    const long long stopped_again = number_after(after, "stopped by SIGTERM after step ");
    EXPECT_GT(stopped_again, stopped_at) << after;
    EXPECT_TRUE(fs::exists(ckpt / checkpoint_name(stopped_again)));
  }
  int stopped_events = 0;
  for (const auto& record : metrics()) stopped_events += record["event"] == "stopped";
  EXPECT_EQ(stopped_events, 2);  // the resumed run appended to the metrics file
}

// Checkpoints every 6 steps of 20, the newest 3 kept (12, 18, 20). The newest corrupted,
// --resume reports it and continues from step 18 to the very same final accuracy.
TEST_F(CliTest, ResumeSkipsACorruptNewestCheckpointAndReachesTheSameResult) {
  const fs::path ckpt = dir_ / "ckpt";
  const std::string args = "train --epochs 2 --limit-train 1280 --limit-test 500 "
                           "--warmup-steps 5 --quiet --out " + dir_.string() +
                           " --checkpoint-dir " + ckpt.string() + " --checkpoint-every 6";
  const Result first = run_rumor(args);
  ASSERT_EQ(first.exit_code, 0) << first.output;
  const double accuracy = metrics().back()["test_accuracy"].get<double>();
  EXPECT_GT(accuracy, 0.6);
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(ckpt)) files.push_back(entry.path().filename());
  std::sort(files.begin(), files.end());
  EXPECT_EQ(files, (std::vector<std::string>{checkpoint_name(12), checkpoint_name(18),
                                             checkpoint_name(20)}));
  // A fresh run must not mix into a folder holding another run's checkpoints.
  expect_exit(run_rumor(args), 2, "pass --resume");

  {
    std::fstream f(ckpt / checkpoint_name(20), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(300);
    f.put('\x7f');
  }
  const Result resumed = run_rumor(args + " --resume");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  for (const std::string& phrase :
       {"skipping invalid checkpoint: " + (ckpt / checkpoint_name(20)).string() +
            ": checksum mismatch",
        "resuming from " + (ckpt / checkpoint_name(18)).string() + ": step 18 of 20"}) {
    EXPECT_NE(resumed.output.find(phrase), std::string::npos) << phrase << " in\n"
                                                              << resumed.output;
  }
  EXPECT_EQ(metrics().back()["step"], 20);
  EXPECT_DOUBLE_EQ(metrics().back()["test_accuracy"].get<double>(), accuracy);
  // The rewritten step-20 checkpoint is valid again and holds the final parameters.
  const Result evaluated = run_rumor("eval " + (ckpt / checkpoint_name(20)).string() +
                                     " --limit-test 500 --json");
  ASSERT_EQ(evaluated.exit_code, 0) << evaluated.output;
  EXPECT_DOUBLE_EQ(nlohmann::json::parse(evaluated.output)["test_accuracy"].get<double>(),
                   accuracy);
}

TEST_F(CliTest, EvalAverageOfTwoCheckpointsPrintsTheConsensusAccuracy) {
  const fs::path ckpt = dir_ / "ckpt";
  ASSERT_EQ(run_rumor(quick_train("--checkpoint-dir " + ckpt.string() + " --checkpoint-every 5"))
                .exit_code,
            0);
  const std::string a = (ckpt / checkpoint_name(10)).string();
  const std::string b = (ckpt / checkpoint_name(15)).string();
  const Result text = run_rumor("eval --average " + a + " " + b + " --limit-test 500");
  ASSERT_EQ(text.exit_code, 0) << text.output;
  EXPECT_NE(text.output.find("average of 2 replicas: model 784-256-128-10, test accuracy 0."),
            std::string::npos)
      << text.output;
  EXPECT_NE(text.output.find(a + ": model"), std::string::npos) << text.output;

  // The mean of a checkpoint and the parameter file holding the same values is that model.
  const std::string params = (dir_ / "params.bin").string();
  const Result same = run_rumor("eval --average " + b + " " + params + " --limit-test 500 --json");
  ASSERT_EQ(same.exit_code, 0) << same.output;
  const auto json = nlohmann::json::parse(same.output);
  EXPECT_EQ(json["averaged"], 2);
  ASSERT_EQ(json["inputs"].size(), 2u);
  EXPECT_DOUBLE_EQ(json["test_accuracy"].get<double>(),
                   json["inputs"][0]["test_accuracy"].get<double>());
  EXPECT_GT(json["test_accuracy"].get<double>(), 0.6);

  const fs::path other = dir_ / "other";
  ASSERT_EQ(run_rumor("train --model 784-32-10 --epochs 1 --limit-train 256 --limit-test 100 "
                      "--quiet --out " + other.string()).exit_code,
            0);
  expect_exit(run_rumor("eval --average " + a + " " + (other / "params.bin").string()), 1,
              "only replicas of one model can be averaged");
}

}  // namespace
