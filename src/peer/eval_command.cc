#include "peer/eval_command.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>

#include "core/clock.h"
#include "core/error.h"
#include "peer/data_options.h"
#include "train/checkpoint.h"
#include "train/param_file.h"
#include "train/trainer.h"

namespace rumor {
namespace {

// One replica's parameters, from a parameter file or a checkpoint.
struct Replica {
  std::string path;
  ParamFile params;
};

Replica load_replica(const std::string& path) {
  if (!has_checkpoint_magic(path)) return {path, load_param_file(path)};
  Checkpoint checkpoint = load_checkpoint(path);
  return {path, ParamFile{std::move(checkpoint.model), std::move(checkpoint.params)}};
}

// Accuracy and loss of `values` as parameters of `model` on data.test.
Evaluation evaluate(Backend& backend, const ShardedData& data, const std::string& model,
                    const std::vector<float>& values, const std::string& source) {
  TrainOptions options;
  options.model = model;
  options.batch = 1;
  SteadyClock clock;
  Trainer evaluator(backend, options, data.train, data.test, clock);
  if (values.size() != evaluator.model().parameter_count()) {
    throw DataError(source + ": holds " + std::to_string(values.size()) + " values but model " +
                    model + " has " + std::to_string(evaluator.model().parameter_count()));
  }
  evaluator.model().params().upload(values);
  return evaluator.evaluate();
}

// The element-wise mean (summed in double) of the replicas' parameters; DataError when they
// are of different models.
ParamFile average(const std::vector<Replica>& replicas) {
  const Replica& first = replicas.front();
  const auto widths = MlpSpec::parse(first.params.model).widths;
  std::vector<double> sum(first.params.values.size(), 0.0);
  for (const Replica& r : replicas) {
    if (MlpSpec::parse(r.params.model).widths != widths ||
        r.params.values.size() != sum.size()) {
      throw DataError("--average: " + r.path + " holds model " + r.params.model + " (" +
                      std::to_string(r.params.values.size()) + " values) but " + first.path +
                      " holds model " + first.params.model + " (" +
                      std::to_string(sum.size()) +
                      " values); only replicas of one model can be averaged");
    }
    for (std::size_t i = 0; i < sum.size(); ++i) sum[i] += r.params.values[i];
  }
  ParamFile mean{first.params.model, std::vector<float>(sum.size())};
  const double n = static_cast<double>(replicas.size());
  for (std::size_t i = 0; i < sum.size(); ++i) mean.values[i] = static_cast<float>(sum[i] / n);
  return mean;
}

void print(const EvalCommandArgs& args, const std::string& what, const std::string& model,
           std::size_t examples, const Evaluation& result) {
  if (args.json) return;
  std::printf("%s: model %s, test accuracy %.4f, loss %.4f (%zu examples)\n", what.c_str(),
              model.c_str(), result.accuracy, result.loss, examples);
}

nlohmann::json to_json(const std::string& path, const std::string& model, std::size_t examples,
                       const Evaluation& result) {
  return {{"params", path},
          {"model", model},
          {"examples", examples},
          {"test_accuracy", result.accuracy},
          {"test_loss", result.loss}};
}

}  // namespace

CLI::App* add_eval_command(CLI::App& app, EvalCommandArgs& args) {
  CLI::App* cmd = app.add_subcommand("eval", "Test accuracy of saved parameters or checkpoints");
  cmd->option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  cmd->add_option("--config", "TOML file whose keys set these options (flags win)")
      ->check(CLI::ExistingFile);
  cmd->add_option("params,--params", args.params_paths,
                  "Parameter files (rumor train --save) or checkpoints")
      ->required()
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->add_flag("--average", args.average,
                "Also evaluate the element-wise mean of all the files' parameters (consensus)");
  cmd->add_option("--device", args.device, "cpu or cuda:N")->capture_default_str();
  cmd->add_option("--threads", args.threads, "CPU threads for the math (0 = all cores)")
      ->capture_default_str();
  add_data_options(*cmd, args.data_dir, args.limit_test);
  cmd->add_flag("--json", args.json,
                "Print JSON: one object per file, or with --average one object with the "
                "mean's result and an \"inputs\" list");
  return cmd;
}

int run_eval_command(const EvalCommandArgs& args) {
  if (args.threads < 0) throw ConfigError("--threads: must be >= 0 (0 = all cores)");
  std::vector<Replica> replicas;
  for (const std::string& path : args.params_paths) replicas.push_back(load_replica(path));
  const ParamFile mean = args.average ? average(replicas) : ParamFile{};
  auto backend = make_backend(args.device, args.threads);
  const ShardedData data = load_sharded_data(args.data_dir, "iid", 0, 1, 1, 0, args.limit_test);
  const std::size_t examples = data.test.count;

  nlohmann::json inputs = nlohmann::json::array();
  for (const Replica& r : replicas) {
    const Evaluation result = evaluate(*backend, data, r.params.model, r.params.values, r.path);
    print(args, r.path, r.params.model, examples, result);
    inputs.push_back(to_json(r.path, r.params.model, examples, result));
    if (args.json && !args.average) std::printf("%s\n", inputs.back().dump().c_str());
  }
  if (args.average) {
    const std::string what = "average of " + std::to_string(replicas.size()) + " replicas";
    const Evaluation result = evaluate(*backend, data, mean.model, mean.values, what);
    print(args, what, mean.model, examples, result);
    if (args.json) {
      std::printf("%s\n", nlohmann::json{{"averaged", replicas.size()},
                                         {"model", mean.model},
                                         {"examples", examples},
                                         {"test_accuracy", result.accuracy},
                                         {"test_loss", result.loss},
                                         {"inputs", inputs}}
                              .dump()
                              .c_str());
    }
  }
  return 0;
}

}  // namespace rumor
