// The subcommands of the `vigil` command line, each in its own file.
#pragma once

#include <CLI/App.hpp>
#include <memory>
#include <string>
#include <vector>

#include "apps/vigil/exit_status.h"
#include "base/result.h"

namespace vigil::analysis {
class Store;
}

namespace vigil::cli {

/// testlists/: $VIGIL_DATA_DIR, beside an installed binary, in the source tree of a
/// build, or in the working directory.
std::string DefaultDataDir();

/// The Citizen Lab lists under DATA/lists (not the "00-" legends), sorted.
std::vector<std::string> TestListFiles(const std::string& data_dir);

/// Opens the analyzer's store for reading (`spec`, or the default store when empty),
/// refusing to create an empty SQLite file where a path was mistyped.
Result<std::unique_ptr<analysis::Store>> OpenExistingStore(const std::string& spec);

/// `vigil events`: change points, blocking events and timeline findings.
void AddEventsCommand(CLI::App& app);

/// `vigil measure dns|tcp|tls|http ...`: one observation, printed as a measurement.
void AddMeasureCommand(CLI::App& app);

/// `vigil lists check [PATH...]`: lints the URL test lists, FILE:LINE:COLUMN per problem.
void AddListsCommand(CLI::App& app);

/// `vigil run TARGET`: experiments or groups (im, websites, all), a verdict table.
void AddRunCommand(CLI::App& app);

/// `vigil helper`: the web_connectivity control helper, until SIGINT or SIGTERM.
void AddHelperCommand(CLI::App& app);

/// `vigil relay`: the delivery experiment's message relay, until SIGINT or SIGTERM.
void AddRelayCommand(CLI::App& app);

/// `vigil analyze PATH...`: ingest, score and store measurements; --rescore; --agreement.
void AddAnalyzeCommand(CLI::App& app);

/// `vigil query [measurements]`: aggregation (and drill-down) over the analysis store.
void AddQueryCommand(CLI::App& app);

/// `vigil report --html FILE`: the events analysis (findings, blocking events, charts) as a page.
void AddReportCommand(CLI::App& app);

/// `vigil collector --archive DIR`: OONI's collector API, measurements kept durably.
void AddCollectorCommand(CLI::App& app);

/// `vigil onboard`: informed consent, a short quiz, the upload choice; writes the config.
void AddOnboardCommand(CLI::App& app);

/// `vigil upload`: every pending measurement to the collectors, failures with reasons.
void AddUploadCommand(CLI::App& app);

/// `vigil results list|show`: runs and measurements from the local results database.
void AddResultsCommand(CLI::App& app);

/// `vigil autorun enable|disable|status`: hourly runs (systemd timer or a cron line).
void AddAutorunCommand(CLI::App& app);

}  // namespace vigil::cli
