// StepFailure: one failed step of a messaging experiment (host, port, operation,
// OONI failure string), kept in the measurement as `x_failures` so that a summary
// line — verdict, blocking type, evidence — can be rebuilt from the stored JSON
// alone. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "probe/experiments/experiment.h"
#include "probe/measurement/measurement.h"

namespace vigil {

struct StepFailure {
  std::string host;       // a name, or the real IP literal (never a lab-mapped one)
  uint16_t port = 0;      // 0 for a lookup
  std::string operation;  // resolve | connect | tls_handshake | http_round_trip
  std::string failure;    // OONI failure string
};

Json ToJson(const StepFailure& f);
/// Reads what ToJson wrote; malformed entries are skipped.
std::vector<StepFailure> StepFailuresFromJson(const Json& j);

/// resolve → dns, connect → tcp_ip, tls_handshake → tls, anything later → http-failure.
std::string BlockingTypeOf(std::string_view operation);

/// Joins names, folding numbered runs: {e1.whatsapp.net, e2.whatsapp.net,
/// e3.whatsapp.net} → "e1-e3.whatsapp.net".
std::string CompressHostNames(std::vector<std::string> hosts);

/// The summary of one measurement: `verdict` as the experiment judged it; the
/// blocking type is the layer most failures stopped at (the lowest layer on a
/// tie), and the evidence groups failures by what happened, e.g.
/// "e1-e16.whatsapp.net:443/5222 connect generic_timeout_error". Blocking and
/// evidence stay empty when the verdict is ok and nothing failed; blocking also when
/// the verdict is down.
RunSummary SummarizeFailures(std::string service, RunVerdict verdict,
                             const std::vector<StepFailure>& failures);

}  // namespace vigil
