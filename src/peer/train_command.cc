#include "peer/train_command.h"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>

#include <optional>

#include "core/clock.h"
#include "peer/data_options.h"
#include "peer/metrics_log.h"
#include "peer/stop_signal.h"
#include "train/param_file.h"
#include "train/periodic_checkpointer.h"

namespace rumor {
namespace {

nlohmann::json to_json(const Progress& p) {
  return {{"event", p.final ? "final" : "eval"},
          {"epoch", p.epoch},
          {"step", p.step},
          {"total_steps", p.total_steps},
          {"train_loss", p.train_loss},
          {"lr", p.lr},
          {"test_loss", p.test.loss},
          {"test_accuracy", p.test.accuracy},
          {"train_seconds", p.train_seconds},
          {"samples_per_second", p.samples_per_second}};
}

void print_progress(const Progress& p) {
  std::printf("epoch %3d/%d  step %6lld/%lld  loss %.4f  test_acc %.4f  test_loss %.4f  "
              "lr %.4f  %7.0f samples/s  %6.1f s\n",
              p.epoch, p.epochs, static_cast<long long>(p.step),
              static_cast<long long>(p.total_steps), p.train_loss, p.test.accuracy, p.test.loss,
              p.lr, p.samples_per_second, p.train_seconds);
  std::fflush(stdout);
}

}  // namespace

CLI::App* add_train_command(CLI::App& app, TrainCommandArgs& args) {
  CLI::App* cmd = app.add_subcommand("train", "Train one replica alone (no gossip): the baseline");
  cmd->option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  TrainOptions& t = args.train;
  cmd->add_option("--config", "TOML file whose keys set these options (flags win)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--model", t.model, "MLP layer widths, input first")->capture_default_str();
  cmd->add_option("--epochs", t.epochs, "Passes over the training shard")->capture_default_str();
  cmd->add_option("--batch", t.batch, "Examples per step")->capture_default_str();
  cmd->add_option("--lr", t.lr, "Peak learning rate")->capture_default_str();
  cmd->add_option("--momentum", t.momentum, "SGD momentum")->capture_default_str();
  cmd->add_flag("--nesterov,!--no-nesterov", t.nesterov, "Nesterov momentum (default on)");
  cmd->add_option("--weight-decay", t.weight_decay, "L2 weight decay")->capture_default_str();
  cmd->add_option("--warmup-steps", t.warmup_steps, "Linear warm-up steps before cosine decay")
      ->capture_default_str();
  cmd->add_option("--seed", t.seed, "Seed for initialisation, shuffling and shards")
      ->capture_default_str();
  cmd->add_option("--eval-every", t.eval_every,
                  "Steps between test evaluations (0 = once per epoch)")
      ->capture_default_str();
  cmd->add_option("--device", args.device, "cpu or cuda:N")->capture_default_str();
  cmd->add_option("--threads", args.threads, "CPU threads for the math (0 = all cores)")
      ->capture_default_str();
  add_data_options(*cmd, args.data_dir, args.limit_test);
  cmd->add_option("--shard", args.shard, "How the training set is split: iid or dirichlet:ALPHA")
      ->capture_default_str();
  cmd->add_option("--rank", args.rank, "Train on this rank's shard")->capture_default_str();
  cmd->add_option("--world", args.world, "Number of shards the training set is split into")
      ->capture_default_str();
  cmd->add_option("--limit-train", args.limit_train,
                  "Use only the first N examples of the shard (0 = all)")
      ->capture_default_str();
  cmd->add_option("--out", args.out_dir, "Folder for metrics.jsonl and params.bin")
      ->capture_default_str();
  cmd->add_option("--metrics", args.metrics_path, "JSONL metrics file (default <out>/metrics.jsonl)");
  cmd->add_option("--save", args.save_path, "Final parameters file (default <out>/params.bin)");
  cmd->add_flag("--quiet,-q", args.quiet, "Print only the final summary");
  add_checkpoint_options(*cmd, args.checkpoint);
  return cmd;
}

int run_train_command(const TrainCommandArgs& args) {
  if (args.threads < 0) throw ConfigError("--threads: must be >= 0 (0 = all cores)");
  validate_checkpoint_args(args.checkpoint);
  const std::filesystem::path out(args.out_dir);
  const std::filesystem::path metrics_path =
      args.metrics_path.empty() ? out / "metrics.jsonl" : std::filesystem::path(args.metrics_path);
  const std::filesystem::path save_path =
      args.save_path.empty() ? out / "params.bin" : std::filesystem::path(args.save_path);

  auto backend = make_backend(args.device, args.threads);
  const ShardedData data = load_sharded_data(args.data_dir, args.shard, args.rank, args.world,
                                             args.train.seed, args.limit_train, args.limit_test);
  SteadyClock clock;
  Trainer trainer(*backend, args.train, data.train, data.test, clock);

  std::printf("rumor train: model %s (%zu parameters) on %s, %d thread%s; %zu train / %zu test "
              "examples (shard %s, rank %d of %d); %d epochs x %lld steps, batch %d\n",
              args.train.model.c_str(), trainer.model().parameter_count(),
              backend->name().c_str(), args.threads, args.threads == 1 ? "" : "s",
              data.train.count, data.test.count, args.shard.c_str(), args.rank, args.world,
              args.train.epochs, static_cast<long long>(trainer.steps_per_epoch()),
              args.train.batch);
  if (!args.checkpoint.dir.empty()) {
    const std::string when =
        args.checkpoint.every > 0
            ? "every " + std::to_string(args.checkpoint.every) + " steps and at the end"
            : std::string("at the end (or on a stop signal)");
    std::printf("checkpoints: %s %s, newest %d kept\n", args.checkpoint.dir.c_str(),
                when.c_str(), args.checkpoint.keep);
  }
  std::fflush(stdout);

  std::optional<CheckpointStore> store;
  std::filesystem::path resumed_from;
  if (!args.checkpoint.dir.empty()) {
    store.emplace(args.checkpoint.dir, args.checkpoint.keep);
    resumed_from = resume_or_start(*store, trainer, args.rank, args.checkpoint.resume);
  }
  MetricsLog metrics(metrics_path,
                     resumed_from.empty() ? MetricsLog::Mode::kReplace : MetricsLog::Mode::kAppend);

  StopSignal stop;
  std::optional<PeriodicCheckpointer> saver;
  StepHooks hooks;
  if (store) {
    saver.emplace(trainer, *store, args.rank, args.checkpoint.every);
    hooks.after = [&saver](std::int64_t) { saver->after_step(); };
  }
  hooks.should_stop = [&stop] { return stop.stop_requested(); };
  std::optional<Progress> last;
  trainer.run(
      [&](const Progress& p) {
        metrics.write(to_json(p));
        if (!args.quiet) print_progress(p);
        last = p;
      },
      hooks);
  if (saver) saver->save_now();
  const std::string checkpoint =
      store ? (store->dir() / CheckpointStore::file_name(trainer.step())).string() : "none";

  if (trainer.step() < trainer.total_steps()) {  // stopped by a signal
    metrics.write({{"event", "stopped"},
                   {"signal", stop.signal_name()},
                   {"step", trainer.step()},
                   {"total_steps", trainer.total_steps()}});
    std::printf("stopped by %s after step %lld of %lld; checkpoint: %s%s\n", stop.signal_name(),
                static_cast<long long>(trainer.step()),
                static_cast<long long>(trainer.total_steps()), checkpoint.c_str(),
                store ? " (continue with --resume)" : " (no --checkpoint-dir)");
    return 0;
  }
  if (!last) {  // resumed from the final checkpoint: nothing left to train
    std::printf("the run was already complete at step %lld\n",
                static_cast<long long>(trainer.step()));
    last.emplace();
    last->epoch = args.train.epochs;
    last->step = trainer.step();
    last->test = trainer.evaluate();
  }
  if (save_path.has_parent_path()) std::filesystem::create_directories(save_path.parent_path());
  save_param_file(save_path, ParamFile{args.train.model, trainer.model().params().to_host()});
  std::printf("final test accuracy %.4f (loss %.4f) after %d epochs: %lld steps, %.1f s "
              "training, %.0f samples/s\nparameters: %s\nmetrics:    %s\ncheckpoint: %s\n",
              last->test.accuracy, last->test.loss, last->epoch,
              static_cast<long long>(last->step), last->train_seconds, last->samples_per_second,
              save_path.c_str(), metrics_path.c_str(), checkpoint.c_str());
  return 0;
}

}  // namespace rumor
