// ScoreWebConnectivity: the probe's DNS answers, connects, handshakes and fetch
// against the control's view of the same URL (both helpers' layouts), after OONI's
// web analysis; OONI's own "blocking" key where the control cannot tell.
#include <algorithm>

#include "analysis/verdict/scorers/scorers.h"
#include "analysis/verdict/scoring.h"
#include "base/host_port.h"

namespace vigil::analysis {
namespace {

// The control's view of the URL (test_keys.control), in the layouts of both helpers.
struct WebControl {
  bool usable = false;
  bool dns_known = false;
  bool dns_failed = false;
  std::vector<std::string_view> addrs;
  std::optional<simdjson::dom::element> tcp;  // {"ip:port": {status, failure}}
  bool http_known = false;
  bool http_ok = false;   // a response, with a status code
  bool http_5xx = false;  // that response was a server error
};

WebControl ReadWebControl(const Summary& s) {
  WebControl w;
  // control_failure null (or absent alongside a control) means the helper answered.
  auto failure = s.Get("control_failure");
  w.usable = !failure || failure->is_null();
  auto control = s.Get("control");
  if (control && !control->is_object()) w.usable = false;
  if (!w.usable || !control) return w;
  if (auto dns = Summary::Field(control, "dns")) {
    w.dns_known = true;
    w.dns_failed = Summary::StrOf(Summary::Field(dns, "failure")).has_value();
    auto addrs = Summary::Field(dns, "addrs");
    if (addrs && addrs->is_array()) {
      // A named array: a range-for over value_unsafe() of the temporary result would
      // iterate a destroyed object.
      const simdjson::dom::array list = addrs->get_array().value_unsafe();
      for (auto a : list) {
        if (a.is_string()) w.addrs.push_back(a.get_string().value_unsafe());
      }
    }
  }
  w.tcp = Summary::Field(control, "tcp_connect");
  if (auto http = Summary::Field(control, "http_request")) {
    w.http_known = true;
    auto code = Summary::Field(http, "status_code");
    int64_t status = 0;
    if (code && code->is_int64()) status = code->get_int64().value_unsafe();
    w.http_ok = !Summary::StrOf(Summary::Field(http, "failure")).has_value() && status > 0;
    w.http_5xx = w.http_ok && status / 100 == 5;
  }
  return w;
}

// The control's outcome for one ip:port: 1 connected, 0 failed, -1 not measured.
int ControlConnect(const WebControl& w, const ObservationRow& o) {
  if (!w.tcp || !w.tcp->is_object()) return -1;
  auto entry = Summary::Field(w.tcp, JoinHostPort(o.ip, o.port));
  auto status = Summary::Field(entry, "status");
  if (!status || !status->is_bool()) return -1;
  return status->get_bool().value_unsafe() ? 1 : 0;
}

}  // namespace

void ScoreWebConnectivity(Scoring& c) {
  const Summary& s = c.summary;
  if (!s.ok() || (!s.Has("blocking") && !s.Has("accessible"))) {
    if (c.m.observations.empty()) {
      c.Fail("web_connectivity.no_test_keys");
      return;
    }
    ScoreObservations(c);
    return;
  }
  const WebControl control = ReadWebControl(s);
  auto blocking = s.Str("blocking");  // nullopt for false and for null
  const bool blocking_null = !s.Has("blocking") || s.IsNull("blocking");
  const bool inconsistent = IsStr(s.Str("dns_consistency"), "inconsistent");
  const bool consistent = IsStr(s.Str("dns_consistency"), "consistent");
  const bool dns_failed = s.Str("dns_experiment_failure").has_value();

  // DNS
  bool bogon = false, bogon_in_control = false, control_bogon = false;
  bool dns_measured = false;
  for (const ObservationRow& o : c.m.observations) {
    if (!o.dns_measured) continue;
    dns_measured = true;
    for (size_t i = 0; i < o.dns_answers.size(); ++i) {
      if (!c.BogonAnswer(o, i)) continue;
      const std::string& a = o.dns_answers[i];
      bogon = true;
      if (std::find(control.addrs.begin(), control.addrs.end(), a) != control.addrs.end()) {
        bogon_in_control = true;
      }
    }
  }
  for (std::string_view a : control.addrs)
    control_bogon = control_bogon || c.config.bogons.Contains(std::string(a));
  if (bogon && control.usable && !bogon_in_control && !control_bogon &&
      (control.dns_known || inconsistent)) {
    c.Fire(Rule::kDnsBogonNotInControl);
  }
  if (inconsistent) c.Fire(dns_failed ? Rule::kDnsFailureControlOk : Rule::kDnsUnmatched);
  if (IsStr(blocking, "dns")) c.Fire(Rule::kDnsProbeBlocking);
  if (dns_failed) {
    c.Fire(control.dns_failed ? Rule::kDnsFailureControlFailed : Rule::kDnsFailure);
  }
  if (consistent) c.Fire(Rule::kDnsMatchesControl);
  if (dns_measured) c.Fire(Rule::kDnsOk);

  // TCP
  int ok = 0, failed = 0, failed_control_ok = 0, failed_control_failed = 0;
  for (const ObservationRow& o : c.m.observations) {
    if (o.tcp_success == Tri::kUnknown) continue;
    if (o.tcp_success == Tri::kYes) {
      ++ok;
      continue;
    }
    if (c.NoIpv6Route(o, o.tcp_failure)) continue;
    ++failed;
    const int theirs = ControlConnect(control, o);
    if (theirs == 1) ++failed_control_ok;
    if (theirs == 0) ++failed_control_failed;
  }
  if (failed > 0 && ok == 0) {
    if (failed_control_ok > 0) c.Fire(Rule::kTcpFailControlOk);
    if (failed_control_failed > 0) c.Fire(Rule::kTcpFailControlFailed);
    if (IsStr(blocking, "tcp_ip")) c.Fire(Rule::kTcpProbeBlocking);
    if (!blocking_null && !blocking) c.Fire(Rule::kTcpFailControlFailed);
    c.Fire(Rule::kTcpAllFailed);
  }
  if (ok > 0) c.Fire(Rule::kTcpOk);

  // TLS
  int tls_ok = 0, tls_failed = 0;
  bool reset = false;
  for (const ObservationRow& o : c.m.observations) {
    if (!o.tls_measured) continue;
    if (o.tls_failure) {
      ++tls_failed;
      reset = reset || *o.tls_failure == "connection_reset";
    } else {
      ++tls_ok;
    }
  }
  if (tls_failed > 0 && tls_ok == 0) {
    if (control.http_known) {
      if (control.http_ok) c.Fire(reset ? Rule::kTlsResetControlOk : Rule::kTlsFailControlOk);
      c.Fire(Rule::kTlsFailControlFailed);
    }
    if (IsStr(blocking, "http-failure"))
      c.Fire(reset ? Rule::kTlsResetControlOk : Rule::kTlsFailControlOk);
    if (!blocking_null && !blocking) c.Fire(Rule::kTlsFailControlFailed);
    c.Fire(Rule::kTlsFailure);
  }
  if (tls_ok > 0) c.Fire(Rule::kTlsOk);

  // HTTP
  bool http_measured = false;
  for (const ObservationRow& o : c.m.observations) http_measured = http_measured || o.http_measured;
  // OONI's probes say http-diff for any page unlike the control's, even when the
  // control's fetch failed or got a server error (5xx): then there was no page to tell
  // ours from, and the difference is no evidence. A block page a fingerprint knows has
  // decided the layer before this (http.fingerprint); one known only from other
  // countries (unconfirmed here) keeps http.diff.
  const bool diff_without_control_page = IsStr(blocking, "http-diff") && control.http_known &&
                                         (!control.http_ok || control.http_5xx) &&
                                         !c.http_unconfirmed;
  if (diff_without_control_page) c.Fail("web_connectivity.control_http_error");
  if (IsStr(blocking, "http-diff") && !diff_without_control_page) c.Fire(Rule::kHttpDiff);
  if (IsStr(blocking, "http-failure")) c.Fire(Rule::kHttpFailureControlOk);
  // The fetch failed here and at the control: the site is down for everyone.
  const bool down_everywhere =
      s.Str("http_experiment_failure") && control.http_known && !control.http_ok;
  if (s.Str("http_experiment_failure")) {
    if (!blocking_null && !blocking) c.Fire(Rule::kHttpFailureControlFailed);
    if (down_everywhere) c.Fire(Rule::kHttpFailureControlFailed);
  }
  if (!diff_without_control_page && (http_measured || IsTrue(s.Bool("accessible")))) {
    c.Fire(Rule::kHttpOk);
  }

  // OONI's probe leaves blocking null when it could not tell: no control, or the
  // control could not fetch the page either. OONI's aggregation fails both; with our
  // fetch failing too, the second is a site down for everyone
  // (http.failure_control_failed), which the verdict class says (classify.cc).
  if (blocking_null) c.Fail("web_connectivity.blocking_null");
}

}  // namespace vigil::analysis
