// prometheus_parser.h — a small strict parser of the Prometheus text exposition format 0.0.4
// for tests: every line is a HELP, a TYPE or a sample `name{labels} value`; anything else,
// a sample without HELP and TYPE before it, a family split in two, a counter not ending in
// _total or a repeated series is reported as an error.
#pragma once

#include <cmath>
#include <cstdlib>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace rumor::testing {

struct PromSample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0.0;
};

struct PromText {
  std::map<std::string, std::string> help, type;  // by family name
  std::vector<PromSample> samples;
  std::vector<std::string> errors;                // empty when the text is well formed

  // The value of the one sample of `name` with exactly these labels; NaN (and a recorded
  // miss) when there is none.
  double value(const std::string& name, const std::map<std::string, std::string>& labels) const {
    for (const PromSample& s : samples) {
      if (s.name == name && s.labels == labels) return s.value;
    }
    return std::nan("");
  }
  bool has_family(const std::string& name) const { return type.count(name) != 0; }
};

inline bool valid_name(const std::string& name, bool label) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                       (!label && c == ':');
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

inline bool parse_value(const std::string& text, double& value) {
  if (text == "NaN") value = std::nan("");
  else if (text == "+Inf") value = INFINITY;
  else if (text == "-Inf") value = -INFINITY;
  else {
    char* end = nullptr;
    value = std::strtod(text.c_str(), &end);
    return !text.empty() && end == text.c_str() + text.size() && std::isfinite(value);
  }
  return true;
}

// Parses `{k="v",...}` starting at text[pos] == '{'; leaves pos after the '}'.
inline bool parse_labels(const std::string& text, std::size_t& pos,
                         std::map<std::string, std::string>& labels) {
  ++pos;
  while (pos < text.size() && text[pos] != '}') {
    const std::size_t eq = text.find("=\"", pos);
    if (eq == std::string::npos) return false;
    const std::string key = text.substr(pos, eq - pos);
    if (!valid_name(key, true) || labels.count(key)) return false;
    std::string value;
    for (pos = eq + 2; pos < text.size() && text[pos] != '"'; ++pos) {
      if (text[pos] == '\\') {
        if (++pos >= text.size()) return false;
        const char c = text[pos];
        if (c == 'n') value += '\n';
        else if (c == '\\' || c == '"') value += c;
        else return false;
      } else {
        value += text[pos];
      }
    }
    if (pos >= text.size()) return false;
    labels[key] = value;
    ++pos;  // the closing quote
    if (pos < text.size() && text[pos] == ',') ++pos;
    else if (pos < text.size() && text[pos] != '}') return false;
  }
  if (pos >= text.size()) return false;
  ++pos;
  return true;
}

inline PromText parse_prometheus(const std::string& text) {
  PromText out;
  const auto error = [&](int line_number, const std::string& line, const std::string& why) {
    out.errors.push_back("line " + std::to_string(line_number) + " '" + line + "': " + why);
  };
  if (!text.empty() && text.back() != '\n') out.errors.push_back("does not end with a newline");
  std::set<std::string> finished;  // families whose samples have ended
  std::set<std::string> series;
  std::string current;             // family whose TYPE came last
  std::istringstream in(text);
  int n = 0;
  for (std::string line; std::getline(in, line);) {
    ++n;
    if (line.rfind("# HELP ", 0) == 0 || line.rfind("# TYPE ", 0) == 0) {
      const bool help = line[2] == 'H';
      const std::size_t space = line.find(' ', 7);
      const std::string name = line.substr(7, space - 7);
      const std::string rest = space == std::string::npos ? "" : line.substr(space + 1);
      if (!valid_name(name, false)) error(n, line, "bad metric name");
      if (rest.empty()) error(n, line, "no text");
      auto& map = help ? out.help : out.type;
      if (map.count(name)) error(n, line, "repeated");
      map[name] = rest;
      if (!help) {
        if (rest != "counter" && rest != "gauge") error(n, line, "type neither counter nor gauge");
        if (rest == "counter" && !name.ends_with("_total")) error(n, line, "counter without _total");
        if (!out.help.count(name)) error(n, line, "TYPE before HELP");
        if (!current.empty()) finished.insert(current);
        if (finished.count(name)) error(n, line, "family appears twice");
        current = name;
      }
      continue;
    }
    if (line.empty() || line[0] == '#') {
      error(n, line, "neither HELP, TYPE nor a sample");
      continue;
    }
    PromSample sample;
    std::size_t pos = line.find_first_of("{ ");
    sample.name = line.substr(0, pos);
    if (!valid_name(sample.name, false)) error(n, line, "bad metric name");
    if (pos != std::string::npos && line[pos] == '{' && !parse_labels(line, pos, sample.labels)) {
      error(n, line, "bad labels");
      continue;
    }
    if (pos == std::string::npos || line[pos] != ' ' ||
        !parse_value(line.substr(pos + 1), sample.value)) {
      error(n, line, "bad value (or a timestamp)");
    }
    if (sample.name != current) error(n, line, "sample outside its family's HELP/TYPE block");
    std::string key = sample.name;
    for (const auto& [k, v] : sample.labels) key += "," + k + "=" + v;
    if (!series.insert(key).second) error(n, line, "repeated series");
    out.samples.push_back(std::move(sample));
  }
  return out;
}

}  // namespace rumor::testing
