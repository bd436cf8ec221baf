#include "train/trainer.h"

#include <algorithm>
#include <cstring>
#include <numeric>

#include "core/error.h"
#include "core/rng.h"

namespace rumor {
namespace {

constexpr int kEvalChunk = 1000;

void validate(const TrainOptions& o, const Dataset& train) {
  const auto bad = [](const std::string& flag, const std::string& why) {
    return ConfigError("--" + flag + ": " + why);
  };
  if (o.epochs < 1) throw bad("epochs", "must be at least 1, got " + std::to_string(o.epochs));
  if (o.batch < 1 || o.batch > 65536) {
    throw bad("batch", "must be in 1..65536, got " + std::to_string(o.batch));
  }
  if (static_cast<std::size_t>(o.batch) > train.count) {
    throw bad("batch", std::to_string(o.batch) + " is larger than the training set (" +
                           std::to_string(train.count) + " examples)");
  }
  if (!(o.lr > 0.0f)) throw bad("lr", "must be positive, got " + std::to_string(o.lr));
  if (!(o.momentum >= 0.0f && o.momentum < 1.0f)) {
    throw bad("momentum", "must be in [0, 1), got " + std::to_string(o.momentum));
  }
  if (!(o.weight_decay >= 0.0f)) {
    throw bad("weight-decay", "must be >= 0, got " + std::to_string(o.weight_decay));
  }
  if (o.warmup_steps < 0) throw bad("warmup-steps", "must be >= 0");
  if (o.eval_every < 0) throw bad("eval-every", "must be >= 0 (0 = once per epoch)");
}

const Dataset& checked(const Dataset& train, const Dataset& test, const MlpSpec& spec) {
  if (static_cast<std::size_t>(spec.inputs()) != train.features ||
      spec.classes() != train.classes) {
    throw ConfigError("--model: " + spec.to_string() + " takes " +
                      std::to_string(spec.inputs()) + " inputs and " +
                      std::to_string(spec.classes()) + " classes, the data has " +
                      std::to_string(train.features) + " features and " +
                      std::to_string(train.classes) + " classes");
  }
  RUMOR_CHECK(test.features == train.features && test.classes == train.classes,
              "train and test sets differ in shape");
  return train;
}

}  // namespace

Trainer::Trainer(Backend& backend, const TrainOptions& options, const Dataset& train,
                 const Dataset& test, const Clock& clock)
    : backend_(backend),
      options_((validate(options, train), options)),
      train_(checked(train, test, MlpSpec::parse(options.model))),
      test_(test),
      clock_(clock),
      model_(backend, MlpSpec::parse(options.model), std::max(options.batch, kEvalChunk)),
      optimizer_(backend, model_.parameter_count(),
                 SgdConfig{options.lr, options.momentum, options.weight_decay,
                           options.nesterov}),
      schedule_(options.lr, options.warmup_steps,
                static_cast<std::int64_t>(train.count / options.batch) * options.epochs),
      steps_per_epoch_(static_cast<std::int64_t>(train.count / options.batch)),
      eval_chunk_(std::max(options.batch, kEvalChunk)),
      host_images_(static_cast<std::size_t>(eval_chunk_) * train.features),
      host_labels_(eval_chunk_),
      host_losses_(eval_chunk_),
      host_predictions_(eval_chunk_),
      images_(backend, static_cast<std::size_t>(eval_chunk_) * train.features),
      labels_(backend, eval_chunk_),
      predictions_(backend, eval_chunk_),
      loss_sum_(backend, options.batch) {
  model_.init_he(options.seed);
  backend.fill(loss_sum_.data(), loss_sum_.size(), 0.0f);
}

void Trainer::load_batch(const Dataset& data, const std::size_t* indices, int count) {
  const std::size_t features = data.features;
  for (int i = 0; i < count; ++i) {
    const std::size_t example = indices[i];
    std::memcpy(host_images_.data() + i * features, data.images.data() + example * features,
                features * sizeof(float));
    host_labels_[i] = data.labels[example];
  }
  backend_.copy_from_host(images_.data(), host_images_.data(), count * features * sizeof(float));
  backend_.copy_from_host(labels_.data(), host_labels_.data(), count * sizeof(std::int32_t));
}

void Trainer::train_step(std::int64_t step, int count,
                         const std::function<void(std::int64_t)>& gradients) {
  model_.forward_backward(images_.data(), labels_.data(), count);
  if (gradients) gradients(step);
  optimizer_.step(model_.params().data(), model_.grads().data(), schedule_.at(step));
  backend_.axpby(count, 1.0f, model_.losses(), 1.0f, loss_sum_.data());
}

double Trainer::take_mean_loss(std::int64_t steps) {
  backend_.copy_to_host(host_losses_.data(), loss_sum_.data(), loss_sum_.bytes());
  backend_.fill(loss_sum_.data(), loss_sum_.size(), 0.0f);
  const auto end = host_losses_.begin() + static_cast<std::ptrdiff_t>(loss_sum_.size());
  const double sum = std::accumulate(host_losses_.begin(), end, 0.0);
  const double examples = static_cast<double>(steps) * static_cast<double>(loss_sum_.size());
  return steps > 0 ? sum / examples : 0.0;
}

Evaluation Trainer::evaluate() {
  Evaluation result;
  std::vector<std::size_t> indices(eval_chunk_);
  std::size_t correct = 0;
  double loss_sum = 0.0;
  for (std::size_t start = 0; start < test_.count; start += eval_chunk_) {
    const int count = static_cast<int>(std::min<std::size_t>(eval_chunk_, test_.count - start));
    std::iota(indices.begin(), indices.begin() + count, start);
    load_batch(test_, indices.data(), count);
    const float* logits = model_.loss_only(images_.data(), labels_.data(), count);
    backend_.argmax_rows(logits, count, model_.spec().classes(), predictions_.data());
    backend_.copy_to_host(host_losses_.data(), model_.losses(), count * sizeof(float));
    backend_.copy_to_host(host_predictions_.data(), predictions_.data(),
                          count * sizeof(std::int32_t));
    for (int i = 0; i < count; ++i) {
      loss_sum += host_losses_[i];
      correct += host_predictions_[i] == host_labels_[i];
    }
  }
  if (test_.count > 0) {
    result.loss = loss_sum / static_cast<double>(test_.count);
    result.accuracy = static_cast<double>(correct) / static_cast<double>(test_.count);
  }
  return result;
}

bool Trainer::is_report_step(std::int64_t steps) const {
  if (steps <= 0) return false;
  return steps % steps_per_epoch_ == 0 ||
         (options_.eval_every > 0 && steps % options_.eval_every == 0);
}

void Trainer::report_progress(int epoch, const std::function<void(const Progress&)>& report) {
  backend_.synchronize();  // queued device work belongs to the training time
  train_seconds_ += seconds_between(started_, clock_.now());
  Progress progress;
  progress.epoch = epoch;
  progress.epochs = options_.epochs;
  progress.step = step_;
  progress.total_steps = total_steps();
  progress.train_loss = take_mean_loss(loss_steps_);
  progress.lr = schedule_.at(step_ - 1);
  if (options_.evaluate) progress.test = evaluate();
  progress.train_seconds = train_seconds_;
  progress.samples_per_second =
      train_seconds_ > 0 ? static_cast<double>(step_) * options_.batch / train_seconds_ : 0.0;
  progress.final = step_ == total_steps();
  report(progress);
  loss_steps_ = 0;
  started_ = clock_.now();
}

void Trainer::run(const std::function<void(const Progress&)>& report, const StepHooks& hooks) {
  std::vector<std::size_t> order(train_.count);
  const int batch = options_.batch;
  running_ = true;
  struct NotRunning {
    bool& flag;
    ~NotRunning() { flag = false; }
  } not_running{running_};
  // Resuming mid-epoch: the epoch's order is rebuilt and its first step_ % steps_per_epoch_
  // batches are skipped; later epochs start at batch 0.
  const int first_epoch = static_cast<int>(step_ / steps_per_epoch_) + 1;
  for (int epoch = first_epoch; epoch <= options_.epochs; ++epoch) {
    std::iota(order.begin(), order.end(), std::size_t{0});
    Rng rng = Rng::stream(options_.seed, static_cast<std::uint64_t>(epoch));
    rng.shuffle(std::span<std::size_t>(order));
    started_ = clock_.now();
    for (std::int64_t i = step_ - (epoch - 1) * steps_per_epoch_; i < steps_per_epoch_; ++i) {
      const std::int64_t step = step_;
      if (hooks.before) hooks.before(step);
      load_batch(train_, order.data() + i * batch, batch);
      train_step(step, batch, hooks.gradients);
      ++loss_steps_;
      step_ = step + 1;
      if (hooks.after) hooks.after(step);
      if (is_report_step(step_)) report_progress(epoch, report);
      if (hooks.should_stop && hooks.should_stop()) {
        backend_.synchronize();
        train_seconds_ += seconds_between(started_, clock_.now());
        return;
      }
    }
  }
}

Checkpoint Trainer::checkpoint(int rank) const {
  Checkpoint c;
  c.model = model_.spec().to_string();
  c.rank = rank;
  c.batch = options_.batch;
  c.step = step_;
  c.epoch = step_ == 0 ? 0 : (step_ - 1) / steps_per_epoch_ + 1;
  c.seed = options_.seed;
  c.train_examples = train_.count;
  c.total_steps = total_steps();
  c.params = model_.params().to_host();
  c.velocity = optimizer_.velocity().to_host();
  // From StepHooks::after at a reporting step the report has not yet taken the interval's
  // losses; it will, so the snapshot holds the state after the report: no pending losses.
  if (is_report_step(step_)) {
    c.loss_sums.assign(loss_sum_.size(), 0.0f);
  } else {
    c.loss_sums = loss_sum_.to_host();
    c.loss_steps = loss_steps_;
  }
  c.train_seconds = train_seconds_ + (running_ ? seconds_between(started_, clock_.now()) : 0.0);
  return c;
}

void Trainer::restore(const Checkpoint& c) {
  RUMOR_CHECK(!running_, "restore() during run()");
  const auto differs = [&](const std::string& option, const std::string& theirs,
                           const std::string& ours) {
    return ConfigError(option + ": the checkpoint belongs to a run with " + theirs +
                       ", this run has " + ours);
  };
  MlpSpec spec;
  try {
    spec = MlpSpec::parse(c.model);
  } catch (const ConfigError& error) {
    throw DataError("checkpoint has an invalid model spec: " + std::string(error.what()));
  }
  if (spec.widths != model_.spec().widths) {
    throw differs("--model", spec.to_string(), model_.spec().to_string());
  }
  if (c.seed != options_.seed) {
    throw differs("--seed", std::to_string(c.seed), std::to_string(options_.seed));
  }
  if (c.batch != options_.batch) {
    throw differs("--batch", std::to_string(c.batch), std::to_string(options_.batch));
  }
  if (c.train_examples != train_.count) {
    throw ConfigError("training set: the checkpoint belongs to a run on " +
                      std::to_string(c.train_examples) + " examples, this run has " +
                      std::to_string(train_.count) +
                      " (check --limit-train, --shard, --rank and --world)");
  }
  if (c.total_steps != total_steps()) {
    throw differs("--epochs", std::to_string(c.total_steps) + " steps in all",
                  std::to_string(total_steps()) + " (" + std::to_string(options_.epochs) +
                      " epochs of " + std::to_string(steps_per_epoch_) + " steps)");
  }
  const auto bad = [](const std::string& what, std::size_t seen, std::size_t expected) {
    return DataError("checkpoint holds " + std::to_string(seen) + " " + what + ", expected " +
                     std::to_string(expected));
  };
  if (c.params.size() != model_.parameter_count()) {
    throw bad("parameters", c.params.size(), model_.parameter_count());
  }
  if (c.velocity.size() != model_.parameter_count()) {
    throw bad("velocity values", c.velocity.size(), model_.parameter_count());
  }
  if (c.loss_sums.size() != loss_sum_.size()) {
    throw bad("loss sums", c.loss_sums.size(), loss_sum_.size());
  }
  if (c.step < 0 || c.step > total_steps() || c.loss_steps < 0 || c.loss_steps > c.step) {
    throw DataError("checkpoint step " + std::to_string(c.step) + " (with " +
                    std::to_string(c.loss_steps) + " unreported) is not in 0.." +
                    std::to_string(total_steps()));
  }
  model_.params().upload(c.params);
  optimizer_.velocity().upload(c.velocity);
  loss_sum_.upload(c.loss_sums);
  step_ = c.step;
  loss_steps_ = c.loss_steps;
  train_seconds_ = c.train_seconds;
}

}  // namespace rumor
