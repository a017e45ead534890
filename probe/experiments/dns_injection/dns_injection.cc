#include "probe/experiments/dns_injection/dns_injection.h"

#include <algorithm>
#include <asio/this_coro.hpp>
#include <fstream>
#include <memory>
#include <sstream>

#include "base/host_port.h"
#include "probe/dns/dns_exchange.h"
#include "probe/dns/dns_message.h"
#include "probe/experiments/common/experiment_input.h"
#include "probe/experiments/dns_injection/dns_injection_judge.h"
#include "probe/experiments/dns_injection/dns_probe.h"
#include "probe/experiments/dns_injection/forged_address_pool.h"
#include "probe/http/url.h"
#include "probe/measurement/envelope.h"
#include "probe/net/concurrency.h"
#include "probe/testlists/messaging_list.h"

namespace vigil {

namespace {

// A name to measure: "NAME" (A) or "NAME/AAAA".
struct NameQuery {
  std::string hostname;
  int qtype = 1;
};

Result<NameQuery> ParseNameQuery(const std::string& text) {
  NameQuery q;
  q.hostname = text;
  if (auto slash = text.rfind('/'); slash != std::string::npos) {
    q.hostname = text.substr(0, slash);
    q.qtype = DnsTypeFromName(text.substr(slash + 1));
    if (q.qtype != 1 && q.qtype != 28) {
      return Error{"'" + text + "': the query type is A or AAAA"};
    }
  }
  if (q.hostname.empty() || IsIpLiteral(q.hostname)) {
    return Error{"'" + text + "': expected a host name"};
  }
  if (auto wire = EncodeDnsQuery(q.hostname, q.qtype, 0); !wire.ok()) {
    return Error{"'" + text + "': " + wire.error()};
  }
  return q;
}

// Where the probes of a name go besides the sink: a udp resolver's address, or a probe
// recorded as skipped.
struct ResolverTarget {
  std::string ip;
  uint16_t port = 53;
  std::string address;  // as recorded
  std::string skipped;
};

std::vector<ResolverTarget> ResolverTargets(const ResolverSpec& spec) {
  std::vector<ResolverTarget> out;
  if (spec.engine == "udp") {
    out.push_back({spec.ip, spec.port, JoinHostPort(spec.ip, spec.port), ""});
  } else if (spec.engine == "getaddrinfo") {
    for (const auto& ip : ResolvConfNameservers()) {
      out.push_back({ip, 53, JoinHostPort(ip, 53), ""});
    }
    if (out.empty()) out.push_back({"", 53, "system", "no nameserver in /etc/resolv.conf"});
  } else {
    out.push_back({"", spec.port, spec.ToString(),
                   spec.engine + " resolver: this experiment queries over UDP only"});
  }
  return out;
}

// The sink as "ip:port", or why there is none.
Result<HostPort> SinkOf(const ExperimentContext& context) {
  if (!context.injection.dns_sink.empty()) {
    auto sink = ParseHostOptionalPort(context.injection.dns_sink, 53);
    if (!sink.ok()) return Error{"dns sink " + sink.error()};
    if (!IsIpLiteral(sink->host)) {
      return Error{"dns sink '" + context.injection.dns_sink + "': expected an IP address"};
    }
    return *sink;
  }
  if (context.helper_url.empty()) return Error{"no sink: no --dns-sink and no helper"};
  auto url = ParseUrl(context.helper_url);
  if (!url.ok() || !IsIpLiteral(url->host)) {
    return Error{"no sink: the helper's host is not an IP address (give --dns-sink)"};
  }
  return HostPort{url->host, 53, false};
}

// One probe of one name, as it ran.
struct ProbeRun {
  DnsProbeObservation observation;
  DnsProbeJudgement judgement;
};

}  // namespace

std::vector<std::string> ResolvConfNameservers(const std::string& path) {
  std::vector<std::string> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    std::string key, value;
    if (!(words >> key >> value) || key != "nameserver") continue;
    if (auto zone = value.find('%'); zone != std::string::npos) value.resize(zone);
    if (!IsIpLiteral(value)) continue;
    if (std::find(out.begin(), out.end(), value) == out.end()) out.push_back(value);
  }
  return out;
}

