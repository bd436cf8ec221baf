#include "peer/config_file.h"

#include <CLI/CLI.hpp>
#include <toml++/toml.h>

#include <algorithm>
#include <iomanip>
#include <sstream>

#include "core/error.h"

namespace rumor {
namespace {

// The value of "--config" in args (as "--config X" or "--config=X"), or empty.
std::string find_config_path(const std::vector<std::string>& args) {
  for (std::size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "--config" && i + 1 < args.size()) return args[i + 1];
    if (args[i].starts_with("--config=")) return args[i].substr(9);
  }
  return {};
}

std::string valid_keys(const CLI::App& command) {
  std::string out;
  for (const CLI::Option* option : command.get_options()) {
    const std::string name = option->get_single_name();
    if (option->get_lnames().empty() || name == "config" || name == "help") continue;
    out += (out.empty() ? "" : ", ") + name;
  }
  return out;
}

// Renders one TOML scalar as an option value; throws for tables, arrays and dates.
std::string scalar_text(const toml::node& node, const std::string& where) {
  if (const auto* s = node.as_string()) return s->get();
  if (const auto* i = node.as_integer()) return std::to_string(i->get());
  if (const auto* b = node.as_boolean()) return b->get() ? "true" : "false";
  if (const auto* f = node.as_floating_point()) {
    std::ostringstream out;
    out << std::setprecision(9) << f->get();
    return out.str();
  }
  throw ConfigError(where + ": value must be a string, number or boolean");
}

}  // namespace

std::vector<std::string> expand_config_file(const CLI::App& app, std::vector<std::string> args) {
  if (args.empty()) return args;
  const std::string path = find_config_path(args);
  if (path.empty()) return args;
  const CLI::App* command = nullptr;
  for (const CLI::App* sub : app.get_subcommands({})) {
    if (sub->get_name() == args[0]) command = sub;
  }
  if (command == nullptr) return args;  // CLI11 reports the unknown subcommand

  toml::table table;
  try {
    table = toml::parse_file(path);
  } catch (const toml::parse_error& error) {
    const auto& where = error.source().begin;
    throw ConfigError(detail::concat("--config ", path, ":", where.line, ":", where.column, ": ",
                                     error.description()));
  }

  std::vector<std::string> expanded;
  for (const auto& [raw_key, node] : table) {
    std::string key(raw_key.str());
    std::replace(key.begin(), key.end(), '_', '-');
    const std::string where = "--config " + path + ": key '" + std::string(raw_key.str()) + "'";
    const CLI::Option* option = command->get_option_no_throw("--" + key);
    if (option == nullptr || key == "config" || key == "help") {
      throw ConfigError(where + " is not an option of 'rumor " + command->get_name() +
                        "'; valid keys: " + valid_keys(*command));
    }
    if (const auto* array = node.as_array()) {
      for (const auto& element : *array) {
        expanded.push_back("--" + key + "=" + scalar_text(element, where));
      }
    } else {
      expanded.push_back("--" + key + "=" + scalar_text(node, where));
    }
  }
  args.insert(args.begin() + 1, expanded.begin(), expanded.end());
  return args;
}

}  // namespace rumor
