#include "peer/eval_command.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>

#include "core/clock.h"
#include "core/error.h"
#include "peer/data_options.h"
#include "train/param_file.h"
#include "train/trainer.h"

namespace rumor {

CLI::App* add_eval_command(CLI::App& app, EvalCommandArgs& args) {
  CLI::App* cmd = app.add_subcommand("eval", "Test accuracy of saved parameters");
  cmd->option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  cmd->add_option("--config", "TOML file whose keys set these options (flags win)")
      ->check(CLI::ExistingFile);
  cmd->add_option("params,--params", args.params_path, "Parameter file written by rumor train")
      ->required();
  cmd->add_option("--device", args.device, "cpu or cuda:N")->capture_default_str();
  cmd->add_option("--threads", args.threads, "CPU threads for the math (0 = all cores)")
      ->capture_default_str();
  add_data_options(*cmd, args.data_dir, args.limit_test);
  cmd->add_flag("--json", args.json, "Print the result as one JSON object");
  return cmd;
}

int run_eval_command(const EvalCommandArgs& args) {
  if (args.threads < 0) throw ConfigError("--threads: must be >= 0 (0 = all cores)");
  ParamFile file = load_param_file(args.params_path);
  auto backend = make_backend(args.device, args.threads);
  const ShardedData data = load_sharded_data(args.data_dir, "iid", 0, 1, 1, 0, args.limit_test);

  TrainOptions options;
  options.model = file.model;
  options.batch = 1;
  SteadyClock clock;
  Trainer evaluator(*backend, options, data.train, data.test, clock);
  if (file.values.size() != evaluator.model().parameter_count()) {
    throw DataError(args.params_path + ": holds " + std::to_string(file.values.size()) +
                    " values but model " + file.model + " has " +
                    std::to_string(evaluator.model().parameter_count()));
  }
  evaluator.model().params().upload(file.values);
  const Evaluation result = evaluator.evaluate();
  if (args.json) {
    std::printf("%s\n", nlohmann::json{{"params", args.params_path},
                                       {"model", file.model},
                                       {"examples", data.test.count},
                                       {"test_accuracy", result.accuracy},
                                       {"test_loss", result.loss}}
                            .dump()
                            .c_str());
  } else {
    std::printf("%s: model %s, test accuracy %.4f, loss %.4f (%zu examples)\n",
                args.params_path.c_str(), file.model.c_str(), result.accuracy, result.loss,
                data.test.count);
  }
  return 0;
}

}  // namespace rumor
