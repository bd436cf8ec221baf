// ctl_command.cc — `rumor ctl`: flags, the request they make and what is printed.
#include "peer/ctl_command.h"

#include <CLI/CLI.hpp>

#include <charconv>
#include <cstdint>
#include <ostream>

#include "core/error.h"
#include "peer/ctl_summary.h"
#include "peer/fault_request.h"
#include "peer/host_port.h"
#include "peer/peer_client.h"

namespace rumor {

namespace {

using json = nlohmann::json;

constexpr std::int64_t kMaxMilliseconds = 3'600'000;

// "1,2" → [1, 2]; "" or "none" → [].
json parse_partition(const std::string& text) {
  json ranks = json::array();
  if (text.empty() || text == "none") return ranks;
  std::string_view rest = text;
  while (true) {
    const std::size_t comma = rest.find(',');
    const std::string_view item = rest.substr(0, comma);
    std::uint32_t rank = 0;
    const auto [end, error] = std::from_chars(item.data(), item.data() + item.size(), rank);
    if (item.empty() || error != std::errc() || end != item.data() + item.size()) {
      throw ConfigError("--partition '" + text + "': '" + std::string(item) +
                        "' is not a rank (valid: comma-separated ranks such as 1,2, or none)");
    }
    ranks.push_back(rank);
    if (comma == std::string_view::npos) return ranks;
    rest = rest.substr(comma + 1);
  }
}

bool sets_faults(const CtlCommandArgs& args) {
  return args.clear || !args.fault_fields.empty() || args.partition.has_value();
}

// The POST /faults body for the flags given, checked here first so that a bad value is
// reported before anything is sent.
json fault_body(const CtlCommandArgs& args) {
  json body = args.clear ? to_json(RuntimeFaults{}) : json::object();
  body.update(args.fault_fields);
  if (args.partition) body["partition"] = parse_partition(*args.partition);
  (void)apply_fault_request(body, RuntimeFaults{});
  return body;
}

// The reply's body when it is a 200; otherwise throws with the peer's message.
const std::string& expect_ok(const HttpReply& reply, const HostPort& peer) {
  if (reply.status == 200) return reply.body;
  const std::string where = "peer at " + peer.to_string();
  if (reply.status == 400) throw ConfigError(where + " refused the request: " + error_message(reply));
  throw Error(where + " answered HTTP " + std::to_string(reply.status) + ": " +
              error_message(reply));
}

json parse_reply(const std::string& body, const HostPort& peer) {
  json parsed = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    throw Error("peer at " + peer.to_string() + " answered with invalid JSON: " +
                body.substr(0, 200));
  }
  return parsed;
}

}  // namespace

CLI::App* add_ctl_command(CLI::App& app, CtlCommandArgs& args) {
  CLI::App* cmd = app.add_subcommand("ctl", "Query or steer a running peer over its --http "
                                            "endpoint");
  cmd->option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  cmd->add_option("address", args.address, "HOST:PORT of the peer's --http endpoint")
      ->required();
  cmd->add_option("action", args.action,
                  "status (summary), metrics (Prometheus text) or faults (show or change)")
      ->required()
      ->check(CLI::IsMember({"status", "metrics", "faults"}));
  cmd->add_flag("--json", args.json, "status: print the status JSON instead of a summary");
  cmd->add_option("--timeout-ms", args.timeout_ms, "Wait this long to connect and to read")
      ->check(CLI::Range(1, 600'000))
      ->capture_default_str();

  const auto probability = [&](const char* flag, const char* key, const char* help) {
    cmd->add_option_function<double>(
           flag, [&args, key](const double& p) { args.fault_fields[key] = p; }, help)
        ->check(CLI::Range(0.0, 1.0));
  };
  probability("--drop", "drop", "faults: probability a sent message is lost");
  probability("--duplicate", "duplicate", "faults: probability a message is sent twice");
  probability("--reorder", "reorder", "faults: probability a message is held back");
  probability("--corrupt", "corrupt", "faults: probability one payload bit is flipped");
  const auto milliseconds = [&](const char* flag, const char* key, const char* help) {
    cmd->add_option_function<std::int64_t>(
           flag, [&args, key](const std::int64_t& ms) { args.fault_fields[key] = ms; }, help)
        ->check(CLI::Range(std::int64_t{0}, kMaxMilliseconds));
  };
  milliseconds("--delay-ms", "delay_ms", "faults: delay added to every message (ms)");
  milliseconds("--jitter-ms", "jitter_ms", "faults: plus a uniform delay in [0, N] ms");
  cmd->add_option_function<std::string>(
      "--partition", [&args](const std::string& ranks) { args.partition = ranks; },
      "faults: ranks cut off in both directions, e.g. 1,2 (none: heal)");
  cmd->add_option_function<double>(
         "--slowdown", [&args](const double& f) { args.fault_fields["slowdown"] = f; },
         "faults: slow the peer's compute by this factor (1 = normal speed)")
      ->check(CLI::Range(1.0, 1e6));
  cmd->add_option_function<std::string>(
      "--byzantine", [&args](const std::string& mode) { args.fault_fields["byzantine"] = mode; },
      "faults: send wrong parameters with valid checksums: nan, garbage, scale:F, or none");
  cmd->add_option_function<int>(
         "--fail-replica",
         [&args](const int& replica) { args.fault_fields["fail_replica"] = replica; },
         "faults: make this local replica of a hierarchical node fail at its next step, as a "
         "lost GPU would (the node saves its checkpoint and exits 1)")
      ->check(CLI::Range(0, 1024));
  cmd->add_flag("--clear", args.clear,
                "faults: reset every fault to none and slowdown to 1 (then apply the flags "
                "given)");
  return cmd;
}

int run_ctl_command(const CtlCommandArgs& args, std::ostream& out) {
  const HostPort peer = parse_host_port(args.address, "ADDR");
  if (sets_faults(args) && args.action != "faults") {
    throw ConfigError("--drop, --duplicate, --reorder, --corrupt, --delay-ms, --jitter-ms, "
                      "--partition, --slowdown, --fail-replica and --clear apply only to "
                      "'rumor ctl ADDR faults'");
  }
  if (args.json && args.action != "status") {
    throw ConfigError("--json applies only to 'rumor ctl ADDR status' (faults always prints "
                      "JSON, metrics Prometheus text)");
  }
  const json body = sets_faults(args) ? fault_body(args) : json();
  PeerClient client(peer, std::chrono::milliseconds(args.timeout_ms));

  if (args.action == "status") {
    const json status = parse_reply(expect_ok(client.get("/status"), peer), peer);
    out << (args.json ? status.dump(2) + "\n" : status_summary(status));
  } else if (args.action == "metrics") {
    out << expect_ok(client.get("/metrics"), peer);
  } else if (args.action == "faults") {
    const HttpReply reply = sets_faults(args) ? client.post_json("/faults", body.dump())
                                              : client.get("/faults");
    out << parse_reply(expect_ok(reply, peer), peer).dump(2) << "\n";
  } else {
    throw ConfigError("ctl: unknown action '" + args.action + "' (valid: status, metrics, "
                      "faults)");
  }
  return 0;
}

}  // namespace rumor
