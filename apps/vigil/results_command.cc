// `vigil results list|show`: what this machine has measured, from the local results
// database (vantage/spool/results_db.h): runs with their counts and upload state, and
// one run's measurements (verdict, blocking, upload state and its last error).
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "apps/vigil/commands.h"
#include "apps/vigil/exit_status.h"
#include "apps/vigil/volunteer.h"
#include "vantage/spool/results_db.h"

namespace vigil::cli {
namespace {

using Json = nlohmann::json;

struct ResultsFlags {
  std::string config;
  size_t limit = 20;
  int64_t run_id = 0;
  bool json = false;
};

constexpr const char* kCommand = "results";

Result<std::unique_ptr<ResultsDb>> OpenDb(const ResultsFlags& flags) {
  auto volunteer = LoadVolunteer(flags.config, /*need_consent=*/false);
  if (!volunteer.ok()) return Error{volunteer.error()};
  return ResultsDb::Open(volunteer->results_db);
}

int List(const ResultsFlags& flags) {
  auto db = OpenDb(flags);
  if (!db.ok()) return Fail(kCommand, db.error());
  auto runs = (*db)->ListRuns(flags.limit);
  if (!runs.ok()) return Fail(kCommand, runs.error());
  auto states = (*db)->CountByUploadState();
  if (flags.json) {
    Json out = Json::array();
    for (const auto& r : *runs) {
      out.push_back({{"id", r.id},
                     {"started_at", r.started_at},
                     {"finished_at", r.finished_at ? Json(*r.finished_at) : Json(nullptr)},
                     {"target", r.target},
                     {"probe_cc", r.probe_cc},
                     {"probe_asn", r.probe_asn},
                     {"network_name", r.network_name},
                     {"measurements", r.counts.measurements},
                     {"anomalies", r.counts.anomalies},
                     {"failures", r.counts.failures}});
    }
    std::cout << out.dump(2, ' ', false, Json::error_handler_t::replace) << "\n";
    return 0;
  }
  if (runs->empty()) {
    std::cout << "no runs yet in " << (*db)->path() << " (vigil run im)\n";
    return 0;
  }
  std::printf("%5s  %-20s  %-10s  %-4s  %-9s  %6s  %7s  %8s\n", "RUN", "STARTED", "TARGET", "CC",
              "ASN", "MEAS.", "ANOMALY", "FAILURE");
  for (const auto& r : *runs) {
    std::printf(
        "%5lld  %-20s  %-10s  %-4s  %-9s  %6lld  %7lld  %8lld%s\n", static_cast<long long>(r.id),
        r.started_at.c_str(), r.target.c_str(), r.probe_cc.c_str(), r.probe_asn.c_str(),
        static_cast<long long>(r.counts.measurements), static_cast<long long>(r.counts.anomalies),
        static_cast<long long>(r.counts.failures), r.finished_at ? "" : "  (unfinished)");
  }
  if (states.ok()) {
    std::printf("\nuploads: %lld uploaded, %lld pending, %lld failed, %lld off\n",
                static_cast<long long>((*states)[UploadState::kUploaded]),
                static_cast<long long>((*states)[UploadState::kPending]),
                static_cast<long long>((*states)[UploadState::kFailed]),
                static_cast<long long>((*states)[UploadState::kDisabled]));
  }
  return 0;
}

int Show(const ResultsFlags& flags) {
  auto db = OpenDb(flags);
  if (!db.ok()) return Fail(kCommand, db.error());
  auto run = (*db)->GetRun(flags.run_id);
  if (!run.ok()) return Fail(kCommand, run.error());
  if (!run->has_value())
    return Fail(kCommand, "no run " + std::to_string(flags.run_id) + " (vigil results list)");
  const RunWithMeasurements& r = **run;
  if (flags.json) {
    Json out = Json::array();
    for (const auto& m : r.measurements) {
      out.push_back(
          {{"uid", m.uid},
           {"test_name", m.test_name},
           {"input", m.input},
           {"start_time", m.start_time},
           {"verdict", m.verdict},
           {"blocking", m.blocking},
           {"anomaly", m.anomaly},
           {"failure", m.failure ? Json(*m.failure) : Json(nullptr)},
           {"upload_state", std::string(UploadStateName(m.upload_state))},
           {"upload_error", m.upload_error ? Json(*m.upload_error) : Json(nullptr)},
           {"measurement_uid", m.measurement_uid ? Json(*m.measurement_uid) : Json(nullptr)},
           {"file", m.spool_path}});
    }
    std::cout << out.dump(2, ' ', false, Json::error_handler_t::replace) << "\n";
    return 0;
  }
  std::printf("run %lld: %s, started %s%s, %s %s\n", static_cast<long long>(r.run.id),
              r.run.target.c_str(), r.run.started_at.c_str(),
              r.run.finished_at ? (", finished " + *r.run.finished_at).c_str() : " (unfinished)",
              r.run.probe_cc.c_str(), r.run.probe_asn.c_str());
  std::printf("%-20s  %-30s  %-10s  %-12s  %-9s  %s\n", "TEST", "INPUT", "VERDICT", "BLOCKING",
              "UPLOAD", "UPLOAD ERROR / COLLECTOR UID");
  for (const auto& m : r.measurements) {
    std::string input = m.input.empty() ? "-" : m.input;
    if (input.size() > 30) input = input.substr(0, 27) + "...";
    const std::string note = m.upload_error ? *m.upload_error : m.measurement_uid.value_or("");
    std::printf("%-20s  %-30s  %-10s  %-12s  %-9s  %s\n", m.test_name.c_str(), input.c_str(),
                m.verdict.c_str(), m.blocking.empty() ? "-" : m.blocking.c_str(),
                std::string(UploadStateName(m.upload_state)).c_str(), note.c_str());
  }
  return 0;
}

}  // namespace

void AddResultsCommand(CLI::App& app) {
  auto flags = std::make_shared<ResultsFlags>();
  CLI::App* results =
      app.add_subcommand("results", "What this machine has measured, and what is uploaded");
  results->require_subcommand(1);
  results->add_option("--config", flags->config, "The volunteer's config file (default: XDG path)");
  CLI::App* list = results->add_subcommand("list", "Runs, newest first, and the upload tally");
  list->add_option("--limit", flags->limit, "At most this many runs (0: all)")
      ->capture_default_str();
  list->add_flag("--json", flags->json, "JSON instead of a table");
  list->callback([flags] { SetExitCode(List(*flags)); });
  CLI::App* show =
      results->add_subcommand("show", "One run's measurements with their upload state");
  show->add_option("RUN", flags->run_id, "The run's number (from vigil results list)")->required();
  show->add_flag("--json", flags->json, "JSON instead of a table");
  show->callback([flags] { SetExitCode(Show(*flags)); });
}

}  // namespace vigil::cli
