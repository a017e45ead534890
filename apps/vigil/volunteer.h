// The volunteer's settings as the commands use them: the config file (--config or the
// default path) with the spool and results paths resolved.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "vantage/runner/volunteer_config.h"
#include "vantage/upload/upload_pending.h"

namespace vigil::cli {

struct Volunteer {
  std::string config_path;
  VantageConfig config;
  bool configured = false;  // a config file exists
  std::string spool_dir;
  std::string results_db;
};

/// Loads the config at `config_flag` (or the default path). With `need_consent` a
/// missing config or one without consent is an error that says to run `vigil onboard`;
/// without, a missing config gives the defaults.
Result<Volunteer> LoadVolunteer(const std::string& config_flag, bool need_consent);

/// Uploads the volunteer's pending measurements (to `collectors`, else the config's),
/// with progress on stderr unless `quiet`; 0 when everything went, 1 when something
/// failed or was left, 2 when it could not start.
int UploadSpool(const Volunteer& volunteer, const std::vector<std::string>& collectors,
                size_t limit, bool quiet,
                std::optional<std::chrono::steady_clock::time_point> deadline);

/// One measurement's upload on stderr, as `vigil upload` shows it (only failures
/// when `quiet`).
void PrintUploadProgress(const UploadProgress& progress, bool quiet);

/// The end of an upload pass on stderr; returns UploadSpool's status.
int PrintUploadReport(const UploadReport& report, const Volunteer& volunteer, bool quiet,
                      std::optional<std::chrono::steady_clock::time_point> deadline);

}  // namespace vigil::cli
