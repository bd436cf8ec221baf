// progress_display.h — a peer's progress on the console: one live line rewritten in place on
// a terminal, plain lines at a fixed interval otherwise (logs, pipes, CI).
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>

#include "core/clock.h"

namespace rumor {

struct ProgressLine {
  int rank = 0;
  std::int64_t step = 0;
  std::int64_t total_steps = 0;
  int epoch = 0;
  int epochs = 0;
  std::optional<double> train_loss;     // since the last evaluation
  std::optional<double> test_accuracy;  // of the last evaluation
  double samples_per_second = 0.0;
  int live_neighbours = 0;
  int peers = 0;                        // other peers in the run
  double mean_staleness = 0.0;          // over live peers' last parameter messages
  bool waiting = false;                 // held by a staleness gate right now
};

// "rank 2  step 120/4680 (2.6%)  epoch 1/10  loss 0.6123  acc 0.8012  35120 samples/s
//  peers 3/3 live  staleness 1.2"
std::string format_progress(const ProgressLine& line);

class ProgressDisplay {
 public:
  // On a terminal (`live`), the line is redrawn at most every 200 ms; otherwise printed as a
  // plain line every `interval` (0 = never). Writes to `out`.
  ProgressDisplay(std::FILE* out, bool live, Clock::Duration interval, const Clock& clock);

  // Whether update() would show a line now (so callers gather its figures only then).
  bool due() const;
  // Shows `line` if it is time to; cheap to call every step.
  void update(const ProgressLine& line);
  // Prints a whole line of text (an evaluation, an event), keeping the live line below it.
  void print(const std::string& text);
  // Ends the live line (before the final summary).
  void finish();

 private:
  void draw(const std::string& text);

  std::FILE* out_;
  bool live_;
  Clock::Duration interval_;
  const Clock& clock_;
  std::optional<Clock::TimePoint> last_;
  std::string shown_;  // the live line on screen ("" = none)
};

}  // namespace rumor
