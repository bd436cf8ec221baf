#include "peer/fault_request.h"

#include <gtest/gtest.h>

#include <string>

#include "core/error.h"

namespace rumor {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

// Expects a ConfigError whose message contains every one of `phrases`.
void expect_rejected(const std::string& body, std::initializer_list<const char*> phrases) {
  try {
    parse_fault_request(body, RuntimeFaults{});
    ADD_FAILURE() << "accepted: " << body;
  } catch (const ConfigError& error) {
    for (const char* phrase : phrases) {
      EXPECT_NE(std::string(error.what()).find(phrase), std::string::npos)
          << "'" << phrase << "' missing from: " << error.what();
    }
  }
}

TEST(FaultRequest, FullBodySetsEveryField) {
  const RuntimeFaults f = parse_fault_request(
      R"({"drop": 0.1, "duplicate": 0.2, "reorder": 0.3, "corrupt": 0.4, "delay_ms": 50,
          "jitter_ms": 7, "reorder_hold_ms": 90, "partition": [3, 1], "slowdown": 2.5,
          "fail_replica": 1})",
      RuntimeFaults{});
  EXPECT_EQ(f.transport.drop, 0.1);
  EXPECT_EQ(f.transport.duplicate, 0.2);
  EXPECT_EQ(f.transport.reorder, 0.3);
  EXPECT_EQ(f.transport.corrupt, 0.4);
  EXPECT_EQ(f.transport.delay, milliseconds(50));
  EXPECT_EQ(f.transport.jitter, milliseconds(7));
  EXPECT_EQ(f.transport.reorder_hold, milliseconds(90));
  EXPECT_EQ(f.transport.partitioned, (std::set<std::uint32_t>{1, 3}));
  EXPECT_EQ(f.slowdown, 2.5);
  EXPECT_EQ(f.fail_replica, 1);
}

TEST(FaultRequest, AbsentFieldsKeepTheirCurrentValue) {
  RuntimeFaults current;
  current.transport.drop = 0.5;
  current.transport.delay = milliseconds(20);
  current.transport.partitioned = {2};
  current.slowdown = 3.0;
  const RuntimeFaults f = parse_fault_request(R"({"jitter_ms": 5})", current);
  EXPECT_EQ(f.transport.drop, 0.5);
  EXPECT_EQ(f.transport.delay, milliseconds(20));
  EXPECT_EQ(f.transport.jitter, milliseconds(5));
  EXPECT_EQ(f.transport.partitioned, std::set<std::uint32_t>{2});
  EXPECT_EQ(f.slowdown, 3.0);

  const RuntimeFaults same = parse_fault_request("{}", current);
  EXPECT_EQ(same.transport.drop, 0.5);
  EXPECT_EQ(same.slowdown, 3.0);
}

TEST(FaultRequest, EmptyPartitionHeals) {
  RuntimeFaults current;
  current.transport.partitioned = {1, 2};
  EXPECT_TRUE(parse_fault_request(R"({"partition": []})", current).transport.partitioned.empty());
}

TEST(FaultRequest, IntegersAreProbabilitiesToo) {
  EXPECT_EQ(parse_fault_request(R"({"drop": 1})", RuntimeFaults{}).transport.drop, 1.0);
  EXPECT_EQ(parse_fault_request(R"({"slowdown": 4})", RuntimeFaults{}).slowdown, 4.0);
}

TEST(FaultRequest, OutOfRangeValuesNameTheKeyAndTheValidRange) {
  expect_rejected(R"({"drop": 1.5})", {"drop", "1.5", "[0, 1]"});
  expect_rejected(R"({"corrupt": -0.1})", {"corrupt", "[0, 1]"});
  expect_rejected(R"({"delay_ms": -5})", {"delay_ms", "-5", "[0, 3600000]"});
  expect_rejected(R"({"jitter_ms": 3600001})", {"jitter_ms", "3600000"});
  expect_rejected(R"({"delay_ms": 18446744073709551615})", {"delay_ms"});
  expect_rejected(R"({"slowdown": 0.5})", {"slowdown", ">= 1"});
  expect_rejected(R"({"partition": [-1]})", {"partition", "ranks"});
  expect_rejected(R"({"partition": [4294967296]})", {"partition"});
  expect_rejected(R"({"fail_replica": -2})", {"fail_replica", "-1 for none"});
  expect_rejected(R"({"fail_replica": 1.5})", {"fail_replica"});
}

TEST(FaultRequest, WrongTypesNameTheKey) {
  expect_rejected(R"({"drop": "0.1"})", {"drop", "\"0.1\"", "probability"});
  expect_rejected(R"({"drop": true})", {"drop", "probability"});
  expect_rejected(R"({"delay_ms": 1.5})", {"delay_ms", "whole number"});
  expect_rejected(R"({"partition": 1})", {"partition", "array"});
  expect_rejected(R"({"partition": ["1"]})", {"partition"});
  expect_rejected(R"({"slowdown": null})", {"slowdown"});
}

TEST(FaultRequest, UnknownKeyListsTheValidOnes) {
  expect_rejected(R"({"drop": 0.1, "dorp": 0.2})", {"unknown key 'dorp'", "drop", "slowdown"});
}

TEST(FaultRequest, BodyMustBeAJsonObject) {
  expect_rejected("not json", {"not valid JSON"});
  expect_rejected("", {"not valid JSON"});
  expect_rejected("[1, 2]", {"JSON object"});
  expect_rejected("0.1", {"JSON object"});
}

TEST(FaultRequest, ErrorsLeaveTheCurrentFaultsUntouched) {
  RuntimeFaults current;
  current.transport.drop = 0.25;
  EXPECT_THROW(parse_fault_request(R"({"drop": 0.9, "delay_ms": -1})", current), ConfigError);
  EXPECT_EQ(current.transport.drop, 0.25);
}

TEST(FaultRequest, ToJsonRoundTrips) {
  RuntimeFaults f;
  f.transport.drop = 0.125;
  f.transport.duplicate = 0.25;
  f.transport.reorder = 0.375;
  f.transport.corrupt = 0.5;
  f.transport.delay = milliseconds(11);
  f.transport.jitter = milliseconds(12);
  f.transport.reorder_hold = milliseconds(13);
  f.transport.partitioned = {4, 5};
  f.slowdown = 6.0;
  f.fail_replica = 3;
  const json j = to_json(f);
  EXPECT_EQ(j["fail_replica"], 3);
  EXPECT_EQ(j["delay_ms"], 11);
  EXPECT_EQ(j["partition"], json::array({4, 5}));
  EXPECT_EQ(j["slowdown"], 6.0);
  const RuntimeFaults back = apply_fault_request(j, RuntimeFaults{});
  EXPECT_EQ(to_json(back), j);
  EXPECT_EQ(back.transport.partitioned, f.transport.partitioned);
  EXPECT_EQ(back.transport.reorder_hold, f.transport.reorder_hold);
}

TEST(FaultRequest, DefaultsAreNoFaults) {
  const json j = to_json(RuntimeFaults{});
  EXPECT_EQ(j["drop"], 0.0);
  EXPECT_EQ(j["delay_ms"], 0);
  EXPECT_EQ(j["partition"], json::array());
  EXPECT_EQ(j["slowdown"], 1.0);
}

}  // namespace
}  // namespace rumor
