#include "apps/vigil/volunteer.h"

#include <sys/stat.h>

#include "vantage/runner/informed_consent.h"

namespace vigil::cli {

Result<Volunteer> LoadVolunteer(const std::string& config_flag, bool need_consent) {
  Volunteer v;
  v.config_path = config_flag.empty() ? DefaultConfigPath() : config_flag;
  struct stat st {};
  v.configured = ::stat(v.config_path.c_str(), &st) == 0;
  if (v.configured || need_consent) {
    auto config = LoadConfig(v.config_path);
    if (!config.ok()) {
      if (!v.configured) {
        return Error{
            "no informed consent recorded (no " + v.config_path +
            "): run `vigil onboard` first (`vigil onboard --yes` for unattended installs)"};
      }
      return Error{config.error()};
    }
    v.config = *config;
  }
  if (need_consent) {
    auto consent = RequireConsent(v.config, v.config_path);
    if (!consent.ok()) return Error{consent.error()};
  }
  v.spool_dir = v.config.spool_dir.empty() ? DefaultDataHome() + "/spool" : v.config.spool_dir;
  v.results_db =
      v.config.results_db.empty() ? DefaultDataHome() + "/results.sqlite" : v.config.results_db;
  return v;
}

}  // namespace vigil::cli