Result<std::vector<std::string>> DnsInjectionExperiment::DefaultInputs(
    const std::string& data_dir) const {
  auto list = ReadMessagingLists(MessagingListDir(data_dir));
  if (!list.ok()) return Error{"dns_injection: " + list.error()};
  std::vector<std::string> names;
  for (const auto& service : list->Services()) {
    for (const auto& row : list->RowsOf(service)) {
      if (!row.Has(MessagingStep::kDns) || IsIpLiteral(row.endpoint)) continue;
      if (std::find(names.begin(), names.end(), row.endpoint) == names.end()) {
        names.push_back(row.endpoint);
      }
      break;
    }
  }
  return names;
}

asio::awaitable<Result<Measurement>> DnsInjectionExperiment::Run(const ExperimentContext& context,
                                                                 const Json& input) const {
  auto parsed = ParseExperimentInput(input);
  if (!parsed.ok()) co_return Error{"dns_injection: " + parsed.error()};
  std::vector<NameQuery> names;
  if (parsed->target.empty()) {
    auto defaults = DefaultInputs(context.data_dir);
    if (!defaults.ok()) co_return Error{defaults.error()};
    for (const auto& d : *defaults) names.push_back({d, 1});
  } else {
    auto q = ParseNameQuery(parsed->target);
    if (!q.ok()) co_return Error{"dns_injection: " + q.error()};
    names.push_back(*q);
  }
  std::vector<ResolverSpec> resolvers;
  if (parsed->options.contains("resolvers")) {
    const Json& list = parsed->options["resolvers"];
    if (!list.is_array()) co_return Error{"dns_injection: \"resolvers\" is a list of strings"};
    for (const auto& r : list) {
      if (!r.is_string()) co_return Error{"dns_injection: \"resolvers\" is a list of strings"};
      auto spec = ParseResolverSpec(r.get<std::string>());
      if (!spec.ok()) co_return Error{"dns_injection: " + spec.error()};
      resolvers.push_back(*spec);
    }
  } else {
    resolvers.push_back(context.resolver);
  }
  auto pool = ForgedAddressPool::Load(context.data_dir, context.injection.forged_ip_files);
  if (!pool.ok()) co_return Error{"dns_injection: " + pool.error()};
  auto sink = SinkOf(context);

  std::vector<ResolverTarget> targets;
  for (const auto& spec : resolvers) {
    for (auto& t : ResolverTargets(spec)) {
      const bool repeat = std::any_of(targets.begin(), targets.end(),
                                      [&](const auto& o) { return o.address == t.address; });
      if (!repeat) targets.push_back(std::move(t));
    }
  }

  Measurement m = NewMeasurement(kDnsInjectionName, kDnsInjectionVersion,
                                 parsed->target.empty() ? Json() : Json(parsed->target));
  const auto zero = Trace::Clock::now();
  const DnsProbeTiming timing{zero, context.timeout, context.injection.dns_listen};
  // Per name: the sink's probe (when there is a sink), then one per resolver.
  std::vector<std::vector<ProbeRun>> runs(names.size());
  std::vector<Task> tasks;
  for (size_t n = 0; n < names.size(); ++n) {
    if (sink.ok()) {
      runs[n].emplace_back();
      tasks.push_back([&, n, slot = runs[n].size() - 1]() -> asio::awaitable<void> {
        // A named argument, not a braced temporary: GCC 12 destroys such a coroutine
        // argument twice.
        DnsProbeTarget target{DnsProbeKind::kSink, sink->host, sink->port, names[n].hostname,
                              names[n].qtype};
        runs[n][slot].observation = co_await SendDnsProbe(std::move(target), timing);
      });
    }
    for (const auto& t : targets) {
      runs[n].emplace_back();
      ProbeRun& run = runs[n].back();
      run.observation.kind = DnsProbeKind::kResolver;
      run.observation.address = t.address;
      run.observation.hostname = names[n].hostname;
      run.observation.qtype = names[n].qtype;
      if (!t.skipped.empty()) {
        run.observation.skipped = t.skipped;
        continue;
      }
      tasks.push_back([&, n, slot = runs[n].size() - 1, t]() -> asio::awaitable<void> {
        DnsProbeTarget target{DnsProbeKind::kResolver, context.MapAddress(t.ip), t.port,
                              names[n].hostname, names[n].qtype};
        runs[n][slot].observation = co_await SendDnsProbe(std::move(target), timing);
        runs[n][slot].observation.address = t.address;
      });
    }
  }
  co_await RunBounded(std::move(tasks), std::max<size_t>(context.parallelism, 1));

  Json keys = Json::object();
  keys["sink"] = sink.ok() ? Json(JoinHostPort(sink->host, sink->port)) : Json();
  if (!sink.ok()) keys["x_sink_error"] = sink.error();
  keys["listen_ms"] = context.injection.dns_listen.count();
  Json name_list = Json::array(), injections = Json::array();
  int transaction_id = 0;
  for (size_t n = 0; n < names.size(); ++n) {
    std::vector<DnsProbeObservation> observations;
    std::vector<DnsProbeJudgement> judgements;
    Json probes = Json::array();
    for (auto& run : runs[n]) {
      ++transaction_id;
      run.judgement = JudgeDnsProbe(run.observation, *pool);
      probes.push_back(DnsProbeJson(run.observation, run.judgement));
      if (run.observation.skipped.empty() && ProvesInjection(run.judgement.flags)) {
        injections.push_back(DnsInjectionEntry(run.observation, run.judgement, transaction_id));
      }
      observations.push_back(run.observation);
      judgements.push_back(run.judgement);
    }
    DnsNameJudgement verdict = JudgeDnsName(observations, judgements);
    if (!sink.ok()) {
      for (auto& reason : verdict.reasons) {
        if (reason == "no sink was queried") reason = sink.error();
      }
    }
    name_list.push_back({{"hostname", names[n].hostname},
                         {"query_type", DnsTypeName(names[n].qtype)},
                         {"verdict", DnsNameVerdictName(verdict.verdict)},
                         {"reasons", verdict.reasons},
                         {"probes", std::move(probes)}});
  }
  keys["names"] = std::move(name_list);
  if (!injections.empty()) keys["x_injection"] = std::move(injections);
  m.test_runtime = std::chrono::duration<double>(Trace::Clock::now() - zero).count();
  m.test_keys.extra = std::move(keys);
  co_return m;
}

