// ctl_summary.cc — the human summary of a peer's status JSON.
#include "peer/ctl_summary.h"

#include <cstdio>
#include <initializer_list>
#include <string_view>

namespace rumor {

namespace {

using json = nlohmann::json;

// The value at `key` as text: integers as they are, other numbers with `decimals` digits,
// "-" when absent or null.
std::string field(const json& object, std::string_view key, int decimals = 4) {
  if (!object.is_object()) return "-";
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return "-";
  if (it->is_number_integer() || it->is_boolean() || it->is_string()) {
    return it->is_string() ? it->get<std::string>() : it->dump();
  }
  if (!it->is_number()) return it->dump();
  char text[64];
  std::snprintf(text, sizeof(text), "%.*f", decimals, it->get<double>());
  return text;
}

std::string bytes(const json& object, std::string_view key) {
  if (!object.is_object() || !object.contains(key) || !object[key].is_number()) return "-";
  const double n = object[key].get<double>();
  char text[32];
  if (n >= 1e9) std::snprintf(text, sizeof(text), "%.1f GB", n / 1e9);
  else if (n >= 1e6) std::snprintf(text, sizeof(text), "%.1f MB", n / 1e6);
  else if (n >= 1e3) std::snprintf(text, sizeof(text), "%.1f kB", n / 1e3);
  else std::snprintf(text, sizeof(text), "%.0f B", n);
  return text;
}

std::string duration(const json& object, std::string_view key) {
  if (!object.is_object() || !object.contains(key) || !object[key].is_number()) return "-";
  const long total = static_cast<long>(object[key].get<double>());
  char text[32];
  std::snprintf(text, sizeof(text), "%ldh%02ldm%02lds", total / 3600, total / 60 % 60,
                total % 60);
  return text;
}

// "label value, label value, ..." for the given keys of `object`.
std::string counters(const json& object,
                     std::initializer_list<std::pair<const char*, const char*>> keys) {
  std::string line;
  for (const auto& [label, key] : keys) {
    if (!line.empty()) line += ", ";
    line += std::string(label) + " " + field(object, key);
  }
  return line;
}

}  // namespace

std::string status_summary(const json& s) {
  if (!s.is_object()) return "unexpected status (not a JSON object): " + s.dump() + "\n";
  std::string text = "peer " + field(s, "rank") + " of " + field(s, "world") + ": step " +
                     field(s, "step") + " of " + field(s, "total_steps") + ", epoch " +
                     field(s, "epoch") + " of " + field(s, "epochs") + ", up " +
                     duration(s, "uptime_seconds") + "\n";
  text += "train loss " + field(s, "train_loss") + ", test loss " + field(s, "test_loss") +
          ", test accuracy " + field(s, "test_accuracy") + ", " +
          field(s, "samples_per_second", 1) + " samples/s, slowdown " +
          field(s, "slowdown", 2) + "\n";

  const json gossip = s.value("gossip", json::object());
  text += "gossip: " +
          counters(gossip, {{"sent", "sent"}, {"received", "received"}, {"applied", "applied"},
                            {"dropped stale", "dropped_stale"},
                            {"lost in transport", "lost_in_transport"},
                            {"send failures", "send_failures"}, {"waits", "waits"}}) +
          ", weight " + field(gossip, "weight") +
          (gossip.value("waiting", false) ? " (waiting)" : "") + "\n";

  const json neighbours = s.value("neighbours", json::array());
  if (neighbours.is_array() && !neighbours.empty()) {
    char line[160];
    std::snprintf(line, sizeof(line), "  %-5s %-8s %8s %9s %6s %10s %10s %8s\n", "peer",
                  "state", "step", "staleness", "drift", "in", "out", "dropped");
    text += line;
    for (const json& n : neighbours) {
      std::snprintf(line, sizeof(line), "  %-5s %-8s %8s %9s %6s %10s %10s %8s\n",
                    field(n, "rank").c_str(), field(n, "state").c_str(),
                    field(n, "step").c_str(), field(n, "staleness").c_str(),
                    field(n, "drift").c_str(), bytes(n, "bytes_in").c_str(),
                    bytes(n, "bytes_out").c_str(), field(n, "dropped").c_str());
      text += line;
    }
  }

  const json faults = s.value("faults", json());
  if (faults.is_object()) {
    text += "faults injected: " +
            counters(faults, {{"dropped", "dropped"}, {"duplicated", "duplicated"},
                              {"reordered", "reordered"}, {"corrupted", "corrupted"},
                              {"delayed", "delayed"}, {"partitioned out", "partitioned_out"},
                              {"partitioned in", "partitioned_in"}}) +
            "\n";
  }
  return text;
}

}  // namespace rumor
