// status_format.cc — PeerStatus → JSON and Prometheus text exposition format 0.0.4.
#include "peer/status_format.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <string_view>
#include <utility>

namespace rumor {

namespace {

using json = nlohmann::json;

constexpr std::string_view kNeighbourStates[] = {"alive", "suspect", "dead"};

// The engine counters both formats list: JSON key, Prometheus name (without rumor_gossip_
// and _total), help text.
struct GossipCounter {
  const char* key;
  const char* metric;
  const char* help;
  std::uint64_t GossipStats::*member;
};
constexpr GossipCounter kGossipCounters[] = {
    {"rounds", "rounds", "Publishes that sent something.", &GossipStats::rounds},
    {"sent", "sent", "Parameter messages handed to the transport.", &GossipStats::sent},
    {"send_failures", "send_failures", "Parameter messages the transport refused.",
     &GossipStats::send_failures},
    {"received", "received", "Parameter messages taken in by the mixing rule.",
     &GossipStats::received},
    {"applied", "applied", "Contributions applied to the parameters.", &GossipStats::applied},
    {"dropped_stale", "dropped_stale", "Contributions dropped for exceeding max staleness.",
     &GossipStats::dropped_stale},
    {"lost_in_transport", "lost_in_transport",
     "Messages lost between transports after being queued (superseded, expired, replayed).",
     &GossipStats::lost_in_transport},
    {"rejected_outliers", "rejected_outliers",
     "Parameter messages rejected as implausible (norm far from this peer's).",
     &GossipStats::rejected_outliers},
    {"waits", "waits", "mix() calls that waited on a staleness gate.", &GossipStats::waits},
    {"states_served", "states_served", "Full states sent to peers catching up.",
     &GossipStats::states_served},
};

struct NeighbourCounter {
  const char* key;
  const char* metric;
  const char* help;
  std::uint64_t GossipPeerStats::*member;
};
constexpr NeighbourCounter kNeighbourCounters[] = {
    {"bytes_in", "received_bytes", "Bytes received from the neighbour.",
     &GossipPeerStats::bytes_in},
    {"bytes_out", "sent_bytes", "Bytes sent to the neighbour.", &GossipPeerStats::bytes_out},
    {"messages_in", "received_messages", "Messages received from the neighbour.",
     &GossipPeerStats::messages_in},
    {"messages_out", "sent_messages", "Messages sent to the neighbour.",
     &GossipPeerStats::messages_out},
    {"dropped", "dropped", "Messages to or from the neighbour dropped by transport or policy.",
     &GossipPeerStats::dropped},
    {"rejected", "rejected", "Of the dropped messages from the neighbour, those that were bad "
     "(malformed, corrupted, non-finite, foreign).", &GossipPeerStats::rejected},
    {"suspected", "suspected", "Times the failure detector found the neighbour silent too long.",
     &GossipPeerStats::suspected},
    {"declared_dead", "declared_dead", "Times the failure detector declared the neighbour dead "
     "(a goodbye is not counted).", &GossipPeerStats::declared_dead},
};

struct FaultCounter {
  const char* key;
  std::uint64_t FaultStats::*member;
};
constexpr FaultCounter kFaultCounters[] = {
    {"dropped", &FaultStats::dropped},
    {"duplicated", &FaultStats::duplicated},
    {"reordered", &FaultStats::reordered},
    {"corrupted", &FaultStats::corrupted},
    {"byzantine", &FaultStats::byzantine},
    {"delayed", &FaultStats::delayed},
    {"partitioned_out", &FaultStats::partitioned_out},
    {"partitioned_in", &FaultStats::partitioned_in},
};

json optional_json(const std::optional<double>& value) {
  return value ? json(*value) : json(nullptr);
}

// Writes families and samples of the text format. Every sample gets the rank label.
class PromWriter {
 public:
  using Labels = std::initializer_list<std::pair<std::string_view, std::string_view>>;

  explicit PromWriter(int rank) : rank_(std::to_string(rank)) {}

