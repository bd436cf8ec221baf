#include "peer/stop_signal.h"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <string>

#include "core/error.h"

namespace rumor {
namespace {

std::atomic<int> g_signal{0};
std::atomic<bool> g_installed{false};
static_assert(std::atomic<int>::is_always_lock_free, "the signal handler needs a lock-free flag");

constexpr char kFirstMessage[] =
    "rumor: stopping after the current step (send the signal again to exit at once)\n";

extern "C" void on_stop_signal(int signal_number) {
  int none = 0;
  if (!g_signal.compare_exchange_strong(none, signal_number)) {
    ::_exit(StopSignal::kExitCodeOnSecondSignal);
  }
  if (::write(STDERR_FILENO, kFirstMessage, sizeof(kFirstMessage) - 1) < 0) {
    // Nothing to do: the flag is set, the message is a courtesy.
  }
}

void install(int signal_number, struct sigaction* previous) {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;  // interrupted reads and writes continue
  if (::sigaction(signal_number, &action, previous) != 0) {
    throw Error(std::string("sigaction(") + ::strsignal(signal_number) +
                ") failed: " + std::strerror(errno));
  }
}

}  // namespace

StopSignal::StopSignal() {
  if (g_installed.exchange(true)) throw Error("StopSignal: another one is alive in this process");
  g_signal.store(0);
  try {
    install(SIGINT, &previous_int_);
  } catch (...) {
    g_installed.store(false);
    throw;
  }
  try {
    install(SIGTERM, &previous_term_);
  } catch (...) {
    ::sigaction(SIGINT, &previous_int_, nullptr);
    g_installed.store(false);
    throw;
  }
}

StopSignal::~StopSignal() {
  ::sigaction(SIGTERM, &previous_term_, nullptr);
  ::sigaction(SIGINT, &previous_int_, nullptr);
  g_installed.store(false);
}

int StopSignal::signal_number() const { return g_signal.load(std::memory_order_relaxed); }

const char* StopSignal::signal_name() const {
  switch (signal_number()) {
    case SIGINT: return "SIGINT";
    case SIGTERM: return "SIGTERM";
    default: return "no signal";
  }
}

}  // namespace rumor
