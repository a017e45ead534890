#include "analysis/truth/attribution.h"

#include <algorithm>
#include <set>
#include <string>
#include <tuple>
#include <utility>

#include "analysis/ingest/ingest.h"
#include "base/host_port.h"

namespace vigil::analysis {
namespace {

using Endpoint = std::pair<std::string, uint16_t>;  // canonical IP, port

// What a measurement touched, in the truth's terms.
struct Touched {
  std::set<std::string> dns_names;
  std::set<Endpoint> endpoints;  // connected to (TCP, TLS, the input's endpoint)
  std::set<std::string> ips;
  std::set<std::tuple<std::string, std::string, uint16_t>> tls;  // (server name, ip, port)
  std::set<std::pair<std::string, uint16_t>> http_hosts;         // (host, port) fetched
};

// The port a URL is fetched on: its own, else its scheme's.
uint16_t UrlPort(const std::string& url) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return 0;
  const std::string scheme = url.substr(0, scheme_end);
  std::string authority = url.substr(scheme_end + 3);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  const size_t colon = authority.rfind(':');
  if (colon != std::string::npos && authority.find(']', colon) == std::string::npos) {
    int port = 0;
    for (char ch : authority.substr(colon + 1)) {
      if (ch < '0' || ch > '9' || port > 65535) return 0;
      port = port * 10 + (ch - '0');
    }
    return port > 0 && port <= 65535 ? static_cast<uint16_t>(port) : 0;
  }
  if (scheme == "https") return 443;
  if (scheme == "http") return 80;
  return 0;
}

Touched TouchedBy(const ExtractedMeasurement& m) {
  Touched t;
  for (const ObservationRow& o : m.observations) {
    const std::string ip = CanonicalIp(o.ip);
    if (o.dns_measured) t.dns_names.insert(CanonicalName(o.hostname));
    if ((o.tcp_success != Tri::kUnknown || o.tls_measured) && !ip.empty()) {
      t.ips.insert(ip);
      if (o.port != 0) t.endpoints.insert({ip, o.port});
    }
    if (o.tls_measured) t.tls.insert({CanonicalName(o.tls_server_name), ip, o.port});
    if (o.http_measured) {
      t.http_hosts.insert({CanonicalName(UrlHost(o.http_url)), UrlPort(o.http_url)});
    }
  }
  // Experiments whose steps are not observation rows (STUN, a resolver checked
  // directly) name their endpoint in the input.
  const std::string& input = m.measurement.input;
  if (input.find("://") != std::string::npos) {
    if (auto url = ParseEndpointUrl(input, 0); url.ok()) {
      const std::string ip = CanonicalIp(url->endpoint.host);
      if (!ip.empty()) {
        t.ips.insert(ip);
        if (url->endpoint.port != 0) t.endpoints.insert({ip, url->endpoint.port});
      }
    }
  }
  return t;
}

bool Concerns(const CensorAct& act, const Touched& t) {
  if (!act.qname.empty()) return t.dns_names.count(act.qname) > 0;
  if (!act.sni.empty()) {
    // The same name at the flow's server, or at no recorded address.
    return t.tls.count({act.sni, act.flow.dst, act.flow.dport}) > 0 ||
           t.tls.count({act.sni, "", 0}) > 0;
  }
  // A Host header crossed the censor only on a plain-HTTP fetch to the flow's port (an
  // https fetch of the same name beside it carries no Host the censor can read).
  if (!act.host.empty()) return t.http_hosts.count({act.host, act.flow.dport}) > 0;
  if (act.flow.proto == "ip") return t.ips.count(act.flow.dst) > 0;
  return t.endpoints.count({act.flow.dst, act.flow.dport}) > 0;
}

}  // namespace

std::vector<size_t> ActsOn(const CensorTruth& truth, const ExtractedMeasurement& m) {
  const EnvelopeRow& e = m.measurement;
  const double runtime = e.test_runtime > 0 ? e.test_runtime : kRuntimeWhenUnknown;
  // The start is a whole second: the measurement began somewhere within it.
  const double from = static_cast<double>(e.start_time);
  const double to = from + 1 + runtime + kWindowSlackSeconds;
  std::vector<size_t> out;
  auto first = std::lower_bound(truth.acts.begin(), truth.acts.end(), from,
                                [](const CensorAct& a, double t) { return a.t < t; });
  if (first == truth.acts.end() || first->t > to) return out;
  const Touched touched = TouchedBy(m);
  for (auto it = first; it != truth.acts.end() && it->t <= to; ++it) {
    if (Concerns(*it, touched)) out.push_back(static_cast<size_t>(it - truth.acts.begin()));
  }
  return out;
}

}  // namespace vigil::analysis
