#include "probe/experiments/common/messaging_control.h"

#include <algorithm>
#include <asio/this_coro.hpp>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "base/host_port.h"
#include "probe/experiments/common/dns_consistency.h"
#include "probe/experiments/web_connectivity/control_client.h"
#include "probe/experiments/web_connectivity/web_connectivity.h"
#include "probe/http/url.h"
#include "probe/net/failure.h"

namespace vigil {

namespace {

// What a DNS answer judged inconsistent says in x_failures: its answers lied, which
// no lookup of the control's can confirm or refute.
constexpr std::string_view kDnsInconsistent = "dns_inconsistent";

// The handshake reached the server, which sent a certificate that did not verify.
bool IsCertificateFailure(const FailureString& f) {
  return f && (*f == "ssl_invalid_hostname" || *f == "ssl_unknown_authority" ||
               *f == "ssl_invalid_certificate");
}

bool IsLookup(const StepFailure& f) {
  return f.operation == "resolve" || f.operation == "dns_round_trip";
}

template <typename T>
void AddOnce(std::vector<T>& list, const T& value) {
  if (std::find(list.begin(), list.end(), value) == list.end()) list.push_back(value);
}

template <typename T>
bool Has(const std::vector<T>& list, const T& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

// The addresses the control connected to for `e`: the probe's and, for a name, its own.
std::vector<std::string> ControlAddresses(const ControlEndpoint& e,
                                          const ControlEndpointsAnswer& answer) {
  std::vector<std::string> out;
  for (const auto& ip : e.addrs) AddOnce(out, ip);
  if (!IsIpLiteral(e.host)) {
    if (auto d = answer.dns.find(e.host); d != answer.dns.end()) {
      for (const auto& ip : d->second.addrs) AddOnce(out, ip);
    }
  } else if (out.empty()) {
    out.push_back(e.host);
  }
  return out;
}

struct StepOutcome {
  std::string_view control = kControlNotMeasured;
  FailureString failure;
};

StepOutcome Judge(const StepFailure& f, const ControlEndpoint& e,
                  const ControlEndpointsAnswer& answer) {
  StepOutcome out;
  if (IsLookup(f)) {
    auto d = answer.dns.find(f.host);
    if (d == answer.dns.end()) return out;
    if (!d->second.failure && !d->second.addrs.empty()) return StepOutcome{kControlOk, {}};
    out.failure = d->second.failure.value_or("dns_no_answer");
    // A name that does not exist here (a censor forges NXDOMAIN) must not exist there
    // either: a lookup that merely failed at the helper says nothing of it.
    const bool no_name_there = !d->second.failure || *d->second.failure == kControlNxdomain ||
                               *d->second.failure == "dns_nxdomain_error";
    const bool same = f.failure != "dns_nxdomain_error" || no_name_there;
    out.control = same ? kControlFailedToo : kControlOk;
    return out;
  }
  bool measured = false, connected = false;
  FailureString connect_failure;
  const std::vector<std::string> addresses = ControlAddresses(e, answer);
  for (const auto& ip : addresses) {
    auto c = answer.tcp_connect.find(JoinHostPort(ip, f.port));
    if (c == answer.tcp_connect.end()) continue;
    measured = true;
    connected = connected || c->second.status;
    if (!c->second.status && !connect_failure) connect_failure = c->second.failure;
  }
  if (!measured) return out;
  if (!connected) return StepOutcome{kControlFailedToo, connect_failure};
  if (f.operation == "connect" || !Has(e.tls_ports, f.port)) return StepOutcome{kControlOk, {}};
  const std::string& name = e.sni.empty() ? e.host : e.sni;
  bool handshaken = false, tried = false, answered = false;
  FailureString tls_failure;
  for (const auto& ip : addresses) {
    auto h = answer.tls_handshake.find(JoinHostPort(ip, f.port));
    if (h == answer.tls_handshake.end()) continue;
    auto by_name = h->second.find(name);
    if (by_name == h->second.end()) continue;
    const ControlTlsHandshake& handshake = by_name->second;
    tried = true;
    handshaken = handshaken || handshake.status;
    if (handshake.status) continue;
    if (!tls_failure) tls_failure = handshake.failure;
    // A certificate the helper could not verify (its CA store is not the probe's) came
    // from a server that answered, unless it failed the probe's check the same way.
    if (IsCertificateFailure(handshake.failure) && handshake.failure != f.failure) answered = true;
  }
  if (handshaken) return StepOutcome{kControlOk, {}};
  if (!tried) return out;
  return StepOutcome{answered ? kControlOk : kControlFailedToo, tls_failure};
}

Json FailureJson(const FailureString& f) { return f ? Json(*f) : Json(); }

struct ControlAnswer {
  std::optional<ControlEndpointsAnswer> endpoints;
  std::string failure;
};

// The helper's answer to the x_endpoints request.
asio::awaitable<ControlAnswer> AskHelper(const ExperimentContext& context,
                                         const ControlRequest& request) {
  ControlAnswer out;
  ControlOutcome asked = co_await AskControlHelper(context, request);
  if (!asked.failure.empty()) {
    out.failure = std::move(asked.failure);
  } else if (!asked.response->x_endpoints) {
    // A helper that does not speak x_endpoints (OONI's).
    out.failure = UnknownFailure("the helper answered without x_endpoints");
  } else {
    out.endpoints = std::move(asked.response->x_endpoints);
  }
  co_return out;
}

}  // namespace

std::vector<ControlEndpoint> ControlEndpointsFor(const std::vector<StepFailure>& failures,
                                                 const TestKeys& keys,
                                                 const ExperimentContext& context) {
  // name → the addresses its lookups answered, in order.
  std::map<std::string, std::vector<std::string>> answers;
  for (const auto& q : keys.queries) {
    for (const auto& a : q.answers) {
      if (a.ipv4) AddOnce(answers[q.hostname], *a.ipv4);
      if (a.ipv6) AddOnce(answers[q.hostname], *a.ipv6);
    }
  }
  std::vector<ControlEndpoint> out;
  std::map<std::string, size_t> index;  // host → out
  for (const auto& f : failures) {
    if (f.failure == kDnsInconsistent) continue;
    auto it = index.find(f.host);
    if (it == index.end()) {
      if (out.size() >= kMaxControlEndpoints) continue;
      ControlEndpoint e;
      e.host = f.host;
      if (IsIpLiteral(f.host)) {
        e.addrs = {context.MapAddress(f.host)};
      } else if (auto a = answers.find(f.host); a != answers.end()) {
        e.addrs = a->second;
        if (e.addrs.size() > kMaxControlEndpointAddrs) e.addrs.resize(kMaxControlEndpointAddrs);
      }
      it = index.emplace(f.host, out.size()).first;
      out.push_back(std::move(e));
    }
    ControlEndpoint& e = out[it->second];
    if (IsLookup(f) || f.port == 0) continue;
    if (!Has(e.ports, f.port)) {
      if (e.ports.size() >= kMaxControlEndpointPorts) continue;
      e.ports.push_back(f.port);
    }
    // TLS where the probe handshook on this port, with the name it sent.
    std::string sni;
    bool handshook = f.operation == "tls_handshake";
    for (const auto& h : keys.tls_handshakes) {
      auto hp = ParseHostPort(h.address);
      if (!hp.ok() || hp->port != f.port || !Has(e.addrs, hp->host)) continue;
      handshook = true;
      if (sni.empty()) sni = h.server_name;
    }
    if (!handshook) continue;
    AddOnce(e.tls_ports, f.port);
    if (e.sni.empty() && !sni.empty() && sni != e.host) e.sni = sni;
  }
  return out;
}

Json ControlSteps(const std::vector<StepFailure>& failures,
                  const std::vector<ControlEndpoint>& asked, const ControlEndpointsAnswer& answer) {
  Json steps = Json::array();
  for (const auto& f : failures) {
    StepOutcome outcome;
    auto e = std::find_if(asked.begin(), asked.end(),
                          [&f](const ControlEndpoint& a) { return a.host == f.host; });
    if (f.failure != kDnsInconsistent && e != asked.end() &&
        (IsLookup(f) || Has(e->ports, f.port))) {
      outcome = Judge(f, *e, answer);
    }
    Json step = ToJson(f);
    step["control"] = std::string(outcome.control);
    step["control_failure"] = FailureJson(outcome.failure);
    steps.push_back(std::move(step));
  }
  return steps;
}

asio::awaitable<void> AddMessagingControl(const ExperimentContext& context, Measurement& m) {
  if (context.helper_url.empty()) co_return;
  Json& keys = m.test_keys.extra;
  const std::vector<StepFailure> failures =
      StepFailuresFromJson(keys.value("x_failures", Json::array()));
  ControlRequest request;
  request.x_endpoints = ControlEndpointsFor(failures, m.test_keys, context);
  if (request.x_endpoints.empty()) co_return;
  const ControlAnswer answer = co_await AskHelper(context, request);
  if (!answer.endpoints) {
    keys["x_control"] = nullptr;
    keys["x_control_failure"] = answer.failure;
  } else {
    Json control = ToJson(*answer.endpoints);
    control["steps"] = ControlSteps(failures, request.x_endpoints, *answer.endpoints);
    keys["x_control"] = std::move(control);
    keys["x_control_failure"] = nullptr;
  }
  // As web_connectivity names its helper.
  if (auto helper = ParseUrl(context.helper_url); helper.ok() && m.test_helpers.is_null()) {
    m.test_helpers = Json{{"backend", {{"address", context.helper_url}, {"type", helper->scheme}}}};
  }
}

bool ControlFailedEveryStep(const Json& keys) {
  if (HasInconsistentDns(keys)) return false;
  auto control = keys.find("x_control");
  auto failures = keys.find("x_failures");
  if (control == keys.end() || !control->is_object() || failures == keys.end() ||
      !failures->is_array()) {
    return false;
  }
  auto steps = control->find("steps");
  if (steps == control->end() || !steps->is_array() || steps->empty() ||
      steps->size() != failures->size()) {
    return false;
  }
  return std::all_of(steps->begin(), steps->end(), [](const Json& s) {
    return s.is_object() && s.value("control", "") == kControlFailedToo;
  });
}

}  // namespace vigil
