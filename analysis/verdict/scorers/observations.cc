// ScoreObservations: the rules every step of a measurement supports without a control
// (a failed lookup, connect, handshake or fetch; a bogon answer), for tests whose own
// keys leave layers undecided.
#include <algorithm>
#include <string_view>

#include "analysis/verdict/scorers/scorers.h"
#include "analysis/verdict/scoring.h"

namespace vigil::analysis {

void ScoreObservations(Scoring& c, const std::vector<std::string>& skip_hosts) {
  int dns_failed = 0, dns_ok = 0, tcp_failed = 0, tcp_ok = 0, tls_failed = 0, tls_ok = 0,
      http_failed = 0, http_ok = 0;
  bool bogon = false;
  bool tls_failed_any = false;
  // Names that resolved in some lookup: an empty answer to another query for them (the
  // AAAA query for a name with IPv4 addresses only) is not a failure.
  std::vector<std::string_view> resolved;
  for (const ObservationRow& o : c.m.observations) {
    if (o.dns_measured && !o.dns_failure && !o.dns_answers.empty()) resolved.push_back(o.hostname);
  }
  for (const ObservationRow& o : c.m.observations) {
    if (!skip_hosts.empty() && Contains(skip_hosts, o.hostname)) continue;
    if (o.dns_measured && o.dns_failure && *o.dns_failure == "dns_no_answer" &&
        std::find(resolved.begin(), resolved.end(), o.hostname) != resolved.end()) {
      // counted neither way
    } else if (o.dns_measured) {
      if (o.dns_failure) {
        ++dns_failed;
      } else {
        ++dns_ok;
      }
      for (size_t i = 0; i < o.dns_answers.size(); ++i) bogon = bogon || c.BogonAnswer(o, i);
    }
    if (o.tcp_success != Tri::kUnknown && !c.NoIpv6Route(o, o.tcp_failure)) {
      if (o.tcp_success == Tri::kYes) {
        ++tcp_ok;
      } else {
        ++tcp_failed;
      }
    }
    if (o.tls_measured) {
      if (o.tls_failure && !c.TlsAnswered(o)) {
        ++tls_failed;
        tls_failed_any = true;
      } else {
        ++tls_ok;
      }
    }
    // A fetch that had no route out (an IPv6 address on a machine without IPv6) was not
    // measured, as for connects.
    if (o.http_measured && !c.NoIpv6Route(o, o.http_failure)) {
      if (o.http_failure && !c.Ignored(o.http_failure) && !(tls_failed_any && o.tls_failure)) {
        ++http_failed;
      } else if (!o.http_failure || c.Ignored(o.http_failure)) {
        ++http_ok;
      }
    }
  }
  if (bogon) c.Fire(Rule::kDnsBogon);
  if (dns_failed > 0) c.Fire(Rule::kDnsFailure);
  if (dns_ok > 0) c.Fire(Rule::kDnsOk);
  if (tcp_failed > 0 && tcp_ok == 0) c.Fire(Rule::kTcpAllFailed);
  if (tcp_failed > 0) c.Fire(Rule::kTcpSomeFailed);
  if (tcp_ok > 0) c.Fire(Rule::kTcpOk);
  if (tls_failed > 0) c.Fire(Rule::kTlsFailure);
  if (tls_ok > 0) c.Fire(Rule::kTlsOk);
  if (http_failed > 0) c.Fire(Rule::kHttpFailure);
  if (http_ok > 0) c.Fire(Rule::kHttpOk);
}

}  // namespace vigil::analysis
