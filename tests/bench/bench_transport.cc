// bench_transport.cc — PARAMS throughput between two processes over tcp loopback: rumor's
// ZmqTransport against raw cppzmq PUSH/PULL with the same message size, high-water marks and
// zero-copy sends, measured in the same run; plus bfloat16 wire compression, counted as
// effective bandwidth in float32-equivalent bytes.
//
// Each measurement forks a fresh receiver process (bound on tcp://127.0.0.1:*); the parent
// sends. The receiver times first to last delivery. Rows:
//   raw PUSH/PULL f32   the reference: one buffer sent zero-copy again and again, no checks
//   rumor f32           the transport: same prepared payload, but a checksum per message on
//                       send and full validation (checksum + finiteness) on receipt
//   rumor f32+snapshot  plus copying the parameters into a pooled buffer per message (what a
//                       peer does), copy and checksum fused in one pass
//   rumor bf16          snapshot converted to bf16, converted back to float32 on receipt;
//                       bandwidth counted in float32-equivalent bytes
// Scenarios are interleaved and repeated; the table shows medians. Receivers run with glibc's
// default malloc and, in a second block, with mallopt(M_MMAP_THRESHOLD) raised (FACTS.md:
// fresh 40 MB allocations per received message cost page faults; libzmq allocates them).
//
// Usage: bench_transport [--quick] [--floats N] [--messages N] [--repeats N]
//   --quick: 1M floats, 6 messages, one repeat, default malloc only (a smoke test, seconds;
//            its figures mean nothing).
#include <malloc.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "net/zmq_transport.h"

namespace {

using namespace rumor;
using Clock = std::chrono::steady_clock;

constexpr std::uint64_t kRun = 1;
constexpr std::uint64_t kFingerprint = 2;
constexpr int kSendHwm = 2;
constexpr int kReceiveHwm = 4;

struct Settings {
  std::size_t floats = 10'000'000;  // 40 MB of float32
  int messages = 40;
  int repeats = 3;
  bool quick = false;
};

// kRumorF32 sends one prepared payload again and again (as raw does) but pays the checksum per
// message; kRumorSnapshot also copies the parameters into a pooled buffer per message (what a
// peer does); kRumorBf16 converts to bf16 on send and back to float32 on receipt.
enum class Scenario { kRaw, kRumorF32, kRumorSnapshot, kRumorBf16 };
constexpr int kNumScenarios = 4;

const char* scenario_name(Scenario s) {
  switch (s) {
    case Scenario::kRaw: return "raw PUSH/PULL f32";
    case Scenario::kRumorF32: return "rumor f32";
    case Scenario::kRumorSnapshot: return "rumor f32+snapshot";
    case Scenario::kRumorBf16: return "rumor bf16";
  }
  return "?";
}

// What the receiver reports back through a pipe.
struct Result {
  double seconds = 0;          // first to last delivery
  std::uint64_t delivered = 0;
  std::uint64_t superseded = 0;  // rumor: complete, validated PARAMS replaced by newer ones
  std::uint64_t dropped = 0;     // rumor: any other drop (should be 0)
  int ok = 0;
};

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "bench_transport: %s\n", what.c_str());
  std::exit(1);
}

void write_all(int fd, const void* data, std::size_t size) {
  const auto* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::write(fd, p, size);
    if (n <= 0) die("pipe write failed");
    p += n;
    size -= static_cast<std::size_t>(n);
  }
}

void read_all(int fd, void* data, std::size_t size) {
  auto* p = static_cast<char*>(data);
  while (size > 0) {
    const ssize_t n = ::read(fd, p, size);
    if (n <= 0) die("pipe read failed (receiver died?)");
    p += n;
    size -= static_cast<std::size_t>(n);
  }
}

void send_string(int fd, const std::string& s) {
  const std::uint32_t n = static_cast<std::uint32_t>(s.size());
  write_all(fd, &n, sizeof n);
  write_all(fd, s.data(), n);
}

std::string receive_string(int fd) {
  std::uint32_t n = 0;
  read_all(fd, &n, sizeof n);
  std::string s(n, '\0');
  read_all(fd, s.data(), n);
  return s;
}

ZmqTransportOptions rumor_options(std::uint32_t rank, std::size_t floats) {
  ZmqTransportOptions o;
  o.rank = rank;
  o.num_peers = 2;
  o.bind_endpoint = "tcp://127.0.0.1:*";
  o.expect.run_id = kRun;
  o.expect.fingerprint = kFingerprint;
  o.expect.max_elements = floats;
  o.expect.param_elements = floats;
  o.send_hwm = kSendHwm;
  o.receive_hwm = kReceiveHwm;
  o.pending_ttl = std::chrono::seconds(30);
  return o;
}

