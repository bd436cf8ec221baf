// stop_signal.h — a graceful stop on SIGINT and SIGTERM for the long-running commands
// (`rumor train`, `rumor peer`).
//
// While a StopSignal is alive, the first SIGINT or SIGTERM only sets a process-wide flag:
// the program sees stop_requested(), finishes its current step, writes a checkpoint and exits
// 0. A second signal ends the process at once with exit code 130 (_exit: no destructors, no
// buffered output flushed). Destruction restores the handlers that were installed before.
// The handler is async-signal-safe: it touches only a lock-free atomic and calls write(2) and
// _exit(2).
#pragma once

#include <csignal>

namespace rumor {

class StopSignal {
 public:
  static constexpr int kExitCodeOnSecondSignal = 130;

  // Clears the flag and installs the handlers. Throws rumor::Error when another StopSignal is
  // alive (there is one flag per process) or sigaction fails.
  StopSignal();
  ~StopSignal();
  StopSignal(const StopSignal&) = delete;
  StopSignal& operator=(const StopSignal&) = delete;

  // True once SIGINT or SIGTERM arrived. An atomic load: cheap, callable from any thread.
  bool stop_requested() const { return signal_number() != 0; }
  // The first signal received (SIGINT or SIGTERM), 0 if none.
  int signal_number() const;
  // "SIGINT", "SIGTERM" or "no signal".
  const char* signal_name() const;

 private:
  struct sigaction previous_int_ {};
  struct sigaction previous_term_ {};
};

}  // namespace rumor
