#include "probe/experiments/residual_blocking/residual_blocking.h"

#include <algorithm>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>

#include "base/host_port.h"
#include "probe/dns/dns_observer.h"
#include "probe/experiments/common/residual_block.h"
#include "probe/experiments/common/sni_endpoint_input.h"
#include "probe/measurement/envelope.h"
#include "probe/measurement/measurement_json.h"
#include "probe/net/trace.h"
#include "probe/tcp/tcp_observer.h"
#include "probe/tls/tls_observer.h"

namespace vigil {

namespace {

// The server answered with its certificate, whether or not it names the SNI.
std::optional<std::string> Worked(const std::string& failure) {
  if (failure.empty() || failure == "ssl_invalid_hostname") return std::nullopt;
  return failure;
}

// One TCP connect and TLS handshake to ip:port with `sni`, recorded in `trace`: the
// failure ("" when the server answered).
asio::awaitable<std::string> Handshake(Trace& trace, const std::string& ip, uint16_t port,
                                       const std::string& sni, const ExperimentContext& context) {
  const int64_t tid = trace.NextTransactionId();
  auto connected = co_await ObserveTcpConnect(trace, ip, port, tid, context.timeout);
  if (!connected.socket) co_return connected.failure;
  TlsOptions tls;
  tls.sni = sni;
  tls.alpn = {"h2", "http/1.1"};
  tls.ca_file = context.ca_file;
  tls.timeout = context.timeout;
  TlsOutcome outcome = co_await ObserveTlsHandshake(trace, std::move(*connected.socket),
                                                    JoinHostPort(ip, port), tls, tid);
  if (outcome.stream) {
    std::error_code ignored;
    outcome.stream->lowest_layer().close(ignored);
  }
  co_return outcome.failure;
}

// Seconds to the millisecond: finer is the clock's noise, not the network's.
double Ms(double seconds) { return std::round(seconds * 1000) / 1000; }

Json FailureJson(const std::optional<std::string>& failure) {
  return failure ? Json(*failure) : Json();
}

std::string Seconds(double s) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", s);
  std::string out = text;
  if (out.size() > 2 && out.compare(out.size() - 2, 2, ".0") == 0) out.resize(out.size() - 2);
  return out;
}

}  // namespace

bool IsTriggerFailure(const std::optional<std::string>& failure) {
  return failure && (*failure == "connection_reset" || *failure == "generic_timeout_error" ||
                     *failure == "eof_error");
}

ResidualJudgement JudgeResidual(const ResidualSteps& steps) {
  if (!steps.before_ran || steps.before_failure) {
    return {"inconclusive", std::nullopt,
            "the control handshake before the trigger failed" +
                (steps.before_failure ? " (" + *steps.before_failure + ")" : std::string()) +
                ": the address is not reachable"};
  }
  if (!steps.trigger_ran || !IsTriggerFailure(steps.trigger_failure)) {
    return {"not_triggered", std::nullopt,
            steps.trigger_failure ? "the trigger failed with " + *steps.trigger_failure +
                                        ", which is not a reset, a timeout or a close"
                                  : "the trigger's handshake worked"};
  }
  for (size_t i = 0; i < steps.retests.size(); ++i) {
    if (steps.retests[i].failure) continue;
    const double seconds = steps.retests[i].t - steps.trigger_t;
    if (i == 0) {
      return {"no_residual", std::nullopt,
              "the first re-test, " + Seconds(seconds) + " s after the trigger, worked"};
    }
    return {"residual", Ms(seconds),
            "the first working re-test began " + Seconds(seconds) + " s after the trigger"};
  }
  if (steps.retests.empty()) {
    return {"inconclusive", std::nullopt, "no re-test was made within the bound"};
  }
  if (steps.bound_reached) {
    return {"residual", std::nullopt,
            "every re-test failed until the bound: the block lasts at least as long"};
  }
  return {"inconclusive", std::nullopt, "the re-tests stopped before one worked"};
}