// ---- receivers (child process) -----------------------------------------------------------

Result receive_raw(const Settings& s, int report_fd) {
  zmq::context_t context(1);
  zmq::socket_t pull(context, zmq::socket_type::pull);
  pull.set(zmq::sockopt::rcvhwm, kReceiveHwm);
  pull.set(zmq::sockopt::linger, 0);
  pull.bind("tcp://127.0.0.1:*");
  send_string(report_fd, pull.get(zmq::sockopt::last_endpoint));
  Result r;
  Clock::time_point first, last;
  pull.set(zmq::sockopt::rcvtimeo, 60'000);
  for (int i = 0; i < s.messages; ++i) {
    zmq::message_t msg;
    if (!pull.recv(msg)) return r;
    if (msg.size() != s.floats * 4) die("raw: wrong message size");
    last = Clock::now();
    if (i == 0) first = last;
    ++r.delivered;
  }
  r.seconds = std::chrono::duration<double>(last - first).count();
  r.ok = 1;
  return r;
}

Result receive_rumor(const Settings& s, Scenario scenario, int report_fd) {
  ZmqTransport rx(rumor_options(1, s.floats));
  send_string(report_fd, rx.endpoint());
  std::vector<float> params(scenario == Scenario::kRumorBf16 ? s.floats : 0);
  Result r;
  Clock::time_point first, last;
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  while (Clock::now() < deadline) {
    const PeerCounters c = rx.counters().peers[0];
    r.superseded = c.dropped(DropReason::kSuperseded);
    r.dropped = c.dropped_total() - r.superseded;
    if (r.delivered + r.superseded + r.dropped >= static_cast<std::uint64_t>(s.messages)) break;
    std::optional<Message> m = rx.receive(std::chrono::milliseconds(100));
    if (!m) continue;
    if (!params.empty()) payload_to_floats(*m, params);  // back to float32, as a peer would
    last = Clock::now();
    if (r.delivered == 0) first = last;
    ++r.delivered;
  }
  r.seconds = std::chrono::duration<double>(last - first).count();
  r.ok = r.dropped == 0 && r.delivered + r.superseded == static_cast<std::uint64_t>(s.messages);
  return r;
}

// ---- senders (parent process) ------------------------------------------------------------

void send_raw(const Settings& s, const std::string& endpoint, const std::vector<float>& values) {
  zmq::context_t context(1);
  zmq::socket_t push(context, zmq::socket_type::push);
  push.set(zmq::sockopt::sndhwm, kSendHwm);
  push.set(zmq::sockopt::linger, -1);  // deliver everything before the context closes
  push.connect(endpoint);
  for (int i = 0; i < s.messages; ++i) {
    // Zero-copy from the same buffer: it outlives the context (declared by the caller).
    zmq::message_t msg(const_cast<float*>(values.data()), values.size() * 4, nullptr, nullptr);
    push.send(msg, zmq::send_flags::none);
  }
}

void send_rumor(const Settings& s, Scenario scenario, const std::string& endpoint,
                const std::vector<float>& values, int result_fd, Result& result) {
  ZmqTransport tx(rumor_options(0, s.floats));
  tx.connect(1, endpoint);
  MessageFactory factory({kRun, kFingerprint, 0, default_incarnation()});
  BufferPool pool(8);
  const WireDType dtype = scenario == Scenario::kRumorBf16 ? WireDType::kBFloat16 : WireDType::kFloat32;
  Payload prepared;
  if (scenario == Scenario::kRumorF32) {
    std::shared_ptr<Buffer> buffer = pool.acquire(values.size() * 4);
    encode_floats(values, WireDType::kFloat32, buffer->bytes());
    prepared = Payload(std::shared_ptr<const Buffer>(std::move(buffer)));
  }
  for (int i = 0; i < s.messages; ++i) {
    const auto step = static_cast<std::uint64_t>(i);
    Message m = scenario == Scenario::kRumorF32
                    ? factory.make(MessageType::kParams, step, prepared, WireDType::kFloat32)
                    : factory.make_floats(MessageType::kParams, step, values, dtype, pool);
    const SendResult r = tx.send(1, std::move(m), std::chrono::seconds(30));
    if (r != SendResult::kQueued) die(std::string("rumor send: ") + std::string(send_result_name(r)));
  }
  // Keep the transport (and its queued messages) alive until the receiver has everything.
  read_all(result_fd, &result, sizeof result);
}

// Runs one measurement: forks a receiver, sends from here, returns the receiver's result.
Result measure(const Settings& s, Scenario scenario, bool tuned_malloc, const std::vector<float>& values) {
  int to_parent[2];
  if (::pipe(to_parent) != 0) die("pipe failed");
  std::fflush(nullptr);
  const pid_t child = ::fork();
  if (child < 0) die("fork failed");
  if (child == 0) {
    ::close(to_parent[0]);
    if (tuned_malloc) {
      mallopt(M_MMAP_THRESHOLD, 256 << 20);
      mallopt(M_TRIM_THRESHOLD, 512 << 20);
    }
    Result r = scenario == Scenario::kRaw ? receive_raw(s, to_parent[1])
                                          : receive_rumor(s, scenario, to_parent[1]);
    write_all(to_parent[1], &r, sizeof r);
    std::fflush(nullptr);
    ::_exit(r.ok ? 0 : 1);
  }
  ::close(to_parent[1]);
  const std::string endpoint = receive_string(to_parent[0]);
  Result result;
  if (scenario == Scenario::kRaw) {
    send_raw(s, endpoint, values);
    read_all(to_parent[0], &result, sizeof result);
  } else {
    send_rumor(s, scenario, endpoint, values, to_parent[0], result);
  }
  ::close(to_parent[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  if (!result.ok || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    die(std::string(scenario_name(scenario)) + ": receiver failed (delivered " +
        std::to_string(result.delivered) + ", superseded " + std::to_string(result.superseded) +
        ", other drops " + std::to_string(result.dropped) + ")");
  }
  return result;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

Settings parse(int argc, char** argv) {
  Settings s;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const auto value = [&]() -> long {
      if (i + 1 >= argc) die("missing value after " + arg);
      return std::strtol(argv[++i], nullptr, 10);
    };
    if (arg == "--quick") {
      s.quick = true;
      s.floats = 1'000'000;
      s.messages = 6;
      s.repeats = 1;
    } else if (arg == "--floats") {
      s.floats = static_cast<std::size_t>(value());
    } else if (arg == "--messages") {
      s.messages = static_cast<int>(value());
    } else if (arg == "--repeats") {
      s.repeats = static_cast<int>(value());
    } else {
      std::fprintf(stderr, "usage: %s [--quick] [--floats N] [--messages N] [--repeats N]\n", argv[0]);
      std::exit(2);
    }
  }
  if (s.floats == 0 || s.messages < 2 || s.repeats < 1) die("need floats > 0, messages >= 2, repeats >= 1");
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  const Settings s = parse(argc, argv);
  std::vector<float> values(s.floats);
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = 0.001f * static_cast<float>(i % 1000);
  const double mb = static_cast<double>(s.floats) * 4 / 1e6;
  std::printf("PARAMS of %zu floats (%.1f MB float32), %d messages per run, %d repeat(s), tcp loopback, "
              "2 processes\n", s.floats, mb, s.messages, s.repeats);
  std::printf("%-8s %-18s %9s %11s %14s %9s\n", "malloc", "transport", "msgs/s", "wire GB/s",
              "fp32-eq GB/s", "vs raw");
  const Scenario scenarios[] = {Scenario::kRaw, Scenario::kRumorF32, Scenario::kRumorSnapshot,
                                Scenario::kRumorBf16};
  const bool modes[] = {false, true};
  for (bool tuned : modes) {
    if (s.quick && tuned) break;
    std::vector<double> rates[kNumScenarios];
    std::uint64_t superseded[kNumScenarios] = {};
    for (int rep = 0; rep < s.repeats; ++rep) {
      for (int k = 0; k < kNumScenarios; ++k) {
        const Result r = measure(s, scenarios[k], tuned, values);
        // Steady-state rate: intervals between the first and the last of all complete messages.
        const double messages = static_cast<double>(r.delivered + r.superseded - 1);
        rates[k].push_back(r.seconds > 0 ? messages / r.seconds : 0.0);
        superseded[k] += r.superseded;
      }
    }
    const double raw_gbs = median(rates[0]) * mb / 1e3;
    for (int k = 0; k < kNumScenarios; ++k) {
      const double rate = median(rates[k]);
      const double wire_mb = scenarios[k] == Scenario::kRumorBf16 ? mb / 2 : mb;
      const double fp32_gbs = rate * mb / 1e3;
      std::printf("%-8s %-18s %9.1f %11.2f %14.2f %9.2f%s\n", tuned ? "tuned" : "default",
                  scenario_name(scenarios[k]), rate, rate * wire_mb / 1e3, fp32_gbs,
                  raw_gbs > 0 ? fp32_gbs / raw_gbs : 0.0,
                  superseded[k] ? "  (some superseded in the mailbox)" : "");
    }
  }
  std::printf("vs raw = fp32-equivalent GB/s / raw GB/s; medians over repeats.\n");
  return 0;
}
