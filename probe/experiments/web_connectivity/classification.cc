#include "probe/experiments/web_connectivity/classification.h"

#include <algorithm>
#include <set>

#include "base/host_port.h"
#include "probe/experiments/common/dns_consistency.h"
#include "probe/net/failure.h"
#include "probe/net/trace.h"

namespace vigil {

namespace {

// OONI 0.4's x_status bits.
constexpr int64_t kStatusSuccessSecure = 1 << 0;
constexpr int64_t kStatusSuccessCleartext = 1 << 1;
constexpr int64_t kStatusSuccessNxdomain = 1 << 2;
constexpr int64_t kStatusAnomalyControlUnreachable = 1 << 3;
constexpr int64_t kStatusAnomalyControlFailure = 1 << 4;
constexpr int64_t kStatusAnomalyDns = 1 << 5;
constexpr int64_t kStatusAnomalyHttpDiff = 1 << 6;
constexpr int64_t kStatusAnomalyConnect = 1 << 7;
constexpr int64_t kStatusAnomalyReadWrite = 1 << 8;
constexpr int64_t kStatusAnomalyUnknown = 1 << 9;
constexpr int64_t kStatusAnomalyTlsHandshake = 1 << 10;
constexpr int64_t kStatusExperimentDns = 1 << 11;
constexpr int64_t kStatusExperimentConnect = 1 << 12;
constexpr int64_t kStatusExperimentHttp = 1 << 13;

// OONI 0.5's x_blocking_flags, x_dns_flags and x_null_null_flags bits.
constexpr int64_t kBlockingDns = 1, kBlockingTcpIp = 2, kBlockingTls = 4, kBlockingHttp = 8,
                  kBlockingHttpDiff = 16, kBlockingSuccess = 32;
constexpr int64_t kDnsBogon = 1, kDnsUnexpectedFailure = 2, kDnsUnexpectedAddrs = 4;
constexpr int64_t kDownNoAddrs = 1, kDownAllConnects = 2, kDownTls = 4;

// ts-017's constants. They are the specification's, not tunables: changing them
// would make our verdicts incomparable with OONI's.
constexpr double kBodyProportionFactor = 0.7;
constexpr size_t kMinTitleWordLength = 5;
const std::set<std::string>& CommonHeaders() {
  static const std::set<std::string> kCommon = {"date",
                                                "content-type",
                                                "server",
                                                "cache-control",
                                                "vary",
                                                "set-cookie",
                                                "location",
                                                "expires",
                                                "x-powered-by",
                                                "content-encoding",
                                                "last-modified",
                                                "accept-ranges",
                                                "pragma",
                                                "x-frame-options",
                                                "etag",
                                                "x-content-type-options",
                                                "age",
                                                "via",
                                                "p3p",
                                                "x-xss-protection",
                                                "content-language",
                                                "cf-ray",
                                                "strict-transport-security",
                                                "link",
                                                "x-varnish"};
  return kCommon;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool IsNxdomain(const FailureString& control_failure) {
  return control_failure &&
         (*control_failure == kControlNxdomain || *control_failure == "dns_nxdomain_error");
}

std::string IpOf(const std::string& endpoint) {
  auto hp = ParseHostPort(endpoint);
  return hp.ok() ? hp->host : endpoint;
}

// The control's view of one of the probe's endpoints, when it measured it.
const ControlTcpConnect* ControlConnect(const ControlResponse& control, const WebConnect& c) {
  auto it = control.tcp_connect.find(JoinHostPort(c.ip, c.port));
  return it == control.tcp_connect.end() ? nullptr : &it->second;
}

// The probe's connects set against the control's: a failed connect counts as blocked
// when the control connected to the same ip:port, as down when the control failed it.
struct ConnectCounts {
  size_t ok = 0, blocked = 0, down = 0;
  size_t no_ipv6 = 0;  // failed for want of an IPv6 route here: measured nothing
};

ConnectCounts CountConnects(const WebObservations& o) {
  ConnectCounts n;
  for (const auto& connect : o.connects) {
    if (connect.failure.empty()) {
      ++n.ok;
      continue;
    }
    // This machine has no IPv6: the connect measured nothing (the analyzer's
    // no_route_failures are left out the same way).
    if (IsNoIpv6Route(connect.ip, connect.failure)) {
      ++n.no_ipv6;
      continue;
    }
    const ControlTcpConnect* theirs = o.control ? ControlConnect(*o.control, connect) : nullptr;
    if (theirs && theirs->status) ++n.blocked;
    if (theirs && !theirs->status) ++n.down;
  }
  return n;
}

struct DnsJudgement {
  std::optional<std::string> consistency;
  int64_t flags = 0;
};

DnsJudgement JudgeDns(const WebObservations& o) {
  DnsJudgement j;
  if (!o.control) return j;
  if (IsIpLiteral(o.host)) {
    j.consistency = "consistent";
    return j;
  }
  const ControlDns& control = o.control->dns;
  const bool control_failed = control.failure.has_value();
  if (!o.dns_failure.empty() || o.addresses.empty()) {
    if (control_failed || control.addrs.empty()) {
      j.consistency = "consistent";
    } else {
      j.consistency = "inconsistent";
      j.flags |= kDnsUnexpectedFailure;
    }
    return j;
  }
  const std::set<std::string> theirs(control.addrs.begin(), control.addrs.end());
  const bool control_has_bogon =
      std::any_of(theirs.begin(), theirs.end(), [](const std::string& ip) { return IsBogon(ip); });
  if (!control_has_bogon) {
    for (const auto& ip : o.addresses) {
      if (IsBogon(ip) && !theirs.contains(ip)) j.flags |= kDnsBogon;
    }
  }
  if (j.flags & kDnsBogon) {
    j.consistency = "inconsistent";
    return j;
  }
  if (theirs.empty()) {
    j.consistency = "consistent";
    return j;
  }
  std::vector<std::string> probe_only;
  for (const auto& ip : o.addresses) {
    if (!theirs.contains(ip)) probe_only.push_back(ip);
  }
  if (probe_only.size() < o.addresses.size()) {
    j.consistency = "consistent";
    return j;
  }
  std::set<uint32_t> their_asns;
  for (const auto& ip : theirs) {
    if (auto it = o.asns.find(ip); it != o.asns.end() && it->second != 0) {
      their_asns.insert(it->second);
    }
  }
  for (const auto& ip : o.addresses) {
    if (auto it = o.asns.find(ip); it != o.asns.end() && their_asns.contains(it->second)) {
      j.consistency = "consistent";
      return j;
    }
  }
  std::set<std::string> verified;
  for (const auto& h : o.tls_handshakes) {
    if (h.failure.empty() && h.server_name == o.host) verified.insert(IpOf(h.address));
  }
  if (std::all_of(probe_only.begin(), probe_only.end(),
                  [&](const std::string& ip) { return verified.contains(ip); })) {
    j.consistency = "consistent";
    return j;
  }
  j.consistency = "inconsistent";
  j.flags |= kDnsUnexpectedAddrs;
  return j;
}

void CompareHttp(const WebObservations& o, WebClassification& c) {
  if (!o.control) return;
  const ControlHttpRequest& control = o.control->http_request;
  const WebFetch& f = o.fetch;
  if (f.hops == 0) return;

  // Body length: only whole bodies compare.
  if (control.body_length > 0 && !f.body_is_truncated && f.body_length > 0) {
    const double a = static_cast<double>(std::min(f.body_length, control.body_length));
    const double b = static_cast<double>(std::max(f.body_length, control.body_length));
    c.body_proportion = a / b;
    c.body_length_match = c.body_proportion > kBodyProportionFactor;
  }

  if (f.status_code > 0 && control.status_code > 0) {
    const bool equal = f.status_code == control.status_code;
    // A control 5xx says more about the site than about the probe's network.
    if (equal || control.status_code / 100 != 5) c.status_code_match = equal;
  }

  if (f.status_code > 0 && control.status_code > 0) {
    std::set<std::string> ours, theirs, ours_uncommon;
    for (const auto& [name, value] : f.headers) {
      const std::string n = Lower(name);
      ours.insert(n);
      if (!CommonHeaders().contains(n)) ours_uncommon.insert(n);
    }
    bool shared_uncommon = false;
    for (const auto& [name, value] : control.headers) {
      const std::string n = Lower(name);
      theirs.insert(n);
      if (ours_uncommon.contains(n)) shared_uncommon = true;
    }
    c.headers_match = ours == theirs || shared_uncommon;
  }

  if (f.status_code > 0 && !f.body_is_truncated && control.status_code > 0 && f.title &&
      !f.title->empty()) {
    std::map<std::string, int> words;  // 1: ours, 2: theirs
    auto add = [&words](const std::string& title, int side) {
      size_t start = 0;
      while (start <= title.size()) {
        size_t end = title.find(' ', start);
        if (end == std::string::npos) end = title.size();
        if (end - start >= kMinTitleWordLength)
          words[Lower(title.substr(start, end - start))] |= side;
        start = end + 1;
      }
    };
    add(*f.title, 1);
    add(control.title, 2);
    c.title_match =
        std::all_of(words.begin(), words.end(), [](const auto& w) { return w.second == 3; });
  }
}

std::string Verdict(bool ok, bool control_ok, bool have_control) {
  if (ok) return "ok";
  if (!have_control) return "unknown";
  return control_ok ? "blocked" : "down";
}

void JudgeLayers(const WebObservations& o, WebClassification& c) {
  const bool have_control = o.control.has_value();
  if (!IsIpLiteral(o.host)) {
    if (!c.dns_consistency) {
      c.x_dns_verdict = "unknown";
    } else if (*c.dns_consistency == "inconsistent") {
      c.x_dns_verdict = "blocked";
    } else {
      c.x_dns_verdict = o.dns_failure.empty() ? "ok" : "down";
    }
  }

  if (!o.connects.empty()) {
    const ConnectCounts n = CountConnects(o);
    if (n.ok > 0) {
      c.x_tcp_verdict = n.blocked > 0 ? "anomaly" : "ok";
    } else if (n.blocked > 0) {
      c.x_tcp_verdict = "blocked";
    } else if (n.down > 0) {
      c.x_tcp_verdict = "down";
    } else {
      c.x_tcp_verdict = n.no_ipv6 == o.connects.size() ? kNoIpv6Status : "unknown";
    }
  }

  if (!o.tls_handshakes.empty()) {
    bool ok = false, control_ok = false, control_measured = false;
    for (const auto& h : o.tls_handshakes) ok = ok || h.failure.empty();
    if (have_control) {
      for (const auto& [endpoint, h] : o.control->tls_handshake) {
        control_measured = true;
        control_ok = control_ok || h.status;
      }
    }
    c.x_tls_verdict = Verdict(ok, control_ok, control_measured);
  }

  const bool fetched = o.fetch.failure.empty();
  const bool control_fetched = have_control && !o.control->http_request.failure;
  if (fetched) {
    if (c.rule == "https_success" || c.rule == "http_match") {
      c.x_http_verdict = "ok";
    } else if (c.rule == "http_diff" || c.rule == "http_diff_dns") {
      c.x_http_verdict = "blocked";
    } else {
      c.x_http_verdict = "unknown";
    }
  } else {
    c.x_http_verdict = Verdict(false, control_fetched, have_control);
  }
}

void SetBlocking(WebClassification& c, const char* blocking, const char* rule) {
  c.accessible = false;
  c.blocking = blocking;
  c.rule = rule;
}

void SetAccessible(WebClassification& c, const char* rule) {
  c.accessible = true;
  c.blocking = false;
  c.rule = rule;
}

// OONI 0.5's "website down": not reached, and not for this network's fault.
void SetDown(WebClassification& c, const char* rule) {
  c.accessible = false;
  c.blocking = false;
  c.rule = rule;
}

void SetUndetermined(WebClassification& c, const char* rule) {
  c.accessible = std::nullopt;
  c.blocking = nullptr;
  c.rule = rule;
}

int64_t StatusOfFetchFailure(const std::string& failure) {
  if (failure == "connection_refused") return kStatusAnomalyConnect;
  if (failure == "connection_reset" || failure == "eof_error") return kStatusAnomalyReadWrite;
  if (failure == "dns_nxdomain_error") return kStatusAnomalyDns;
  if (failure == "generic_timeout_error") return kStatusAnomalyUnknown;
  if (failure.rfind("ssl_", 0) == 0) return kStatusAnomalyTlsHandshake;
  return 0;
}

void Decide(const WebObservations& o, WebClassification& c) {
  const WebFetch& f = o.fetch;
  const bool inconsistent = c.dns_consistency == "inconsistent";

  if (f.hops > 0 && f.failure.empty() && f.final_url.rfind("https://", 0) == 0) {
    // A verified TLS session with the site: whatever else differs, it was reached.
    c.x_status |= kStatusSuccessSecure;
    return SetAccessible(c, "https_success");
  }
  if (!o.control) {
    c.x_status |= kStatusAnomalyControlUnreachable;
    return SetUndetermined(c, "control_failure");
  }
  if (o.dns_failure == "dns_nxdomain_error" && IsNxdomain(o.control->dns.failure)) {
    c.x_status |= kStatusSuccessNxdomain | kStatusExperimentDns;
    return SetAccessible(c, "nxdomain_both");
  }
  if (!o.dns_failure.empty() && inconsistent) {
    c.x_status |= kStatusAnomalyDns | kStatusExperimentDns;
    return SetBlocking(c, "dns", "dns_failure");
  }
  const ConnectCounts connects = CountConnects(o);
  if (!o.connects.empty() && connects.ok == 0) {
    if (inconsistent) {
      c.x_status |= kStatusAnomalyConnect | kStatusExperimentConnect | kStatusAnomalyDns;
      return SetBlocking(c, "dns", "connect_failed_dns");
    }
    // The control failed to connect to these addresses too and connected to none of
    // them: the site is down for everyone, not blocked here.
    if (connects.blocked == 0 && connects.down > 0) {
      c.x_status |= kStatusExperimentConnect;
      return SetDown(c, "connect_failed_down");
    }
    c.x_status |= kStatusAnomalyConnect | kStatusExperimentConnect;
    return SetBlocking(c, "tcp_ip", "connect_failed");
  }
  if (o.control->http_request.failure) {
    c.x_status |= kStatusAnomalyControlFailure;
    return SetUndetermined(c, "control_http_failure");
  }
  if (!f.failure.empty()) {
    c.x_status |= kStatusExperimentHttp | StatusOfFetchFailure(f.failure);
    if ((inconsistent && f.hops <= 1) || f.failure.rfind("dns_", 0) == 0) {
      c.x_status |= kStatusAnomalyDns;
      return SetBlocking(c, "dns", "http_failure_dns");
    }
    return SetBlocking(c, "http-failure", "http_failure");
  }
  if (c.status_code_match == true &&
      (c.body_length_match == true || c.headers_match == true || c.title_match == true)) {
    c.x_status |= kStatusSuccessCleartext;
    return SetAccessible(c, "http_match");
  }
  if (inconsistent) {
    c.x_status |= kStatusAnomalyHttpDiff | kStatusAnomalyDns;
    return SetBlocking(c, "dns", "http_diff_dns");
  }
  c.x_status |= kStatusAnomalyHttpDiff;
  // The site answered the control with a server error: there is no page to tell ours
  // from, so a difference is no evidence. OONI's keys still say http-diff, as OONI
  // computes them; our judgement is the rule (x_blocking_rule), which the run's
  // verdict and the analyzer read.
  if (o.control->http_request.status_code / 100 == 5) {
    return SetBlocking(c, "http-diff", "control_http_5xx");
  }
  return SetBlocking(c, "http-diff", "http_diff");
}

int64_t BlockingFlags(const WebClassification& c, const WebObservations& o) {
  if (c.blocking.is_boolean()) return c.accessible == true ? kBlockingSuccess : 0;
  if (!c.blocking.is_string()) return 0;
  const std::string b = c.blocking.get<std::string>();
  if (b == "dns") return kBlockingDns;
  if (b == "tcp_ip") return kBlockingTcpIp;
  if (b == "http-diff") return kBlockingHttpDiff;
  return o.fetch.failed_operation == "tls_handshake" ? kBlockingTls : kBlockingHttp;
}

int64_t NullNullFlags(const WebObservations& o) {
  if (!o.control) return 0;
  int64_t flags = 0;
  if (o.addresses.empty() && o.control->dns.addrs.empty() && o.control->tcp_connect.empty()) {
    flags |= kDownNoAddrs;
  }
  if (!o.connects.empty() && !o.control->tcp_connect.empty() &&
      std::all_of(o.connects.begin(), o.connects.end(), [&](const WebConnect& w) {
        const ControlTcpConnect* theirs = ControlConnect(*o.control, w);
        return !w.failure.empty() && theirs && !theirs->status;
      })) {
    flags |= kDownAllConnects;
  }
  if (!o.tls_handshakes.empty() && !o.control->tls_handshake.empty() &&
      std::all_of(o.tls_handshakes.begin(), o.tls_handshakes.end(), [&](const WebTlsHandshake& h) {
        auto it = o.control->tls_handshake.find(h.address);
        return !h.failure.empty() && it != o.control->tls_handshake.end() && it->second.failure &&
               *it->second.failure == h.failure;
      })) {
    flags |= kDownTls;
  }
  return flags;
}

template <typename T>
Json OrNull(const std::optional<T>& v) {
  return v ? Json(*v) : Json();
}

Json FailureOrNull(const std::string& failure) { return failure.empty() ? Json() : Json(failure); }

}  // namespace

std::string CanonicalHeaderName(std::string_view name) {
  std::string out(name);
  bool upper = true;
  for (char& ch : out) {
    if (upper && ch >= 'a' && ch <= 'z') ch = static_cast<char>(ch - 'a' + 'A');
    if (!upper && ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
    upper = ch == '-';
  }
  return out;
}

WebClassification ClassifyWebConnectivity(const WebObservations& o) {
  WebClassification c;
  const DnsJudgement dns = JudgeDns(o);
  c.dns_consistency = dns.consistency;
  c.x_dns_flags = dns.flags;
  CompareHttp(o, c);
  Decide(o, c);
  c.x_blocking_flags = BlockingFlags(c, o);
  // OONI 0.5 explains its null results, and the "website down" ones they turn into.
  if (c.blocking.is_null() || (c.blocking == false && c.accessible == false)) {
    c.x_null_null_flags = NullNullFlags(o);
  }
  JudgeLayers(o, c);
  return c;
}

Json WebConnectivityKeys(const WebObservations& o, const WebClassification& c) {
  Json k = Json::object();
  k["dns_experiment_failure"] = FailureOrNull(o.dns_failure);
  k["dns_consistency"] = OrNull(c.dns_consistency);
  k["control_failure"] = o.control ? Json() : FailureOrNull(o.control_failure);
  k["control"] = o.control ? ToJson(*o.control) : Json();
  k["http_experiment_failure"] = FailureOrNull(o.fetch.failure);
  k["body_length_match"] = OrNull(c.body_length_match);
  k["body_proportion"] = c.body_proportion;
  k["status_code_match"] = OrNull(c.status_code_match);
  k["headers_match"] = OrNull(c.headers_match);
  k["title_match"] = OrNull(c.title_match);
  k["accessible"] = OrNull(c.accessible);
  k["blocking"] = c.blocking;
  k["x_status"] = c.x_status;
  k["x_blocking_flags"] = c.x_blocking_flags;
  k["x_dns_flags"] = c.x_dns_flags;
  k["x_null_null_flags"] = c.x_null_null_flags;
  k["x_blocking_rule"] = c.rule;
  k["x_dns_verdict"] = OrNull(c.x_dns_verdict);
  k["x_tcp_verdict"] = OrNull(c.x_tcp_verdict);
  k["x_tls_verdict"] = OrNull(c.x_tls_verdict);
  k["x_http_verdict"] = OrNull(c.x_http_verdict);
  return k;
}

}  // namespace vigil