  // Starts a family: its samples must follow before the next family starts.
  void family(std::string_view name, std::string_view type, std::string_view help) {
    name_ = name;
    text_.append("# HELP ").append(name).append(" ").append(help).append("\n");
    text_.append("# TYPE ").append(name).append(" ").append(type).append("\n");
  }
  void sample(double value, Labels labels = {}) { line(labels, format_double(value)); }
  void sample(std::int64_t value, Labels labels = {}) { line(labels, std::to_string(value)); }
  void sample(std::uint64_t value, Labels labels = {}) { line(labels, std::to_string(value)); }
  void sample(int value, Labels labels = {}) { sample(static_cast<std::int64_t>(value), labels); }

  std::string take() { return std::move(text_); }

 private:
  static std::string format_double(double value) {
    if (std::isnan(value)) return "NaN";
    if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
    char buffer[64];
    const auto end = std::to_chars(buffer, buffer + sizeof(buffer), value).ptr;
    return std::string(buffer, end);
  }
  static void append_escaped(std::string& out, std::string_view value) {
    for (const char c : value) {
      if (c == '\\') out += "\\\\";
      else if (c == '"') out += "\\\"";
      else if (c == '\n') out += "\\n";
      else out += c;
    }
  }
  void line(Labels labels, const std::string& value) {
    text_.append(name_).append("{rank=\"").append(rank_).append("\"");
    for (const auto& [key, label_value] : labels) {
      text_.append(",").append(key).append("=\"");
      append_escaped(text_, label_value);
      text_.append("\"");
    }
    text_.append("} ").append(value).append("\n");
  }

