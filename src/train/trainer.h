// trainer.h — the training loop of one replica: mini-batches from a dataset, forward,
// backward, SGD step with the learning-rate schedule, periodic test evaluation; snapshots of
// its state (checkpoint()) and resuming from one (restore()).
//
// The data order depends only on the seed and the epoch, so a run restored from a checkpoint
// takes exactly the steps the uninterrupted run would have taken: on the CPU backend with the
// same thread count, the final parameters are bit-identical.
//
// Single-threaded: the caller's thread owns the backend and the model for the whole run.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "kernels/backend.h"
#include "train/checkpoint.h"
#include "train/dataset.h"
#include "train/mlp.h"
#include "train/optimizer.h"

namespace rumor {

struct TrainOptions {
  std::string model = "784-256-128-10";
  int epochs = 10;
  int batch = 128;
  float lr = 0.1f;
  float momentum = 0.9f;
  bool nesterov = true;
  float weight_decay = 5e-4f;
  int warmup_steps = 200;
  std::uint64_t seed = 1;
  // Steps between test evaluations; 0 = at the end of every epoch only.
  int eval_every = 0;
  // False: reports carry no test evaluation (Progress::test stays zero). For the follower
  // replicas of a node, whose leader evaluates the parameters they all share.
  bool evaluate = true;
};

struct Evaluation {
  double loss = 0.0;      // mean cross-entropy over the test set
  double accuracy = 0.0;  // fraction of correct predictions
};

// What the loop reports after each evaluation.
struct Progress {
  int epoch = 0;                 // 1-based epoch the step belongs to
  int epochs = 0;
  std::int64_t step = 0;         // steps completed
  std::int64_t total_steps = 0;
  double train_loss = 0.0;       // mean training loss since the previous report
  double lr = 0.0;               // learning rate of the last step
  Evaluation test;
  double train_seconds = 0.0;    // time spent training (evaluation excluded)
  double samples_per_second = 0.0;  // over the whole run so far
  bool final = false;            // the last report of the run
};

// Called around every training step, on the training thread; time spent in them counts as
// training time. Gossip uses them: mix() before a step, publish() after it. `step` is the
// 0-based index of the step.
struct StepHooks {
  std::function<void(std::int64_t step)> before;  // before the batch of `step` is used
  // After the update of `step`. Trainer::step() already counts it (== step + 1), so a
  // Trainer::checkpoint() taken here is the state after `step` (see periodic_checkpointer.h).
  std::function<void(std::int64_t step)> after;
  // Asked after every step, once `after` and any progress report are done; returning true
  // makes run() return early (e.g. a stop signal arrived). Trainer::step() then says how far
  // the run got, and a later run() or a restored checkpoint continues from there.
  std::function<bool()> should_stop = {};
  // After the backward pass of `step`, before the optimizer update: model().grads() holds this
  // step's gradients and may be replaced (e.g. all-reduced across the replicas of a node).
  std::function<void(std::int64_t step)> gradients = {};
};

class Trainer {
 public:
  // Throws ConfigError for invalid options (naming the option) or a model whose input width
  // or class count does not match the data.
  Trainer(Backend& backend, const TrainOptions& options, const Dataset& train,
          const Dataset& test, const Clock& clock);

  // Runs the remaining steps, from step() to total_steps() (all of them for a new trainer),
  // calling `report` after each evaluation and `hooks` around every step. Returns when the
  // run is complete or hooks.should_stop() returns true.
  void run(const std::function<void(const Progress&)>& report, const StepHooks& hooks = {});

  // Steps completed: 0 for a new trainer, the checkpoint's step after restore(), advanced by
  // run().
  std::int64_t step() const { return step_; }

  // The state of the run after step() steps, labelled with `rank`: copies parameters,
  // velocity and the current loss sums from the backend (synchronizes). Call it between
  // steps: from StepHooks::after or outside run().
  Checkpoint checkpoint(int rank) const;

  // Continues this run from `checkpoint` (not during run()): uploads its parameters, velocity
  // and loss sums and sets step(). Throws ConfigError naming the option when the checkpoint
  // belongs to another run (--model, --seed, --batch, --epochs, or another training set),
  // DataError when its contents do not fit the model; the trainer is unchanged then. The
  // rank is the caller's business.
  void restore(const Checkpoint& checkpoint);

  // Accuracy and loss of the current parameters on the test set.
  Evaluation evaluate();

  Mlp& model() { return model_; }
  const Mlp& model() const { return model_; }
  Sgd& optimizer() { return optimizer_; }
  std::int64_t steps_per_epoch() const { return steps_per_epoch_; }
  std::int64_t total_steps() const { return steps_per_epoch_ * options_.epochs; }

 private:
  // Copies the examples at indices[0..batch) into the device batch buffers.
  void load_batch(const Dataset& data, const std::size_t* indices, int count);
  // One optimisation step on the batch already loaded; its per-example losses are added to
  // loss_sum_ on the backend (no host round trip per step). `gradients` (may be empty) runs
  // between the backward pass and the update.
  void train_step(std::int64_t step, int count,
                  const std::function<void(std::int64_t)>& gradients);
  // Mean of the losses accumulated since the last call (reads them back and resets them).
  double take_mean_loss(std::int64_t steps);
  // Whether run() evaluates and reports after `steps` completed steps.
  bool is_report_step(std::int64_t steps) const;
  // Evaluates, reports progress at step_ (in `epoch`) and starts a new reporting interval.
  void report_progress(int epoch, const std::function<void(const Progress&)>& report);

  Backend& backend_;
  TrainOptions options_;
  const Dataset& train_;
  const Dataset& test_;
  const Clock& clock_;
  Mlp model_;
  Sgd optimizer_;
  LrSchedule schedule_;
  std::int64_t steps_per_epoch_;
  int eval_chunk_;
  std::vector<float> host_images_;
  std::vector<std::int32_t> host_labels_;
  std::vector<float> host_losses_;
  std::vector<std::int32_t> host_predictions_;
  DeviceArray<float> images_;
  DeviceArray<std::int32_t> labels_;
  DeviceArray<std::int32_t> predictions_;
  DeviceArray<float> loss_sum_;  // [batch] running sums of per-example training losses
  // Run state (what a checkpoint holds besides the arrays).
  std::int64_t step_ = 0;          // steps completed
  std::int64_t loss_steps_ = 0;    // steps whose losses are in loss_sum_
  double train_seconds_ = 0.0;     // training time up to started_
  Clock::TimePoint started_{};     // start of the training time not yet in train_seconds_
  bool running_ = false;           // inside run()
};

}  // namespace rumor
