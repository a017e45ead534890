// The `vigil` command: parses flags and hands off to the libraries. Each
// subcommand lives in its own file and registers itself through the explicit list
// below.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "apps/vigil/commands.h"

namespace {

// CLI11 says "A subcommand is required" for `vigil measure smtp`; name the word
// that was not a subcommand, and the ones that would have been.
std::string DescribeParseError(const CLI::App& app, const CLI::ParseError& e, int argc,
                               char** argv) {
  const CLI::App* deepest = &app;
  for (bool descended = true; descended;) {
    descended = false;
    for (const CLI::App* sub : deepest->get_subcommands({})) {
      if (sub->parsed()) {
        deepest = sub;
        descended = true;
        break;
      }
    }
  }
  if (deepest->get_require_subcommand_min() == 0 || !deepest->get_subcommands().empty()) {
    return e.what();
  }
  std::string choices;
  for (const CLI::App* sub : deepest->get_subcommands({})) {
    choices += (choices.empty() ? "" : ", ") + sub->get_name();
  }
  std::string got = deepest == &app && argc > 1 ? argv[1] : "";
  for (int i = 1; i + 1 < argc; ++i) {
    if (deepest != &app && argv[i] == deepest->get_name()) got = argv[i + 1];
  }
  const std::string where = deepest == &app ? "" : deepest->get_name() + ": ";
  if (got.empty() || got[0] == '-') return where + "a subcommand is required (" + choices + ")";
  return where + "unknown subcommand '" + got + "' (" + choices + ")";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"vigil: network-interference probe and analyzer for messaging services"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("vigil ") + vigil::cli::Version());

  vigil::cli::AddMeasureCommand(app);
  vigil::cli::AddListsCommand(app);
  vigil::cli::AddRunCommand(app);
  vigil::cli::AddHelperCommand(app);
  vigil::cli::AddRelayCommand(app);
  vigil::cli::AddAnalyzeCommand(app);
  vigil::cli::AddQueryCommand(app);
  vigil::cli::AddEventsCommand(app);
  vigil::cli::AddReportCommand(app);
  vigil::cli::AddOnboardCommand(app);
  vigil::cli::AddResultsCommand(app);
  vigil::cli::AddUploadCommand(app);
  vigil::cli::AddAutorunCommand(app);
  vigil::cli::AddCollectorCommand(app);

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
    std::fprintf(stderr, "vigil: %s (see --help)\n",
                 DescribeParseError(app, e, argc, argv).c_str());
    return vigil::cli::kExitUsage;
  }
  return vigil::cli::ExitCode();
}
