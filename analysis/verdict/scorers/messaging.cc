// The messaging tests' scorers (whatsapp, telegram, signal, facebook_messenger, wechat
// and our messaging group): OONI's per-service keys first, then what the control helper
// saw of the failed steps (x_control), then what the steps saw.
#include <algorithm>
#include <array>
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
    if (!o.tls_failure || c.TlsAnswered(o)) {
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

// x_control (our probes, with a control helper): each failed step of x_failures as the
// control saw it. A layer whose every failed step failed for the control too failed
// through the server's doing, not the network's: its rule is a `down` one, fired ahead
// of the blocking rules. A fetch that failed at a lower layer fails the HTTP layer too,
// which is the server's doing as well when every failed step of the measurement was.
// True when every failed step was: OONI's status keys, which those steps made
// "blocked", then say nothing more.
bool ScoreControl(Scoring& c) {
  auto steps = Summary::Field(c.summary.Get("x_control"), "steps");
  if (!steps || !steps->is_array()) return false;
  std::array<int, kLayerCount> failed{}, failed_too{};
  int all = 0, all_too = 0;
  const simdjson::dom::array list = steps->get_array().value_unsafe();
  for (auto step : list) {
    const auto operation = Summary::StrOf(Summary::Field(step, "operation")).value_or("");
    const bool too = IsStr(Summary::StrOf(Summary::Field(step, "control")), "failed_too");
    Layer layer = Layer::kHttp;
    if (operation == "resolve" || operation == "dns_round_trip") {
      layer = Layer::kDns;
    } else if (operation == "connect") {
      layer = Layer::kTcp;
    } else if (operation == "tls_handshake") {
      layer = Layer::kTls;
    }
    ++failed[static_cast<size_t>(layer)];
    ++all;
    if (too) {
      ++failed_too[static_cast<size_t>(layer)];
      ++all_too;
    }
  }
  auto explained = [&](Layer layer) {
    const size_t i = static_cast<size_t>(layer);
    return failed[i] > 0 && failed_too[i] == failed[i];
  };
  if (explained(Layer::kDns)) c.Fire(Rule::kDnsControlFailedToo);
  if (explained(Layer::kTcp)) c.Fire(Rule::kTcpControlFailedToo);
  if (explained(Layer::kTls)) c.Fire(Rule::kTlsControlFailedToo);
  bool fetch_failed = false;
  for (const ObservationRow& o : c.m.observations) {
    fetch_failed =
        fetch_failed || (o.http_measured && o.http_failure && !c.Ignored(o.http_failure));
  }
  // Every failed step was asked about, so the control's steps are all of them.
  auto failures = c.summary.Get("x_failures");
  const bool complete = !failures || !failures->is_array() ||
                        failures->get_array().value_unsafe().size() == static_cast<size_t>(all);
  const bool all_explained = complete && all > 0 && all_too == all;
  if (explained(Layer::kHttp) || (all_explained && fetch_failed)) {
    c.Fire(Rule::kHttpControlFailedToo);
  }
  return all_explained;
}

// A status key of OONI's messaging tests ("blocked"/"ok") as the fallback for a layer
// whose steps the observations do not show.
void StatusFallback(Scoring& c, std::string_view key, Rule when_blocked) {
  if (IsStr(c.summary.Str(key), "blocked")) c.Fire(when_blocked);
}

}  // namespace

void ScoreWhatsapp(Scoring& c) {
  ScoreDnsInconsistent(c);
  const bool down = ScoreControl(c);
  ScoreTlsInterrupted(c);
  ScoreObservations(c);
  if (down) return;
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
  const bool down = ScoreControl(c);
  ScoreTlsInterrupted(c);
  ScoreObservations(c);
  if (down) return;
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
  const bool down = ScoreControl(c);
  ScoreTlsInterrupted(c, ignored);
  ScoreObservations(c, ignored);
  if (down) return;
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
  const bool down = ScoreControl(c);
  ScoreTlsInterrupted(c);
  ScoreObservations(c);
  if (down) return;
  if (IsTrue(c.summary.Bool("facebook_dns_blocking"))) c.Fire(Rule::kDnsOutsideServiceAsn);
  if (IsTrue(c.summary.Bool("facebook_tcp_blocking"))) c.Fire(Rule::kTcpAllFailed);
}

void ScoreWechat(Scoring& c) {
  const bool down = ScoreControl(c);
  ScoreTlsInterrupted(c);
  ScoreObservations(c);
  if (down) return;
  StatusFallback(c, "wechat_longlink_status", Rule::kTcpAllFailed);
  if (IsTrue(c.summary.Bool("x_partial_blocking"))) c.Fire(Rule::kTcpSomeFailed);
  StatusFallback(c, "wechat_shortlink_status", Rule::kHttpFailure);
  StatusFallback(c, "wechat_httpdns_status", Rule::kHttpFailure);
  StatusFallback(c, "wechat_web_status", Rule::kHttpFailure);
}

void ScoreMessaging(Scoring& c) {
  ScoreDnsInconsistent(c);
  const bool down = ScoreControl(c);
  ScoreTlsInterrupted(c);
  ScoreObservations(c);
  if (down) return;
  if (IsTrue(c.summary.Bool("x_partial_blocking"))) c.Fire(Rule::kTcpSomeFailed);
  StatusFallback(c, "service_status", Rule::kTcpAllFailed);
}

}  // namespace vigil::analysis