  std::string rank_;
  std::string name_;
  std::string text_;
};

void write_peer_metrics(PromWriter& w, const PeerStatus& s) {
  w.family("rumor_world_size", "gauge", "Number of peers in the run.");
  w.sample(s.world);
  w.family("rumor_step", "gauge", "Optimizer steps taken by this peer.");
  w.sample(s.step);
  w.family("rumor_total_steps", "gauge", "Steps the run will take (0 = unknown).");
  w.sample(s.total_steps);
  w.family("rumor_epoch", "gauge", "Current epoch, from 1 (0 = not started).");
  w.sample(s.epoch);
  w.family("rumor_epochs", "gauge", "Epochs the run will take.");
  w.sample(s.epochs);
  w.family("rumor_train_loss", "gauge", "Mean training loss over the latest steps.");
  w.sample(s.train_loss);
  if (s.test_loss) {
    w.family("rumor_test_loss", "gauge", "Test loss at the latest evaluation.");
    w.sample(*s.test_loss);
  }
  if (s.test_accuracy) {
    w.family("rumor_test_accuracy", "gauge", "Test accuracy (0 to 1) at the latest evaluation.");
    w.sample(*s.test_accuracy);
  }
  w.family("rumor_samples_per_second", "gauge", "Training throughput, recent average.");
  w.sample(s.samples_per_second);
  w.family("rumor_uptime_seconds", "gauge", "Seconds since the peer started.");
  w.sample(s.uptime_seconds);
  w.family("rumor_slowdown_factor", "gauge", "Injected compute slowdown (1 = none).");
  w.sample(s.slowdown);
  w.family("rumor_local_replicas", "gauge", "Replicas training as this peer (1 = one).");
  w.sample(s.local_replicas);
}

void write_gossip_metrics(PromWriter& w, const GossipStats& g) {
  for (const GossipCounter& c : kGossipCounters) {
    w.family(std::string("rumor_gossip_") + c.metric + "_total", "counter", c.help);
    w.sample(g.*c.member);
  }
  w.family("rumor_gossip_waiting", "gauge", "1 while mix() waits on a staleness gate.");
  w.sample(g.waiting ? 1 : 0);
  w.family("rumor_gossip_publishing", "gauge",
           "Published messages still being encoded and checksummed by the sender thread.");
  w.sample(g.publishing);
  w.family("rumor_gossip_push_sum_weight", "gauge", "Push-sum weight of this peer.");
  w.sample(g.weight);
}

void write_neighbour_metrics(PromWriter& w, const std::vector<GossipPeerStats>& peers) {
  if (peers.empty()) return;
  const auto peer_label = [](const GossipPeerStats& p) { return std::to_string(p.rank); };
  w.family("rumor_neighbour_state", "gauge",
           "Failure detector state of the neighbour: 1 for the current state, 0 otherwise.");
  for (const GossipPeerStats& p : peers) {
    const std::string peer = peer_label(p);
    bool known = false;
    for (const std::string_view state : kNeighbourStates) {
      known = known || state == p.state;
      w.sample(state == p.state ? 1 : 0, {{"peer", peer}, {"state", state}});
    }
    if (!known) w.sample(1, {{"peer", peer}, {"state", p.state}});
  }
  w.family("rumor_neighbour_step", "gauge", "Latest step heard from the neighbour (-1: never).");
  for (const GossipPeerStats& p : peers) w.sample(p.step, {{"peer", peer_label(p)}});
  w.family("rumor_neighbour_staleness", "gauge",
           "Staleness in steps of the neighbour's last parameter message.");
  for (const GossipPeerStats& p : peers) w.sample(p.staleness, {{"peer", peer_label(p)}});
  w.family("rumor_neighbour_drift", "gauge", "This peer's step minus the neighbour's step.");
  for (const GossipPeerStats& p : peers) w.sample(p.drift, {{"peer", peer_label(p)}});
  for (const NeighbourCounter& c : kNeighbourCounters) {
    w.family(std::string("rumor_neighbour_") + c.metric + "_total", "counter", c.help);
    for (const GossipPeerStats& p : peers) w.sample(p.*c.member, {{"peer", peer_label(p)}});
  }
}

void write_fault_metrics(PromWriter& w, const FaultStats& f) {
  w.family("rumor_faults_injected_total", "counter", "Faults injected into outgoing and "
           "incoming messages, by kind.");
  for (const FaultCounter& c : kFaultCounters) w.sample(f.*c.member, {{"kind", c.key}});
  w.family("rumor_faults_send_failures_total", "counter",
           "Delayed messages the inner transport refused.");
  w.sample(f.send_failed);
}

}  // namespace

nlohmann::json status_json(const PeerStatus& s) {
  json gossip = {{"step", s.gossip.step}, {"waiting", s.gossip.waiting},
                 {"weight", s.gossip.weight}, {"publishing", s.gossip.publishing}};
  for (const GossipCounter& c : kGossipCounters) gossip[c.key] = s.gossip.*c.member;

  json neighbours = json::array();
  for (const GossipPeerStats& p : s.gossip.peers) {
    json n = {{"rank", p.rank},        {"state", p.state}, {"alive", p.state == "alive"},
              {"step", p.step},        {"staleness", p.staleness}, {"drift", p.drift}};
    for (const NeighbourCounter& c : kNeighbourCounters) n[c.key] = p.*c.member;
    neighbours.push_back(std::move(n));
  }

  json faults = nullptr;
  if (s.faults) {
    faults = {{"send_failed", s.faults->send_failed}};
    for (const FaultCounter& c : kFaultCounters) faults[c.key] = (*s.faults).*c.member;
  }

  return {{"rank", s.rank},
          {"world", s.world},
          {"step", s.step},
          {"total_steps", s.total_steps},
          {"epoch", s.epoch},
          {"epochs", s.epochs},
          {"train_loss", s.train_loss},
          {"test_loss", optional_json(s.test_loss)},
          {"test_accuracy", optional_json(s.test_accuracy)},
          {"samples_per_second", s.samples_per_second},
          {"uptime_seconds", s.uptime_seconds},
          {"slowdown", s.slowdown},
          {"local_replicas", s.local_replicas},
          {"gossip", std::move(gossip)},
          {"neighbours", std::move(neighbours)},
          {"faults", std::move(faults)}};
}

std::string prometheus_text(const PeerStatus& status) {
  PromWriter writer(status.rank);
  write_peer_metrics(writer, status);
  write_gossip_metrics(writer, status.gossip);
  write_neighbour_metrics(writer, status.gossip.peers);
  if (status.faults) write_fault_metrics(writer, *status.faults);
  return writer.take();
}

}  // namespace rumor
