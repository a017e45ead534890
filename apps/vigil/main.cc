// The `vigil` command: parses flags and hands off to the libraries. Each
// subcommand lives in its own file and registers itself through the explicit list
// below.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "apps/vigil/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"vigil: network-interference probe and analyzer for messaging services"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("vigil ") + vigil::cli::Version());

  vigil::cli::AddMeasureCommand(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // One line that names the argument; the full usage is one --help away.
    std::fprintf(stderr, "vigil: %s (see --help)\n", e.what());
    return 2;
  }
  return vigil::cli::ExitCode();
}
