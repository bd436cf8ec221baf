#include "peer/progress_display.h"

#include <chrono>

namespace rumor {

std::string format_progress(const ProgressLine& l) {
  char text[320];
  const double percent =
      l.total_steps > 0 ? 100.0 * static_cast<double>(l.step) / static_cast<double>(l.total_steps)
                        : 0.0;
  int n = std::snprintf(text, sizeof(text), "rank %d  step %lld/%lld (%.1f%%)  epoch %d/%d", l.rank,
                        static_cast<long long>(l.step), static_cast<long long>(l.total_steps),
                        percent, l.epoch, l.epochs);
  const auto append = [&](const char* format, auto... values) {
    if (n >= 0 && n < static_cast<int>(sizeof(text))) {
      n += std::snprintf(text + n, sizeof(text) - static_cast<std::size_t>(n), format, values...);
    }
  };
  if (l.train_loss) append("  loss %.4f", *l.train_loss);
  if (l.test_accuracy) append("  acc %.4f", *l.test_accuracy);
  append("  %.0f samples/s  peers %d/%d live  staleness %.1f", l.samples_per_second,
         l.live_neighbours, l.peers, l.mean_staleness);
  if (l.waiting) append("  (waiting)");
  return text;
}

ProgressDisplay::ProgressDisplay(std::FILE* out, bool live, Clock::Duration interval,
                                 const Clock& clock)
    : out_(out), live_(live), interval_(interval), clock_(clock) {}

bool ProgressDisplay::due() const {
  if (!live_ && interval_.count() == 0) return false;
  const Clock::Duration every = live_ ? Clock::Duration(std::chrono::milliseconds(200)) : interval_;
  return !last_ || clock_.now() - *last_ >= every;
}

void ProgressDisplay::update(const ProgressLine& line) {
  if (!due()) return;
  last_ = clock_.now();
  const std::string text = format_progress(line);
  if (live_) {
    draw(text);
  } else {
    std::fprintf(out_, "%s\n", text.c_str());
    std::fflush(out_);
  }
}

void ProgressDisplay::draw(const std::string& text) {
  std::fprintf(out_, "\r\033[K%s", text.c_str());
  std::fflush(out_);
  shown_ = text;
}

void ProgressDisplay::print(const std::string& text) {
  if (live_ && !shown_.empty()) {
    std::fprintf(out_, "\r\033[K%s\n", text.c_str());
    draw(shown_);
    return;
  }
  std::fprintf(out_, "%s\n", text.c_str());
  std::fflush(out_);
}

void ProgressDisplay::finish() {
  if (live_ && !shown_.empty()) {
    std::fprintf(out_, "\r\033[K");
    std::fflush(out_);
  }
  shown_.clear();
}

}  // namespace rumor
