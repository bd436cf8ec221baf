#include "peer/status_format.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "prometheus_parser.h"
#include "sample_status.h"

namespace rumor {
namespace {

using testing::parse_prometheus;
using testing::PromText;
using testing::sample_status;
using Labels = std::map<std::string, std::string>;

PromText parsed(const PeerStatus& status) {
  PromText text = parse_prometheus(prometheus_text(status));
  for (const std::string& error : text.errors) ADD_FAILURE() << error;
  return text;
}

TEST(StatusJson, CarriesProgressAndLosses) {
  const nlohmann::json j = status_json(sample_status(true, false));
  EXPECT_EQ(j["rank"], 2);
  EXPECT_EQ(j["world"], 4);
  EXPECT_EQ(j["step"], 1234);
  EXPECT_EQ(j["total_steps"], 5000);
  EXPECT_EQ(j["epoch"], 3);
  EXPECT_EQ(j["epochs"], 10);
  EXPECT_EQ(j["train_loss"], 0.375);
  EXPECT_EQ(j["test_loss"], 0.25);
  EXPECT_EQ(j["test_accuracy"], 0.9125);
  EXPECT_EQ(j["samples_per_second"], 2048.5);
  EXPECT_EQ(j["uptime_seconds"], 3723.25);
  EXPECT_EQ(j["slowdown"], 1.5);
  EXPECT_EQ(j["local_replicas"], 4);
}

TEST(StatusJson, AbsentEvaluationAndFaultsAreNull) {
  const nlohmann::json j = status_json(sample_status(false, false));
  ASSERT_TRUE(j.contains("test_loss"));
  EXPECT_TRUE(j["test_loss"].is_null());
  EXPECT_TRUE(j["test_accuracy"].is_null());
  EXPECT_TRUE(j["faults"].is_null());
}

TEST(StatusJson, CarriesEngineCounters) {
  const nlohmann::json g = status_json(sample_status(true, false))["gossip"];
  EXPECT_EQ(g["step"], 1233);
  EXPECT_EQ(g["rounds"], 11);
  EXPECT_EQ(g["publishing"], 2);
  EXPECT_EQ(g["sent"], 12);
  EXPECT_EQ(g["send_failures"], 13);
  EXPECT_EQ(g["received"], 14);
  EXPECT_EQ(g["applied"], 15);
  EXPECT_EQ(g["dropped_stale"], 16);
  EXPECT_EQ(g["lost_in_transport"], 17);
  EXPECT_EQ(g["waits"], 18);
  EXPECT_EQ(g["waiting"], true);
  EXPECT_EQ(g["states_served"], 19);
  EXPECT_EQ(g["weight"], 0.8125);
}

TEST(StatusJson, ListsNeighboursWithLiveness) {
  const nlohmann::json n = status_json(sample_status(true, false))["neighbours"];
  ASSERT_EQ(n.size(), 2u);
  EXPECT_EQ(n[0]["rank"], 1);
  EXPECT_EQ(n[0]["state"], "alive");
  EXPECT_EQ(n[0]["alive"], true);
  EXPECT_EQ(n[1]["rank"], 3);
  EXPECT_EQ(n[1]["state"], "suspect");
  EXPECT_EQ(n[1]["alive"], false);
  EXPECT_EQ(n[1]["step"], 301);
  EXPECT_EQ(n[1]["staleness"], 302);
  EXPECT_EQ(n[1]["drift"], -303);
  EXPECT_EQ(n[1]["bytes_in"], 304);
  EXPECT_EQ(n[1]["bytes_out"], 305);
  EXPECT_EQ(n[1]["messages_in"], 306);
  EXPECT_EQ(n[1]["messages_out"], 307);
  EXPECT_EQ(n[1]["dropped"], 308);
  EXPECT_EQ(n[1]["suspected"], 309);
  EXPECT_EQ(n[1]["declared_dead"], 310);
  EXPECT_EQ(n[1]["rejected"], 311);
}

TEST(StatusJson, CarriesFaultCountersWhenEnabled) {
  const nlohmann::json f = status_json(sample_status(true, true))["faults"];
  EXPECT_EQ(f["dropped"], 21);
  EXPECT_EQ(f["duplicated"], 22);
  EXPECT_EQ(f["reordered"], 23);
  EXPECT_EQ(f["corrupted"], 24);
  EXPECT_EQ(f["delayed"], 25);
  EXPECT_EQ(f["partitioned_out"], 26);
  EXPECT_EQ(f["partitioned_in"], 27);
  EXPECT_EQ(f["send_failed"], 28);
}

TEST(PrometheusText, ParsesStrictlyWithHelpTypeAndRankOnEverySample) {
  const PromText text = parsed(sample_status(true, true));
  ASSERT_FALSE(text.samples.empty());
  for (const auto& sample : text.samples) {
    EXPECT_TRUE(sample.name.starts_with("rumor_")) << sample.name;
    EXPECT_EQ(sample.labels.count("rank"), 1u) << sample.name;
    EXPECT_EQ(sample.labels.at("rank"), "2") << sample.name;
  }
  for (const auto& [name, type] : text.type) EXPECT_EQ(text.help.count(name), 1u) << name;
}

TEST(PrometheusText, PeerValuesMatchTheStruct) {
  const PromText text = parsed(sample_status(true, false));
  const Labels r = {{"rank", "2"}};
  EXPECT_EQ(text.value("rumor_world_size", r), 4);
  EXPECT_EQ(text.value("rumor_step", r), 1234);
  EXPECT_EQ(text.value("rumor_total_steps", r), 5000);
  EXPECT_EQ(text.value("rumor_epoch", r), 3);
  EXPECT_EQ(text.value("rumor_epochs", r), 10);
  EXPECT_EQ(text.value("rumor_train_loss", r), 0.375);
  EXPECT_EQ(text.value("rumor_test_loss", r), 0.25);
  EXPECT_EQ(text.value("rumor_test_accuracy", r), 0.9125);
  EXPECT_EQ(text.value("rumor_samples_per_second", r), 2048.5);
  EXPECT_EQ(text.value("rumor_uptime_seconds", r), 3723.25);
  EXPECT_EQ(text.value("rumor_slowdown_factor", r), 1.5);
  EXPECT_EQ(text.value("rumor_local_replicas", r), 4);
  EXPECT_EQ(text.type.at("rumor_step"), "gauge");
}

TEST(PrometheusText, EngineCountersAreCounters) {
  const PromText text = parsed(sample_status(true, false));
  const Labels r = {{"rank", "2"}};
  EXPECT_EQ(text.value("rumor_gossip_rounds_total", r), 11);
  EXPECT_EQ(text.value("rumor_gossip_publishing", r), 2);
  EXPECT_EQ(text.value("rumor_gossip_sent_total", r), 12);
  EXPECT_EQ(text.value("rumor_gossip_send_failures_total", r), 13);
  EXPECT_EQ(text.value("rumor_gossip_received_total", r), 14);
  EXPECT_EQ(text.value("rumor_gossip_applied_total", r), 15);
  EXPECT_EQ(text.value("rumor_gossip_dropped_stale_total", r), 16);
  EXPECT_EQ(text.value("rumor_gossip_lost_in_transport_total", r), 17);
  EXPECT_EQ(text.value("rumor_gossip_waits_total", r), 18);
  EXPECT_EQ(text.value("rumor_gossip_waiting", r), 1);
  EXPECT_EQ(text.value("rumor_gossip_states_served_total", r), 19);
  EXPECT_EQ(text.value("rumor_gossip_push_sum_weight", r), 0.8125);
  EXPECT_EQ(text.type.at("rumor_gossip_sent_total"), "counter");
  EXPECT_EQ(text.type.at("rumor_gossip_push_sum_weight"), "gauge");
}

TEST(PrometheusText, NeighbourMetricsCarryThePeerLabel) {
  const PromText text = parsed(sample_status(true, false));
  const Labels one = {{"rank", "2"}, {"peer", "1"}};
  const Labels three = {{"rank", "2"}, {"peer", "3"}};
  EXPECT_EQ(text.value("rumor_neighbour_step", one), 101);
  EXPECT_EQ(text.value("rumor_neighbour_staleness", three), 302);
  EXPECT_EQ(text.value("rumor_neighbour_drift", three), -303);
  EXPECT_EQ(text.value("rumor_neighbour_received_bytes_total", three), 304);
  EXPECT_EQ(text.value("rumor_neighbour_sent_bytes_total", three), 305);
  EXPECT_EQ(text.value("rumor_neighbour_received_messages_total", one), 106);
  EXPECT_EQ(text.value("rumor_neighbour_sent_messages_total", one), 107);
  EXPECT_EQ(text.value("rumor_neighbour_dropped_total", one), 108);
  EXPECT_EQ(text.value("rumor_neighbour_suspected_total", one), 109);
  EXPECT_EQ(text.value("rumor_neighbour_declared_dead_total", three), 310);
  EXPECT_EQ(text.value("rumor_neighbour_rejected_total", one), 111);
  const auto state = [&](const char* peer, const char* s) {
    return text.value("rumor_neighbour_state", {{"rank", "2"}, {"peer", peer}, {"state", s}});
  };
  EXPECT_EQ(state("1", "alive"), 1);
  EXPECT_EQ(state("1", "suspect"), 0);
  EXPECT_EQ(state("1", "dead"), 0);
  EXPECT_EQ(state("3", "alive"), 0);
  EXPECT_EQ(state("3", "suspect"), 1);
}

TEST(PrometheusText, AbsentValuesProduceNoSamples) {
  PeerStatus status = sample_status(false, false);
  status.gossip.peers.clear();
  const PromText text = parsed(status);
  EXPECT_FALSE(text.has_family("rumor_test_loss"));
  EXPECT_FALSE(text.has_family("rumor_test_accuracy"));
  EXPECT_FALSE(text.has_family("rumor_neighbour_step"));
  EXPECT_FALSE(text.has_family("rumor_faults_injected_total"));
  EXPECT_TRUE(text.has_family("rumor_step"));
}

TEST(PrometheusText, FaultCountersByKind) {
  const PromText text = parsed(sample_status(true, true));
  const auto kind = [&](const char* k) {
    return text.value("rumor_faults_injected_total", {{"rank", "2"}, {"kind", k}});
  };
  EXPECT_EQ(kind("dropped"), 21);
  EXPECT_EQ(kind("duplicated"), 22);
  EXPECT_EQ(kind("reordered"), 23);
  EXPECT_EQ(kind("corrupted"), 24);
  EXPECT_EQ(kind("delayed"), 25);
  EXPECT_EQ(kind("partitioned_out"), 26);
  EXPECT_EQ(kind("partitioned_in"), 27);
  EXPECT_EQ(text.value("rumor_faults_send_failures_total", {{"rank", "2"}}), 28);
}

TEST(PrometheusText, SpecialAndLargeValuesAreExact) {
  PeerStatus status = sample_status(true, false);
  status.train_loss = std::numeric_limits<double>::quiet_NaN();
  status.test_loss = std::numeric_limits<double>::infinity();
  status.test_accuracy = 0.1;
  status.gossip.sent = (std::uint64_t{1} << 53) + 1;  // not representable as a double
  const std::string raw = prometheus_text(status);
  EXPECT_NE(raw.find("rumor_train_loss{rank=\"2\"} NaN\n"), std::string::npos) << raw;
  EXPECT_NE(raw.find("rumor_test_loss{rank=\"2\"} +Inf\n"), std::string::npos) << raw;
  EXPECT_NE(raw.find("rumor_test_accuracy{rank=\"2\"} 0.1\n"), std::string::npos) << raw;
  EXPECT_NE(raw.find("rumor_gossip_sent_total{rank=\"2\"} 9007199254740993\n"),
            std::string::npos);
  parsed(status);
}

TEST(PrometheusText, UnknownStateStringIsEscapedAndReported) {
  PeerStatus status = sample_status(true, false);
  status.gossip.peers[0].state = "we\"ird";
  const PromText text = parsed(status);
  EXPECT_EQ(text.value("rumor_neighbour_state", {{"rank", "2"}, {"peer", "1"}, {"state", "we\"ird"}}),
            1);
  EXPECT_EQ(text.value("rumor_neighbour_state", {{"rank", "2"}, {"peer", "1"}, {"state", "alive"}}),
            0);
}

}  // namespace
}  // namespace rumor
