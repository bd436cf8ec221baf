// training_options.h — the options that describe one replica's training (model, optimizer,
// schedule, device), shared by `rumor train` and `rumor peer`.
#pragma once

#include <string>

#include "train/trainer.h"

namespace CLI {
class App;
}

namespace rumor {

// Adds --model, --epochs, --batch, --lr, --momentum, --[no-]nesterov, --weight-decay,
// --warmup-steps, --seed, --eval-every, --device and --threads to `command`.
void add_training_options(CLI::App& command, TrainOptions& train, std::string& device,
                          int& threads);

}  // namespace rumor
