// fault_request.cc — strict parsing of POST /faults bodies into RuntimeFaults, and back.
#include "peer/fault_request.h"

#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <set>
#include <string>
#include <tuple>

#include "core/error.h"

namespace rumor {

namespace {

using json = nlohmann::json;

constexpr std::int64_t kMaxMilliseconds = 3'600'000;  // one hour
constexpr const char* kValidKeys =
    "drop, duplicate, reorder, corrupt, delay_ms, jitter_ms, reorder_hold_ms, partition, "
    "byzantine, slowdown, fail_replica";

[[noreturn]] void reject(const std::string& key, const json& value, const char* valid) {
  throw ConfigError("faults: " + key + " = " + value.dump() + " (valid: " + valid + ")");
}

double probability(const std::string& key, const json& value) {
  constexpr const char* kValid = "a probability in [0, 1]";
  if (!value.is_number()) reject(key, value, kValid);
  const double p = value.get<double>();
  if (!(p >= 0.0 && p <= 1.0)) reject(key, value, kValid);
  return p;
}

std::chrono::milliseconds milliseconds(const std::string& key, const json& value) {
  constexpr const char* kValid = "a whole number of milliseconds in [0, 3600000]";
  if (!value.is_number_integer()) reject(key, value, kValid);
  if (value.is_number_unsigned()) {
    if (value.get<std::uint64_t>() > static_cast<std::uint64_t>(kMaxMilliseconds)) {
      reject(key, value, kValid);
    }
    return std::chrono::milliseconds(value.get<std::int64_t>());
  }
  const std::int64_t ms = value.get<std::int64_t>();
  if (ms < 0 || ms > kMaxMilliseconds) reject(key, value, kValid);
  return std::chrono::milliseconds(ms);
}

std::set<std::uint32_t> partition(const std::string& key, const json& value) {
  constexpr const char* kValid = "an array of peer ranks (whole numbers >= 0), [] for none";
  if (!value.is_array()) reject(key, value, kValid);
  std::set<std::uint32_t> ranks;
  for (const json& rank : value) {
    if (!rank.is_number_integer() ||
        (!rank.is_number_unsigned() && rank.get<std::int64_t>() < 0) ||
        rank.get<std::uint64_t>() > std::numeric_limits<std::uint32_t>::max()) {
      reject(key, value, kValid);
    }
    ranks.insert(rank.get<std::uint32_t>());
  }
  return ranks;
}

double slowdown(const std::string& key, const json& value) {
  constexpr const char* kValid = "a factor >= 1 (1 = no slowdown)";
  if (!value.is_number()) reject(key, value, kValid);
  const double factor = value.get<double>();
  if (!(factor >= 1.0) || !std::isfinite(factor)) reject(key, value, kValid);
  return factor;
}

int replica(const std::string& key, const json& value) {
  constexpr const char* kValid = "a local replica number >= 0, or -1 for none";
  if (!value.is_number_integer()) reject(key, value, kValid);
  if (value.is_number_unsigned()) {
    if (value.get<std::uint64_t>() > 1024) reject(key, value, kValid);
    return value.get<int>();
  }
  const std::int64_t r = value.get<std::int64_t>();
  if (r < -1 || r > 1024) reject(key, value, kValid);
  return static_cast<int>(r);
}

}  // namespace

RuntimeFaults apply_fault_request(const json& body, const RuntimeFaults& current) {
  if (!body.is_object()) {
    throw ConfigError("faults: the body must be a JSON object such as {\"drop\": 0.1}, got " +
                      body.dump());
  }
  RuntimeFaults next = current;
  FaultConfig& t = next.transport;
  for (const auto& [key, value] : body.items()) {
    if (key == "drop") t.drop = probability(key, value);
    else if (key == "duplicate") t.duplicate = probability(key, value);
    else if (key == "reorder") t.reorder = probability(key, value);
    else if (key == "corrupt") t.corrupt = probability(key, value);
    else if (key == "delay_ms") t.delay = milliseconds(key, value);
    else if (key == "jitter_ms") t.jitter = milliseconds(key, value);
    else if (key == "reorder_hold_ms") t.reorder_hold = milliseconds(key, value);
    else if (key == "partition") t.partitioned = partition(key, value);
    else if (key == "slowdown") next.slowdown = slowdown(key, value);
    else if (key == "fail_replica") next.fail_replica = replica(key, value);
    else if (key == "byzantine") {
      if (!value.is_string()) reject(key, value, "none, nan, garbage or scale:F");
      std::tie(t.byzantine, t.byzantine_scale) = parse_byzantine(value.get<std::string>());
    }
    else throw ConfigError("faults: unknown key '" + key + "' (valid: " + kValidKeys + ")");
  }
  t.validate();
  return next;
}

RuntimeFaults parse_fault_request(std::string_view body, const RuntimeFaults& current) {
  json parsed = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    throw ConfigError("faults: the body is not valid JSON (expected an object such as "
                      "{\"drop\": 0.1})");
  }
  return apply_fault_request(parsed, current);
}

json to_json(const RuntimeFaults& faults) {
  const FaultConfig& t = faults.transport;
  return {{"drop", t.drop},
          {"duplicate", t.duplicate},
          {"reorder", t.reorder},
          {"corrupt", t.corrupt},
          {"delay_ms", t.delay.count()},
          {"jitter_ms", t.jitter.count()},
          {"reorder_hold_ms", t.reorder_hold.count()},
          {"partition", t.partitioned},
          {"byzantine", byzantine_name(t.byzantine, t.byzantine_scale)},
          {"slowdown", faults.slowdown},
          {"fail_replica", faults.fail_replica}};
}

}  // namespace rumor
