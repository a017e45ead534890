// The messaging tests' scorers (whatsapp, telegram, signal, facebook_messenger, wechat
// and our messaging group): OONI's per-service keys first, then what the steps saw.
#include <algorithm>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "analysis/verdict/scorers/scorers.h"
#include "analysis/verdict/scoring.h"

namespace vigil::analysis {
namespace {

// x_dns_inconsistent (our probes): names whose answers lie outside the service's ASes.
void ScoreDnsInconsistent(Scoring& c) {
  auto v = c.summary.Get("x_dns_inconsistent");
  if (v && v->is_array() && v->get_array().value_unsafe().size() > 0) {
    c.Fire(Rule::kDnsOutsideServiceAsn);
  }
}

// TLS handshakes that a connect had opened and that were then reset, closed or left
// unanswered: what SNI filtering does to them (the sweeps' x_tls_handshakes, and the
// fetches' tls_handshakes). Every handshake so interrupted and no endpoint of the service
// working is tls.all_interrupted; some of them, or a service that still works through
// other endpoints (x_partial_blocking), is tls.some_interrupted, weighted as
// tcp.some_failed is: an anomaly, never more. Certificate failures are left to
// ScoreObservations (tls.failure).
void ScoreTlsInterrupted(Scoring& c, const std::vector<std::string>& skip_hosts = {}) {
  static constexpr std::string_view kInterruptions[] = {
      "connection_reset", "connection_aborted", "eof_error", "generic_timeout_error", "timed_out"};
  int interrupted = 0, completed = 0;
  for (const ObservationRow& o : c.m.observations) {
    if (!o.tls_measured || Contains(skip_hosts, o.hostname)) continue;
    if (!o.tls_failure) {
      ++completed;
    } else if (std::find(std::begin(kInterruptions), std::end(kInterruptions), *o.tls_failure) !=
               std::end(kInterruptions)) {
      ++interrupted;
    }
  }
  if (interrupted == 0) return;
  const bool partial = IsTrue(c.summary.Bool("x_partial_blocking"));
  c.Fire(completed == 0 && !partial ? Rule::kTlsAllInterrupted : Rule::kTlsSomeInterrupted);
}

// A status key of OONI's messaging tests ("blocked"/"ok") as the fallback for a layer
// whose steps the observations do not show.
void StatusFallback(Scoring& c, std::string_view key, Rule when_blocked) {
  if (IsStr(c.summary.Str(key), "blocked")) c.Fire(when_blocked);
}

}  // namespace

void ScoreWhatsapp(Scoring& c) {
  ScoreDnsInconsistent(c);
  ScoreTlsInterrupted(c);
  ScoreObservations(c);
  StatusFallback(c, "whatsapp_endpoints_status", Rule::kTcpAllFailed);
  // OONI's web status also turns "blocked" on an HTTP status code, which says nothing
  // about the network: only a failure recorded on the fetch counts.
  if (IsStr(c.summary.Str("registration_server_status"), "blocked") &&
      !Contains(c.config.ignored_failures,
                c.summary.Str("registration_server_failure").value_or(""))) {
    c.Fire(Rule::kHttpFailure);
  }
}

void ScoreTelegram(Scoring& c) {
  ScoreDnsInconsistent(c);
  ScoreTlsInterrupted(c);
  ScoreObservations(c);
  if (IsTrue(c.summary.Bool("telegram_tcp_blocking"))) c.Fire(Rule::kTcpAllFailed);
  if (IsTrue(c.summary.Bool("telegram_http_blocking"))) c.Fire(Rule::kHttpFailure);
  StatusFallback(c, "telegram_web_status", Rule::kHttpFailure);
}

void ScoreSignal(Scoring& c) {
  const auto& ignored = c.config.signal_ignored_hosts;
  // Failures known to come from the probe rather than the network (an old pinned CA,
  // Android's resolver cache) make the measurement say nothing.
  int failures = 0, unreliable = 0;
  for (const ObservationRow& o : c.m.observations) {
    if (Contains(ignored, o.hostname)) continue;
    for (const auto* f : {&o.dns_failure, &o.tcp_failure, &o.tls_failure, &o.http_failure}) {
      if (!*f) continue;
      ++failures;
      if (Contains(c.config.signal_unreliable_failures, **f)) ++unreliable;
    }
  }
  if (auto f = c.summary.Str("signal_backend_failure");
      f && failures == 0 && Contains(c.config.signal_unreliable_failures, *f)) {
    failures = unreliable = 1;
  }
  if (failures > 0 && failures == unreliable) c.Fail("signal.unreliable_failure");
  ScoreDnsInconsistent(c);
  ScoreTlsInterrupted(c, ignored);
  ScoreObservations(c, ignored);
  StatusFallback(c, "signal_backend_status", Rule::kHttpFailure);
}

void ScoreFacebookMessenger(Scoring& c) {
  // OONI's keys already judged the answers against Facebook's AS; a failed lookup is
  // left to the steps.
  bool dns_failed = false;
  for (const ObservationRow& o : c.m.observations) dns_failed = dns_failed || o.dns_failure;
  if (IsTrue(c.summary.Bool("facebook_dns_blocking")) && !dns_failed) {
    c.Fire(Rule::kDnsOutsideServiceAsn);
  }
  ScoreTlsInterrupted(c);
  ScoreObservations(c);
  if (IsTrue(c.summary.Bool("facebook_dns_blocking"))) c.Fire(Rule::kDnsOutsideServiceAsn);
  if (IsTrue(c.summary.Bool("facebook_tcp_blocking"))) c.Fire(Rule::kTcpAllFailed);
}

void ScoreWechat(Scoring& c) {
  ScoreTlsInterrupted(c);
  ScoreObservations(c);
  StatusFallback(c, "wechat_longlink_status", Rule::kTcpAllFailed);
  if (IsTrue(c.summary.Bool("x_partial_blocking"))) c.Fire(Rule::kTcpSomeFailed);
  StatusFallback(c, "wechat_shortlink_status", Rule::kHttpFailure);
  StatusFallback(c, "wechat_httpdns_status", Rule::kHttpFailure);
  StatusFallback(c, "wechat_web_status", Rule::kHttpFailure);
}

void ScoreMessaging(Scoring& c) {
  ScoreDnsInconsistent(c);
  ScoreTlsInterrupted(c);
  ScoreObservations(c);
  if (IsTrue(c.summary.Bool("x_partial_blocking"))) c.Fire(Rule::kTcpSomeFailed);
  StatusFallback(c, "service_status", Rule::kTcpAllFailed);
}

}  // namespace vigil::analysis
