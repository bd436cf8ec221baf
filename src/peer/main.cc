// main.cc — the `rumor` program: subcommands in the style of git (train, peer, eval). Exit
// codes: 0 success, 1 runtime or data error, 2 bad configuration (a flag, a config key or a
// value), with a message saying what is valid.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "core/error.h"
#include "peer/config_file.h"
#include "peer/ctl_command.h"
#include "peer/eval_command.h"
#include "peer/peer_command.h"
#include "peer/train_command.h"
#include "rumor_config.h"

namespace {

constexpr int kExitRuntimeError = 1;
constexpr int kExitConfigError = 2;

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"rumor " RUMOR_VERSION
               " — asynchronous decentralized (gossip) training of deep-learning models",
               "rumor"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "rumor " RUMOR_VERSION);
  app.footer("Run 'rumor COMMAND --help' for the options of a command.");

  rumor::TrainCommandArgs train_args;
  rumor::EvalCommandArgs eval_args;
  rumor::CtlCommandArgs ctl_args;
  CLI::App* train = rumor::add_train_command(app, train_args);
  rumor::PeerCommandArgs peer_args;
  CLI::App* peer = rumor::add_peer_command(app, peer_args);
  CLI::App* eval = rumor::add_eval_command(app, eval_args);
  CLI::App* ctl = rumor::add_ctl_command(app, ctl_args);

  try {
    std::vector<std::string> args(argv + 1, argv + argc);
    args = rumor::expand_config_file(app, std::move(args));
    std::reverse(args.begin(), args.end());  // CLI11 takes the arguments in reverse order
    app.parse(args);
  } catch (const CLI::ParseError& error) {
    const int code = app.exit(error);
    return code == 0 ? 0 : kExitConfigError;
  } catch (const rumor::ConfigError& error) {
    std::fprintf(stderr, "rumor: error: %s\n", error.what());
    return kExitConfigError;
  }

  try {
    if (train->parsed()) return rumor::run_train_command(train_args);
    if (peer->parsed()) return rumor::run_peer_command(peer_args);
    if (eval->parsed()) return rumor::run_eval_command(eval_args);
    if (ctl->parsed()) return rumor::run_ctl_command(ctl_args, std::cout);
  } catch (const rumor::ConfigError& error) {
    std::fprintf(stderr, "rumor: error: %s\n", error.what());
    return kExitConfigError;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "rumor: error: %s\n", error.what());
    return kExitRuntimeError;
  }
  return kExitRuntimeError;
}
