// Lab settings: what a scenario asks of the lab besides the censor's rules — servers
// that fail by themselves (`servers: {failing: ...}`), whether a switch keeps the
// ISP resolvers' caches (`keep_resolver_cache`) and the stand-in platform's posts
// (`platform`, read by platform_settings.h). The scenario parser reads them from
// the file's root; `lab_censor --lab-settings` prints them for lab.sh, which applies
// them. Stateless functions; not thread-safe on a shared FieldReader.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>

#include "tests/lab/censor/field_reader.h"
#include "tests/lab/censor/scenario.h"

namespace vigil::lab {

/// Reads the root key `servers` (key node `kn`, value `v`) into `out`, reporting
/// errors to `r`.
void ParseServers(FieldReader* r, const YAML::Node& kn, const YAML::Node& v, LabSettings* out);

/// The settings as lines for lab.sh: "failing MODE NAME" per failing server, then
/// "keep_resolver_cache true|false", then "platform true" when the scenario has a
/// platform section (platform_settings.h; lab.sh then runs the platform).
std::string LabSettingsText(const LabSettings& lab);

}  // namespace vigil::lab
