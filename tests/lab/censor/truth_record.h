// The ground truth's records: the JSON object the censor writes when a phase starts,
// when a rule acts on a flow (which rule, which action, the flow as seen from its
// client, and the action's detail), and at its start what the scenario asked of the
// lab's servers and resolvers. Scenario tests and vigil's verdict checks read these
// fields. Stateless functions; thread-safe.
#pragma once

#include <nlohmann/json.hpp>

#include "tests/lab/censor/packet.h"
#include "tests/lab/censor/scenario.h"

namespace vigil::lab {

/// {"t", "phase", "event": "phase_start"} at Unix time `wall`.
nlohmann::json PhaseStartRecord(double wall, int phase);

/// {"t", "event": "lab_settings", "servers": {"failing": [{"name", "mode"}]},
/// "keep_resolver_cache"}: what the scenario asked of the lab besides the censor.
nlohmann::json LabSettingsRecord(double wall, const LabSettings& lab);

/// Whether `lab` differs from the defaults (a clean lab), so it deserves a record.
bool LabSettingsDiffer(const LabSettings& lab);

/// {"t", "phase", "rule", "action", "flow", "detail"} for `rule` acting on `p`:
/// the flow is the TCP/UDP 4-tuple, or the addresses and IP protocol otherwise.
nlohmann::json RuleActedRecord(const Rule& rule, int phase, const Packet& p, nlohmann::json detail);

}  // namespace vigil::lab
