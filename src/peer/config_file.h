// config_file.h — TOML config files for the `rumor` subcommands.
//
// `rumor train --config run.toml --epochs 3`: every key of run.toml is the long name of one of
// the subcommand's options (`weight-decay` or `weight_decay`). The file's values are inserted
// before the command-line arguments and every option takes its last value, so flags win.
// Unknown keys and unsupported values are configuration errors that name the file and key.
#pragma once

#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace rumor {

// Given the program arguments without argv[0] (e.g. {"train", "--config", "x.toml", ...}),
// returns them with the config file of the chosen subcommand expanded in place as
// "--key=value" arguments right after the subcommand name. Arguments without a --config are
// returned unchanged. Throws ConfigError for unreadable or invalid files and unknown keys.
std::vector<std::string> expand_config_file(const CLI::App& app, std::vector<std::string> args);

}  // namespace rumor
