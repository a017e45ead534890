#include "probe/experiments/messaging/messaging.h"

#include <algorithm>
#include <array>
#include <asio/this_coro.hpp>
#include <filesystem>
#include <map>
#include <memory>
#include <set>

#include "base/host_port.h"
#include "probe/dns/dns_observer.h"
#include "probe/experiments/common/dns_consistency.h"
#include "probe/experiments/common/experiment_input.h"
#include "probe/experiments/common/fetch.h"
#include "probe/experiments/common/mapped_addresses.h"
#include "probe/experiments/common/messaging_control.h"
#include "probe/experiments/common/service_verdict.h"
#include "probe/experiments/common/test_keys.h"
#include "probe/measurement/envelope.h"
#include "probe/net/concurrency.h"
#include "probe/net/failure.h"
#include "probe/net/trace.h"
#include "probe/tcp/tcp_observer.h"
#include "probe/tls/tls_observer.h"

namespace vigil {

namespace {

// One row being measured: what each of its steps came to.
struct RowState {
  MessagingEndpoint row;
  std::array<std::optional<StepFailure>, 4> results;  // by MessagingStep
  std::optional<int> http_status;
  std::array<bool, 4> no_ipv6{};  // by MessagingStep: failed for want of an IPv6 route only

  std::optional<StepFailure>& result(MessagingStep step) {
    return results[static_cast<size_t>(step)];
  }
  bool& not_measured(MessagingStep step) { return no_ipv6[static_cast<size_t>(step)]; }
};

// How connecting (and, when asked, handshaking) to one port of an endpoint went over
// its addresses: done at the first address where every asked-for layer succeeded.
struct Connection {
  bool connected = false;
  // The first one, when no address accepted; one for want of an IPv6 route only when
  // no address failed otherwise (then no_ipv6).
  std::string connect_failure;
  bool no_ipv6 = false;
  bool handshaken = false;
  std::string tls_failure;  // the first one, when no handshake completed
};

asio::awaitable<Connection> Connect(Trace& trace, const ExperimentContext& context,
                                    const std::string& endpoint,
                                    const std::vector<std::string>& addresses, uint16_t port,
                                    bool tls) {
  Connection c;
  std::string no_route;
  for (const auto& ip : addresses) {
    const int64_t tid = trace.NextTransactionId();
    auto connected = co_await ObserveTcpConnect(trace, ip, port, tid, context.timeout);
    if (!connected.socket) {
      if (IsNoIpv6Route(ip, connected.failure)) {
        if (no_route.empty()) no_route = connected.failure;
      } else if (c.connect_failure.empty()) {
        c.connect_failure = connected.failure;
      }
      continue;
    }
    c.connected = true;
    if (!tls) break;
    TlsOptions options;
    // An IP literal is verified as FetchUrl verifies it: against the address contacted.
    options.sni = IsIpLiteral(endpoint) ? ip : endpoint;
    options.ca_file = context.ca_file;
    options.timeout = context.timeout;
    TlsOutcome handshake = co_await ObserveTlsHandshake(trace, std::move(*connected.socket),
                                                        JoinHostPort(ip, port), options, tid);
    if (handshake.stream) {
      c.handshaken = true;
      break;
    }
    if (c.tls_failure.empty()) c.tls_failure = handshake.failure;
  }
  if (!c.connected && c.connect_failure.empty() && !no_route.empty()) {
    c.connect_failure = no_route;
    c.no_ipv6 = true;
  }
  if (!c.connected && c.connect_failure.empty()) c.connect_failure = "unknown_failure: no address";
  co_return c;
}

// The dns, tcp and tls steps of every row of one endpoint, over one lookup. The TLS
// step needs the socket its connect opened, which EndpointSweep closes: hence a
// loop of our own rather than a sweep.
asio::awaitable<void> MeasureEndpoint(Trace& trace, DnsObserver& dns,
                                      const ExperimentContext& context, std::string endpoint,
                                      std::vector<RowState*> rows) {
  std::vector<std::string> addresses;
  std::optional<StepFailure> resolve_failure;
  if (IsIpLiteral(endpoint)) {
    addresses.push_back(context.MapAddress(endpoint));
  } else {
    LookupResult lookup = co_await dns.Lookup(trace, endpoint);
    addresses = std::move(lookup.addresses);
    if (lookup.failure.empty() && addresses.empty()) lookup.failure = "dns_no_answer";
    if (!lookup.failure.empty())
      resolve_failure = StepFailure{endpoint, 0, "resolve", lookup.failure};
  }
  for (RowState* state : rows) {
    const MessagingEndpoint& row = state->row;
    if (row.Has(MessagingStep::kDns)) state->result(MessagingStep::kDns) = resolve_failure;
    const bool tcp = row.Has(MessagingStep::kTcp), tls = row.Has(MessagingStep::kTls);
    if (!tcp && !tls) continue;
    if (resolve_failure) {
      if (tcp) state->result(MessagingStep::kTcp) = resolve_failure;
      if (tls) state->result(MessagingStep::kTls) = resolve_failure;
      continue;
    }
    const Connection c = co_await Connect(trace, context, endpoint, addresses, row.port, tls);
    const std::optional<StepFailure> connect_failure =
        c.connected ? std::nullopt
                    : std::optional(StepFailure{endpoint, row.port, "connect", c.connect_failure});
    if (tcp) {
      state->result(MessagingStep::kTcp) = connect_failure;
      state->not_measured(MessagingStep::kTcp) = c.no_ipv6;
    }
    if (tls) {
      state->result(MessagingStep::kTls) =
          !c.connected || c.handshaken
              ? connect_failure
              : std::optional(StepFailure{endpoint, row.port, "tls_handshake", c.tls_failure});
      state->not_measured(MessagingStep::kTls) = c.no_ipv6;
    }
  }
}

bool SameFailure(const StepFailure& a, const StepFailure& b) {
  return a.host == b.host && a.port == b.port && a.operation == b.operation &&
         a.failure == b.failure;
}

// The consistency of every looked-up endpoint whose rows name expected ASes, each
// judged against the union of its rows' ASes.
std::map<std::string, HostConsistency> CheckEndpointsDns(std::vector<DnsQuery>& queries,
                                                         const std::vector<RowState>& rows,
                                                         const ExperimentContext& context) {
  std::map<std::string, std::set<uint32_t>> asns_of;  // endpoint → expected ASes
  for (const auto& state : rows) {
    if (IsIpLiteral(state.row.endpoint)) continue;
    asns_of[state.row.endpoint].insert(state.row.expected_asns.begin(),
                                       state.row.expected_asns.end());
  }
  std::map<std::set<uint32_t>, std::vector<std::string>> hosts_of;  // ASes → endpoints
  for (const auto& [endpoint, asns] : asns_of) {
    if (!asns.empty()) hosts_of[asns].push_back(endpoint);
  }
  std::map<std::string, HostConsistency> out;
  for (const auto& [asns, hosts] : hosts_of) {
    auto checked = CheckDnsConsistency(queries, std::vector<uint32_t>(asns.begin(), asns.end()),
                                       context, hosts);
    out.insert(checked.begin(), checked.end());
  }
  return out;
}

}  // namespace

std::string MessagingHttpUrl(const MessagingEndpoint& row) {
  const bool tls = row.Has(MessagingStep::kTls);
  const std::string host =
      row.endpoint.find(':') != std::string::npos ? "[" + row.endpoint + "]" : row.endpoint;
  const uint16_t default_port = tls ? 443 : 80;
  return std::string(tls ? "https://" : "http://") + host +
         (row.port == default_port ? "" : ":" + std::to_string(row.port)) + "/";
}

Json MessagingTestKeys(const MessagingObservations& o) {
  Json status = Json::object(), step_failures = Json::object(), http_status = Json::object();
  std::vector<StepFailure> failures;
  bool any_ok = false;
  EndpointTally tally(o.dns_inconsistent);
  for (const auto& row : o.rows) {
    const std::string port = std::to_string(row.port);
    Json& row_status = status[row.endpoint][port];
    row_status = Json::object();
    const StepFailure* first = nullptr;
    bool not_measured = false;
    for (const auto& step : row.steps) {
      const std::string name(MessagingStepName(step.step));
      row_status[name] = !step.failure ? "ok" : step.no_ipv6 ? kNoIpv6Status : "blocked";
      if (!step.failure) continue;
      step_failures[row.endpoint][port][name] = step.failure->failure;
      if (step.no_ipv6) {
        not_measured = true;
      } else if (!first) {
        first = &*step.failure;
      }
    }
    if (row.http_status) http_status[row.endpoint][port] = *row.http_status;
    if (!first) {
      if (not_measured) continue;
      // A name that only resolved (a STUN server the list has DNS only for) says
      // nothing of whether the service works: it neither works it nor fails it.
      const bool reached = std::any_of(row.steps.begin(), row.steps.end(),
                                       [](const auto& s) { return s.step != MessagingStep::kDns; });
      if (!reached) continue;
      any_ok = true;
      tally.Add(row.endpoint, true);
      continue;
    }
    tally.Add(row.endpoint, false);
    StepFailure failure = *first;
    // A lookup has no port, whichever step's lookup it was: one entry per endpoint.
    if (failure.operation == "resolve") failure.port = 0;
    if (std::none_of(failures.begin(), failures.end(),
                     [&failure](const StepFailure& f) { return SameFailure(f, failure); })) {
      failures.push_back(std::move(failure));
    }
  }
  Json keys = Json::object();
  keys["service"] = o.service;
  keys["service_status"] = any_ok ? "ok" : "blocked";
  keys["x_endpoint_status"] = status;
  keys["x_endpoint_failures"] = step_failures;
  keys["x_http_status"] = http_status;
  keys["x_partial_blocking"] = tally.partial();
  Json failures_json = Json::array();
  for (const auto& f : failures) failures_json.push_back(ToJson(f));
  keys["x_failures"] = failures_json;
  keys["x_list_files"] = o.list_files;
  return keys;
}

RunVerdict MessagingVerdict(const Json& k) {
  auto it = k.find("service_status");
  return ServiceVerdict(k, (it != k.end() && *it == "blocked") || HasInconsistentDns(k));
}

Result<std::vector<std::string>> MessagingExperiment::DefaultInputs(
    const std::string& data_dir) const {
  auto list = ReadMessagingLists(MessagingListDir(data_dir));
  if (!list.ok()) return Error{"messaging: " + list.error()};
  return list->Services();
}

asio::awaitable<Result<Measurement>> MessagingExperiment::Run(const ExperimentContext& context,
                                                              const Json& input) const {
  auto parsed = ParseExperimentInput(input);
  if (!parsed.ok()) co_return Error{"messaging: " + parsed.error()};
  auto list = ReadMessagingLists(MessagingListDir(context.data_dir));
  if (!list.ok()) co_return Error{"messaging: " + list.error()};
  const std::string& service = parsed->target;
  std::vector<RowState> rows;
  for (auto& row : list->RowsOf(service)) rows.push_back(RowState{std::move(row), {}, {}});
  if (rows.empty()) {
    std::string known;
    for (const auto& s : list->Services()) known += (known.empty() ? "" : ", ") + s;
    co_return Error{"messaging: " +
                    (service.empty() ? std::string("name a service")
                                     : "no service \"" + service + "\" in the lists") +
                    " (" + known + ")"};
  }

  auto executor = co_await asio::this_coro::executor;
  Measurement m = NewMeasurement(kMessagingName, kMessagingVersion, Json(service));
  Trace trace;
  DnsObserver dns(executor, context.resolver, context.timeout);

  // One task per endpoint for its lookup, connects and handshakes (in row order), and
  // one per http step, which FetchUrl takes from the lookup on.
  std::vector<std::string> endpoints;
  std::map<std::string, std::vector<RowState*>> rows_of;
  std::vector<Task> tasks;
  std::vector<std::string> literals;
  for (auto& state : rows) {
    const MessagingEndpoint& row = state.row;
    if (IsIpLiteral(row.endpoint)) literals.push_back(row.endpoint);
    if (row.Has(MessagingStep::kDns) || row.Has(MessagingStep::kTcp) ||
        row.Has(MessagingStep::kTls)) {
      if (!rows_of.count(row.endpoint)) endpoints.push_back(row.endpoint);
      rows_of[row.endpoint].push_back(&state);
    }
  }
  for (const auto& endpoint : endpoints) {
    tasks.push_back([&, endpoint]() -> asio::awaitable<void> {
      co_await MeasureEndpoint(trace, dns, context, endpoint, rows_of[endpoint]);
    });
  }
  for (auto& state : rows) {
    if (!state.row.Has(MessagingStep::kHttp)) continue;
    tasks.push_back([&]() -> asio::awaitable<void> {
      const std::string url = MessagingHttpUrl(state.row);
      HttpOutcome out = co_await FetchUrl(trace, dns, context, url, HttpOptionsFor(context));
      state.result(MessagingStep::kHttp) = FetchFailure(url, out);
      // An IPv6 literal this machine has no route to: not measured.
      state.not_measured(MessagingStep::kHttp) =
          IsIpLiteral(state.row.endpoint) && IsNoIpv6Route(state.row.endpoint, out.failure);
      if (out.status_code != 0) state.http_status = out.status_code;
    });
  }
  co_await RunBounded(std::move(tasks), context.parallelism);

  MessagingObservations o;
  o.service = service;
  for (auto& state : rows) {
    MessagingRowOutcome outcome{state.row.endpoint, state.row.port, {}, state.http_status};
    for (MessagingStep step : state.row.steps) {
      outcome.steps.push_back(
          MessagingStepOutcome{step, state.result(step), state.not_measured(step)});
    }
    o.rows.push_back(std::move(outcome));
  }
  // File names only: a full path could name the user running the probe.
  for (const auto& file : list->files) {
    o.list_files.push_back(std::filesystem::path(file).filename().string());
  }
  MarkMappedAddresses(trace.keys(), MappedLiterals(context, literals));
  const auto dns_check = CheckEndpointsDns(trace.keys().queries, rows, context);
  o.dns_inconsistent = InconsistentNames(dns_check);
  Json keys = MessagingTestKeys(o);
  AddDnsConsistency(keys, dns_check);
  FinishMeasurement(m, trace, keys, context);
  co_await AddMessagingControl(context, m);
  co_return m;
}

RunSummary MessagingExperiment::Summarize(const Measurement& measurement) const {
  const Json& k = measurement.test_keys.extra;
  std::string service = "messaging";
  if (auto it = k.find("service"); it != k.end() && it->is_string()) {
    service = it->get<std::string>();
  }
  return SummarizeFailures(service, MessagingVerdict(k),
                           StepFailuresFromJson(k.value("x_failures", Json::array())));
}

// How the registry makes one: experiments.def lists it.
std::unique_ptr<Experiment> MakeMessagingExperiment() {
  return std::make_unique<MessagingExperiment>();
}

}  // namespace vigil
