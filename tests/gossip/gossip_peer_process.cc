// gossip_peer_process.cc — one gossip peer as its own process, for the multi-process test
// (tests/gossip/process_test.cc). Protocol on stdin/stdout, one line each:
//   it prints   "endpoint tcp://127.0.0.1:PORT"  once bound (the OS chose the port);
//   it reads    "peers E0 E1 ... E(N-1)"         every peer's endpoint, in rank order;
//   it prints   "converged"                      when its parameters have stayed within 1e-5
//                                                of (N−1)/2 (it started at its rank) across
//                                                20 applied contributions, and keeps gossiping;
//   it reads    "stop"                           then prints "final VALUE" and exits 0.
// Usage: gossip_peer_process RANK N RULE TOPOLOGY
#include <poll.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "kernels/cpu/cpu_backend.h"
#include "net/zmq_transport.h"
#include "rumor/engine.h"

namespace {

constexpr std::size_t kParams = 33;

bool stdin_has_line() {
  pollfd fd{0, POLLIN, 0};
  return ::poll(&fd, 1, 0) > 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s RANK N RULE TOPOLOGY\n", argv[0]);
    return 2;
  }
  const int rank = std::stoi(argv[1]);
  const int n = std::stoi(argv[2]);
  rumor::GossipConfig config;
  config.max_norm_ratio = 0;  // peers start at r = 0..N−1: far apart by design
  config.rule = argv[3];
  config.topology = argv[4];
  config.model = "process-test";
  config.heartbeat_interval = std::chrono::milliseconds(50);

  rumor::ZmqTransportOptions options;
  options.rank = static_cast<std::uint32_t>(rank);
  options.num_peers = static_cast<std::uint32_t>(n);
  options.bind_endpoint = "tcp://127.0.0.1:*";
  options.expect.run_id = config.run_id;
  options.expect.fingerprint = rumor::model_fingerprint(config.model, kParams);
  options.expect.max_elements = kParams;
  options.expect.param_elements = kParams;
  options.latest_wins_params = config.rule != "push-sum";
  auto transport = std::make_unique<rumor::ZmqTransport>(std::move(options));
  std::cout << "endpoint " << transport->endpoint() << std::endl;

  std::string line;
  if (!std::getline(std::cin, line)) return 1;
  std::istringstream words(line);
  std::string word;
  words >> word;
  std::vector<std::string> endpoints;
  while (words >> word) endpoints.push_back(word);
  if (static_cast<int>(endpoints.size()) != n) {
    std::fprintf(stderr, "expected %d endpoints, got %zu\n", n, endpoints.size());
    return 1;
  }

  rumor::CpuBackend backend(1);
  std::vector<float> params(kParams, static_cast<float>(rank));
  rumor::GossipEngine engine(config, std::move(transport), endpoints, rank, backend,
                             params.data(), kParams);
  const double exact = (n - 1) / 2.0;
  // Converged: within 1e-5 of the mean across kSettled applied contributions in a row. A
  // single look is not enough: an oscillating peer passes through the band while its
  // neighbours are still far away, and any exchange with such a neighbour knocks it out.
  constexpr int kSettled = 20;
  int applied_in_band = 0;
  bool converged = false;
  for (std::int64_t step = 0;; ++step) {
    const int applied = engine.mix();
    engine.publish(step);
    if (!converged) {
      double error = 0.0;
      for (float v : params) error = std::max(error, std::abs(v - exact));
      applied_in_band = error < 1e-5 ? applied_in_band + applied : 0;
      if (applied_in_band >= kSettled) {
        converged = true;
        std::cout << "converged" << std::endl;
      }
    }
    if (stdin_has_line()) {
      if (!std::getline(std::cin, line) || line == "stop") break;
    }
    std::this_thread::yield();  // no training here: let the I/O threads run

  }
  std::cout << "final " << params[0] << std::endl;
  return 0;
}
