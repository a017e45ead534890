#include "probe/experiments/sni_blocking/sni_blocking.h"

#include <algorithm>
#include <asio/this_coro.hpp>
#include <chrono>
#include <cstdio>
#include <memory>
#include <vector>

#include "base/host_port.h"
#include "probe/dns/dns_observer.h"
#include "probe/experiments/common/residual_block.h"
#include "probe/experiments/common/sni_endpoint_input.h"
#include "probe/experiments/common/step_failure.h"
#include "probe/measurement/envelope.h"
#include "probe/measurement/measurement_json.h"
#include "probe/net/trace.h"
#include "probe/tcp/tcp_observer.h"
#include "probe/tls/tls_observer.h"

namespace vigil {

namespace {

constexpr char kInvalidHostname[] = "ssl_invalid_hostname";

// A handshake that reached the server's certificate counts as success whether or not
// the certificate names the SNI: the helper need not serve the names we send.
bool HandshakeWorked(const std::optional<std::string>& failure) {
  return !failure || *failure == kInvalidHostname;
}

struct Handshake {
  std::string sni;
  std::unique_ptr<Trace> trace;
  std::string ip;  // the address that connected, or the one tried
  std::string failure;
  std::string failed_operation;
};

asio::awaitable<void> Measure(Handshake& h, const std::vector<std::string>& ips, uint16_t port,
                              const ExperimentContext& context) {
  Trace& trace = *h.trace;
  const int64_t tid = trace.NextTransactionId();
  std::optional<asio::ip::tcp::socket> socket;
  for (const auto& ip : ips) {
    h.ip = ip;
    auto connected = co_await ObserveTcpConnect(trace, ip, port, tid, context.timeout);
    if (connected.socket) {
      socket = std::move(connected.socket);
      break;
    }
    h.failure = connected.failure;
    h.failed_operation = "connect";
  }
  if (!socket) co_return;
  h.failure.clear();
  h.failed_operation.clear();
  TlsOptions tls;
  tls.sni = h.sni;
  tls.alpn = {"h2", "http/1.1"};
  tls.ca_file = context.ca_file;
  tls.timeout = context.timeout;
  TlsOutcome outcome =
      co_await ObserveTlsHandshake(trace, std::move(*socket), JoinHostPort(h.ip, port), tls, tid);
  if (outcome.stream) {
    std::error_code ignored;
    outcome.stream->lowest_layer().close(ignored);
  }
  h.failure = outcome.failure;
  if (!h.failure.empty()) h.failed_operation = "tls_handshake";
}

Json Subresult(Handshake& h, const std::string& th_address) {
  TestKeys& k = h.trace->keys();
  k.failure = AsFailure(h.failure);
  if (!h.failure.empty()) k.failed_operation = h.failed_operation;
  k.extra["sni"] = h.sni;
  k.extra["th_address"] = th_address;
  return ToJson(k);
}

bool StartsWith(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

// The classes where the target's failure, with the control working, is SNI blocking.
bool BlockedResult(const std::string& result) {
  return StartsWith(result, "interference.") || result == "anomaly.timeout";
}

// x_residual_block: the trigger the failed control is explained by, preferring one of
// the target's own SNI.
Json ResidualBlock(const std::vector<SniTriggerLog::Trigger>& triggers, const std::string& sni,
                   SniTriggerLog::Clock::time_point now) {
  if (triggers.empty()) return Json();
  auto it = std::find_if(triggers.begin(), triggers.end(),
                         [&sni](const SniTriggerLog::Trigger& t) { return t.sni == sni; });
  const SniTriggerLog::Trigger& t = it != triggers.end() ? *it : triggers.front();
  return Json{{"sni", t.sni},
              {"address", t.address},
              {"failure", t.failure},
              {"seconds_before", std::chrono::duration<double>(now - t.at).count()}};
}

}  // namespace

std::string SniBlockingResult(const std::optional<std::string>& target,
                              const std::optional<std::string>& control) {
  if (!target || *target == kInvalidHostname) return "success.got_server_hello";
  const std::string& f = *target;
  if (f == "connection_refused" || f == "dns_nxdomain_error") {
    return "anomaly.test_helper_unreachable";
  }
  if (f == "connection_reset") return "interference.reset";
  if (f == "eof_error") return "interference.closed";
  if (f == "generic_timeout_error") {
    return control ? "anomaly.test_helper_unreachable" : "anomaly.timeout";
  }
  if (f == "ssl_invalid_certificate") return "interference.invalid_certificate";
  if (f == "ssl_unknown_authority") return "interference.unknown_authority";
  return "anomaly.unexpected_failure";
}

std::string SniBlockingExtendedResult(const std::optional<std::string>& target,
                                      const std::optional<std::string>& control) {
  if (!HandshakeWorked(control)) return "anomaly.control." + *control;
  return SniBlockingResult(target, control);
}

RunVerdict SniBlockingVerdict(const Json& k) {
  const std::string x_result = k.value("x_result", std::string());
  const std::string result = k.value("result", std::string());
  if (x_result == kResidualBlockResult) return RunVerdict::kBlocked;
  // Without a working control the target's outcome says nothing about its SNI.
  if (StartsWith(x_result, "anomaly.control.")) return RunVerdict::kError;
  if (result == "success.got_server_hello") return RunVerdict::kOk;
  if (BlockedResult(result)) return RunVerdict::kBlocked;
  return RunVerdict::kAnomaly;
}

asio::awaitable<Result<Measurement>> SniBlockingExperiment::Run(const ExperimentContext& context,
                                                                const Json& input) const {
  auto executor = co_await asio::this_coro::executor;
  auto parsed = ParseSniEndpointInput(input);
  if (!parsed.ok()) co_return Error{"sni_blocking: " + parsed.error()};
  const std::string& target = parsed->sni;

  Measurement m = NewMeasurement(kSniBlockingName, kSniBlockingVersion, parsed->raw.target);
  const auto zero = Trace::Clock::now();
  Trace top(zero);
  Handshake control{parsed->control_sni, std::make_unique<Trace>(zero), "", "", ""};
  Handshake probe{target, std::make_unique<Trace>(zero), "", "", ""};

  std::vector<std::string> ips;
  if (IsIpLiteral(parsed->endpoint.host)) {
    ips.push_back(context.MapAddress(parsed->endpoint.host));
  } else {
    DnsObserver dns(executor, context.resolver, context.timeout);
    LookupResult found = co_await dns.Lookup(top, parsed->endpoint.host);
    ips = std::move(found.addresses);
    if (!found.failure.empty()) {
      for (Handshake* h : {&control, &probe}) {
        h->failure = found.failure;
        h->failed_operation = "resolve";
      }
    }
  }
  Json residual;
  if (!ips.empty()) {
    co_await Measure(control, ips, parsed->endpoint.port, context);
    if (!HandshakeWorked(AsFailure(control.failure)) && context.sni_triggers) {
      // Where a test SNI was blocked just before, the censor may still hold the
      // address:port whatever the content: the control met that residual block.
      const auto now = SniTriggerLog::Clock::now();
      residual = ResidualBlock(
          context.sni_triggers->Before(JoinHostPort(control.ip, parsed->endpoint.port), now),
          target, now);
    }
    // The target goes to the address the control reached, so both see the same server.
    const std::vector<std::string> same_ip = {control.ip};
    co_await Measure(probe, same_ip, parsed->endpoint.port, context);
    if (HandshakeWorked(AsFailure(control.failure)) && context.sni_triggers &&
        BlockedResult(SniBlockingResult(AsFailure(probe.failure), std::nullopt))) {
      context.sni_triggers->Record({target, JoinHostPort(probe.ip, parsed->endpoint.port),
                                    probe.failure, SniTriggerLog::Clock::now()});
    }
  }

  Json keys = Json::object();
  keys["control"] = Subresult(control, parsed->endpoint_text);
  keys["target"] = Subresult(probe, parsed->endpoint_text);
  const auto control_failure = AsFailure(control.failure);
  const auto target_failure = AsFailure(probe.failure);
  keys["result"] = SniBlockingResult(target_failure, control_failure);
  keys["x_result"] = SniBlockingExtendedResult(target_failure, control_failure);
  if (!residual.is_null()) {
    keys["x_residual_block"] = residual;
    if (residual["sni"] == target) keys["x_result"] = kResidualBlockResult;
  }
  Json failures = Json::array();
  for (const Handshake* h : {&control, &probe}) {
    if (HandshakeWorked(AsFailure(h->failure))) continue;
    failures.push_back(ToJson(StepFailure{h == &control ? "control " + h->sni : h->sni,
                                          parsed->endpoint.port, h->failed_operation, h->failure}));
  }
  keys["x_failures"] = std::move(failures);
  if (!context.resolver.ToString().empty()) keys["x_resolver"] = context.resolver.ToString();

  m.test_runtime = top.Now();
  m.test_keys = std::move(top.keys());
  m.test_keys.extra = std::move(keys);
  co_return m;
}

RunSummary SniBlockingExperiment::Summarize(const Measurement& measurement) const {
  const Json& k = measurement.test_keys.extra;
  const std::string service =
      measurement.input.is_string() ? measurement.input.get<std::string>() : kSniBlockingName;
  RunSummary s = SummarizeFailures(service, SniBlockingVerdict(k),
                                   StepFailuresFromJson(k.value("x_failures", Json::array())));
  if (s.verdict != RunVerdict::kOk)
    s.evidence = k.value("x_result", std::string()) + ": " + s.evidence;
  // No verdict about the SNI: no blocking type either.
  if (s.verdict == RunVerdict::kError) s.blocking.clear();
  if (auto it = k.find("x_residual_block"); it != k.end() && it->is_object()) {
    char seconds[32];
    std::snprintf(seconds, sizeof seconds, "%.0f", it->value("seconds_before", 0.0));
    const std::string trigger = it->value("sni", std::string());
    s.evidence += " (residual block: a handshake with SNI " + trigger + " at " +
                  it->value("address", std::string()) + " failed with " +
                  it->value("failure", std::string()) + " " + seconds + " s earlier in this run";
    if (s.verdict == RunVerdict::kBlocked) {
      s.blocking = "tls";
      s.evidence += ")";
    } else {
      s.evidence += ": no control for " + service + ")";
    }
  }
  return s;
}

// How the registry makes one: experiments.def lists it.
std::unique_ptr<Experiment> MakeSniBlockingExperiment() {
  return std::make_unique<SniBlockingExperiment>();
}

}  // namespace vigil