asio::awaitable<Result<Measurement>> ResidualBlockingExperiment::Run(
    const ExperimentContext& context, const Json& input) const {
  auto executor = co_await asio::this_coro::executor;
  auto parsed = ParseSniEndpointInput(input);
  if (!parsed.ok()) co_return Error{"residual_blocking: " + parsed.error()};
  const uint16_t port = parsed->endpoint.port;

  Measurement m =
      NewMeasurement(kResidualBlockingName, kResidualBlockingVersion, parsed->raw.target);
  Trace trace;
  ResidualSteps steps;
  std::string ip;
  std::string lookup_failure;
  if (IsIpLiteral(parsed->endpoint.host)) {
    ip = context.MapAddress(parsed->endpoint.host);
  } else {
    DnsObserver dns(executor, context.resolver, context.timeout);
    LookupResult found = co_await dns.Lookup(trace, parsed->endpoint.host);
    if (!found.addresses.empty()) ip = found.addresses.front();
    lookup_failure = found.failure.empty() ? "dns_no_answer" : found.failure;
  }

  Json retests = Json::array();
  if (!ip.empty()) {
    steps.before_ran = true;
    steps.before_failure =
        Worked(co_await Handshake(trace, ip, port, parsed->control_sni, context));
  } else {
    steps.before_failure = lookup_failure;
  }
  if (steps.before_ran && !steps.before_failure) {
    steps.trigger_ran = true;
    steps.trigger_failure = Worked(co_await Handshake(trace, ip, port, parsed->sni, context));
    steps.trigger_t = Ms(trace.Now());
    const auto trigger_end = Trace::Clock::now();
    if (IsTriggerFailure(steps.trigger_failure) && context.sni_triggers) {
      context.sni_triggers->Record(
          {parsed->sni, JoinHostPort(ip, port), *steps.trigger_failure, trigger_end});
    }
    const auto interval =
        std::max(context.injection.residual_interval, std::chrono::milliseconds(1));
    asio::steady_timer timer(executor);
    for (int k = 1; IsTriggerFailure(steps.trigger_failure); ++k) {
      const auto due = trigger_end + k * interval;
      if (due - trigger_end > context.injection.residual_bound) {
        steps.bound_reached = true;
        break;
      }
      if (Trace::Clock::now() < due) {
        timer.expires_at(due);
        std::error_code ignored;
        co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
      }
      ResidualSteps::Retest retest;
      retest.t = Ms(trace.Now());
      retest.failure = Worked(co_await Handshake(trace, ip, port, parsed->control_sni, context));
      steps.retests.push_back(retest);
      if (!retest.failure) break;
    }
  }

  const ResidualJudgement judgement = JudgeResidual(steps);
  Json keys = Json::object();
  keys["address"] = ip.empty() ? parsed->endpoint_text : JoinHostPort(ip, port);
  keys["sni"] = parsed->sni;
  keys["control_sni"] = parsed->control_sni;
  keys["before"] = Json{{"failure", FailureJson(steps.before_failure)}};
  keys["trigger"] = steps.trigger_ran ? Json{{"t", steps.trigger_t},
                                             {"failure", FailureJson(steps.trigger_failure)}}
                                      : Json();
  for (const auto& r : steps.retests) {
    retests.push_back(Json{{"t", r.t}, {"failure", FailureJson(r.failure)}});
  }
  keys["retests"] = std::move(retests);
  keys["residual_seconds"] =
      judgement.residual_seconds ? Json(*judgement.residual_seconds) : Json();
  keys["bound_reached"] = steps.bound_reached;
  keys["verdict"] = judgement.verdict;
  keys["x_reason"] = judgement.reason;
  keys["x_residual_interval"] =
      std::chrono::duration<double>(context.injection.residual_interval).count();
  keys["x_residual_bound"] =
      std::chrono::duration<double>(context.injection.residual_bound).count();

  m.test_runtime = trace.Now();
  m.test_keys = std::move(trace.keys());
  m.test_keys.extra = std::move(keys);
  co_return m;
}

RunSummary ResidualBlockingExperiment::Summarize(const Measurement& measurement) const {
  const Json& k = measurement.test_keys.extra;
  RunSummary s;
  s.service =
      measurement.input.is_string() ? measurement.input.get<std::string>() : kResidualBlockingName;
  const std::string verdict = k.value("verdict", std::string());
  const std::string reason = k.value("x_reason", std::string());
  const std::string address = k.value("address", std::string());
  const Json trigger = k.value("trigger", Json());
  const std::string trigger_failure = trigger.is_object() && trigger["failure"].is_string()
                                          ? trigger["failure"].get<std::string>()
                                          : "";
  const std::string after = " after the trigger (SNI " + k.value("sni", std::string()) + " at " +
                            address + ": " + trigger_failure + ")";
  if (verdict == "residual") {
    s.verdict = RunVerdict::kBlocked;
    s.blocking = "tls";
    if (k["residual_seconds"].is_number()) {
      s.evidence = "residual block of " + Seconds(k["residual_seconds"].get<double>()) + " s" +
                   after + ", to within " + Seconds(k.value("x_residual_interval", 0.0)) + " s";
    } else {
      s.evidence = "residual block of at least " + Seconds(k.value("x_residual_bound", 0.0)) +
                   " s" + after + ": the bound was reached, every re-test failed";
    }
  } else if (verdict == "no_residual") {
    s.verdict = RunVerdict::kBlocked;
    s.blocking = "tls";
    s.evidence = "no residual block" + after + ": " + reason;
  } else if (verdict == "not_triggered") {
    s.verdict = trigger_failure.empty() ? RunVerdict::kOk : RunVerdict::kAnomaly;
    s.evidence = "not triggered: " + reason;
  } else {
    s.verdict = RunVerdict::kError;
    s.evidence = "inconclusive: " + reason;
  }
  return s;
}

// How the registry makes one: experiments.def lists it.
std::unique_ptr<Experiment> MakeResidualBlockingExperiment() {
  return std::make_unique<ResidualBlockingExperiment>();
}

}  // namespace vigil
