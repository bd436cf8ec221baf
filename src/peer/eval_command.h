// eval_command.h — `rumor eval PARAMS`: the test accuracy and loss of saved parameters.
#pragma once

#include <cstddef>
#include <string>

namespace CLI {
class App;
}

namespace rumor {

struct EvalCommandArgs {
  std::string params_path;
  std::string device = "cpu";
  int threads = 1;
  std::string data_dir;
  std::size_t limit_test = 0;
  bool json = false;
};

CLI::App* add_eval_command(CLI::App& app, EvalCommandArgs& args);
int run_eval_command(const EvalCommandArgs& args);

}  // namespace rumor
