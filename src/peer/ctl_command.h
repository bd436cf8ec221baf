// ctl_command.h — `rumor ctl ADDR status|metrics|faults [...]`: talk to a running peer's HTTP
// endpoint (rumor peer --http ADDR).
//
//   rumor ctl 127.0.0.1:9100 status              a short summary (--json: the JSON)
//   rumor ctl 127.0.0.1:9100 metrics             the Prometheus text
//   rumor ctl 127.0.0.1:9100 faults              the faults in force
//   rumor ctl 127.0.0.1:9100 faults --drop 0.1   change only the faults given (--clear: all off
//                                                first); needs the peer's --enable-faults
#pragma once

#include <nlohmann/json.hpp>

#include <iosfwd>
#include <optional>
#include <string>

namespace CLI {
class App;
}

namespace rumor {

struct CtlCommandArgs {
  std::string address;      // HOST:PORT of the peer's --http endpoint
  std::string action;       // status, metrics or faults
  bool json = false;        // status: print the JSON instead of the summary
  int timeout_ms = 3000;    // to connect, and again to read the answer
  bool clear = false;       // faults: start from no faults and slowdown 1
  nlohmann::json fault_fields = nlohmann::json::object();  // faults: flags given, by body key
  std::optional<std::string> partition;                    // faults: "1,2", "" or "none"
};

CLI::App* add_ctl_command(CLI::App& app, CtlCommandArgs& args);

// Sends the request and prints the answer to `out`. Returns 0. Throws ConfigError (exit 2)
// for a malformed ADDR, fault flags without `faults`, or faults the peer refused (HTTP 400);
// Error (exit 1) when the peer cannot be reached or answers another error (e.g. 403 when it
// runs without --enable-faults), with the peer's message.
int run_ctl_command(const CtlCommandArgs& args, std::ostream& out);

}  // namespace rumor
