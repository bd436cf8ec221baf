// child_process.h — a `rumor` process under test whose stdout and stderr arrive through one
// pipe, read with deadlines: tests synchronise on what the program prints (never on sleeps)
// and send it signals.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace rumor_test {

class ChildProcess {
 public:
  using Clock = std::chrono::steady_clock;

  // Starts `program` with `args` (argv[1..]); its stdout and stderr go to our pipe.
  ChildProcess(const std::string& program, const std::vector<std::string>& args) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      ::dup2(fds[1], STDOUT_FILENO);
      ::dup2(fds[1], STDERR_FILENO);
      std::vector<char*> argv{const_cast<char*>(program.c_str())};
      for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      ::execv(program.c_str(), argv.data());
      ::_exit(127);
    }
    ::close(fds[1]);
    fd_ = fds[0];
  }
  ~ChildProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (fd_ >= 0) ::close(fd_);
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Reads until the output after `from` contains `text`; returns its position, or npos at
  // end of output or when `timeout` passes.
  std::size_t wait_for(const std::string& text, std::size_t from = 0,
                       std::chrono::seconds timeout = std::chrono::seconds(120)) {
    const auto deadline = Clock::now() + timeout;
    for (;;) {
      const std::size_t at = output_.find(text, from);
      if (at != std::string::npos) return at;
      if (!read_some(deadline)) return std::string::npos;
    }
  }

  void signal(int signal_number) { ::kill(pid_, signal_number); }

  // Reads to the end of the output, reaps the process and returns its exit code (128 + the
  // signal when killed), or -1 when `timeout` passes first.
  int wait(std::chrono::seconds timeout = std::chrono::seconds(120)) {
    const auto deadline = Clock::now() + timeout;
    while (read_some(deadline)) {
    }
    if (Clock::now() >= deadline) return -1;
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  const std::string& output() const { return output_; }
  // The read end of the output pipe (-1 once the output ended).
  int fd() const { return fd_; }
  // Appends what one read returns; closes the pipe and returns false at end of output.
  bool read_once() {
    char buffer[4096];
    ssize_t n;
    do {
      n = ::read(fd_, buffer, sizeof(buffer));
    } while (n < 0 && errno == EINTR);
    if (n > 0) {
      output_.append(buffer, static_cast<std::size_t>(n));
      return true;
    }
    if (n < 0 && errno == EAGAIN) return true;  // nothing after all: still open
    ::close(fd_);
    fd_ = -1;
    return false;
  }

 private:
  // Appends what arrives before `deadline`; false at end of output or past the deadline.
  bool read_some(Clock::time_point deadline) {
    if (fd_ < 0) return false;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) return true;
    if (ready <= 0) return false;
    char buffer[4096];
    ssize_t n;
    do {
      n = ::read(fd_, buffer, sizeof(buffer));
    } while (n < 0 && errno == EINTR);
    if (n <= 0) return false;
    output_.append(buffer, static_cast<std::size_t>(n));
    return true;
  }

  pid_t pid_ = -1;
  int fd_ = -1;
  std::string output_;
};

// Reads the output of all `children` (so none blocks on a full pipe) until `done()` holds,
// checked before waiting and after every read, or `timeout` passes. Returns done().
inline bool wait_until(const std::vector<ChildProcess*>& children,
                       const std::function<bool()>& done,
                       std::chrono::seconds timeout = std::chrono::seconds(120)) {
  const auto deadline = ChildProcess::Clock::now() + timeout;
  while (!done()) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - ChildProcess::Clock::now());
    if (left.count() <= 0) return false;
    std::vector<pollfd> fds;
    std::vector<ChildProcess*> owners;
    for (ChildProcess* child : children) {
      if (child == nullptr || child->fd() < 0) continue;
      fds.push_back({child->fd(), POLLIN, 0});
      owners.push_back(child);
    }
    if (fds.empty()) return done();  // every output ended: nothing will change any more
    if (::poll(fds.data(), fds.size(), static_cast<int>(std::min<long>(left.count(), 1000))) < 0 &&
        errno != EINTR) {
      return done();
    }
    for (std::size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].revents != 0) owners[i]->read_once();
    }
  }
  return true;
}

}  // namespace rumor_test