RunSummary DnsInjectionExperiment::Summarize(const Measurement& measurement) const {
  const Json& k = measurement.test_keys.extra;
  RunSummary s;
  s.service = measurement.input.is_string() ? measurement.input.get<std::string>()
                                            : std::string(kDnsInjectionName);
  s.verdict = DnsInjectionVerdict(k);
  if (s.verdict == RunVerdict::kBlocked) {
    s.blocking = "dns";
    std::vector<std::string> flags, forged;
    for (const auto& e : k.value("x_injection", Json::array())) {
      for (const auto& f : e.value("flags", Json::array())) {
        if (std::find(flags.begin(), flags.end(), f) == flags.end()) flags.push_back(f);
      }
      for (const auto& a : e.value("forged_addresses", Json::array())) {
        if (std::find(forged.begin(), forged.end(), a) == forged.end()) forged.push_back(a);
      }
    }
    std::string text = "injected:";
    for (size_t i = 0; i < flags.size(); ++i) text += (i ? ", " : " ") + flags[i];
    if (!forged.empty()) {
      text += "; forged";
      for (size_t i = 0; i < forged.size(); ++i) text += (i ? ", " : " ") + forged[i];
    }
    s.evidence = text;
    return s;
  }
  if (s.verdict == RunVerdict::kOk) {
    s.evidence = "one reply per query; the sink silent";
    return s;
  }
  for (const auto& n : k.value("names", Json::array())) {
    if (n.value("verdict", "") != "inconclusive") continue;
    const Json reasons = n.value("reasons", Json::array());
    if (!reasons.empty() && reasons[0].is_string()) {
      s.evidence = "inconclusive: " + reasons[0].get<std::string>();
      break;
    }
  }
  return s;
}

// How the registry makes one: experiments.def lists it.
std::unique_ptr<Experiment> MakeDnsInjectionExperiment() {
  return std::make_unique<DnsInjectionExperiment>();
}

}  // namespace vigil
