#include "peer/training_options.h"

#include <CLI/CLI.hpp>

namespace rumor {

void add_training_options(CLI::App& cmd, TrainOptions& t, std::string& device, int& threads) {
  cmd.add_option("--model", t.model, "MLP layer widths, input first")->capture_default_str();
  cmd.add_option("--epochs", t.epochs, "Passes over the training shard")->capture_default_str();
  cmd.add_option("--batch", t.batch, "Examples per step")->capture_default_str();
  cmd.add_option("--lr", t.lr, "Peak learning rate")->capture_default_str();
  cmd.add_option("--momentum", t.momentum, "SGD momentum")->capture_default_str();
  cmd.add_flag("--nesterov,!--no-nesterov", t.nesterov, "Nesterov momentum (default on)");
  cmd.add_option("--weight-decay", t.weight_decay, "L2 weight decay")->capture_default_str();
  cmd.add_option("--warmup-steps", t.warmup_steps, "Linear warm-up steps before cosine decay")
      ->capture_default_str();
  cmd.add_option("--seed", t.seed, "Seed for initialisation, shuffling and shards")
      ->capture_default_str();
  cmd.add_option("--eval-every", t.eval_every,
                 "Steps between test evaluations (0 = once per epoch)")
      ->capture_default_str();
  cmd.add_option("--device", device, "cpu or cuda:N")->capture_default_str();
  cmd.add_option("--threads", threads, "CPU threads for the math (0 = all cores)")
      ->capture_default_str();
}

}  // namespace rumor
