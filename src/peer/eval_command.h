// eval_command.h — `rumor eval FILE...`: the test accuracy and loss of saved parameters
// (parameter files from `rumor train --save` or checkpoints), and with --average of the
// element-wise mean of several replicas' parameters: the consensus model.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace rumor {

struct EvalCommandArgs {
  std::vector<std::string> params_paths;  // parameter files or checkpoints
  bool average = false;                   // also evaluate the mean of all of them
  std::string device = "cpu";
  int threads = 1;
  std::string data_dir;
  std::size_t limit_test = 0;
  bool json = false;
};

CLI::App* add_eval_command(CLI::App& app, EvalCommandArgs& args);

// Evaluates every file; with --average also their mean (DataError when they hold different
// models). Returns the exit code; throws ConfigError / DataError / Error.
int run_eval_command(const EvalCommandArgs& args);

}  // namespace rumor
