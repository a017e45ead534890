#include "probe/experiments/wechat/wechat.h"

#include <asio/this_coro.hpp>
#include <cstdio>
#include <memory>
#include <random>

#include "probe/dns/dns_observer.h"
#include "probe/experiments/common/fetch.h"
#include "probe/experiments/common/messaging_control.h"
#include "probe/experiments/common/service_verdict.h"
#include "probe/experiments/common/test_keys.h"
#include "probe/measurement/envelope.h"
#include "probe/net/concurrency.h"
#include "probe/net/trace.h"

namespace vigil {

namespace {

constexpr size_t kShortlinkPayloadSize = 32;

std::mt19937& Random() {
  thread_local std::mt19937 generator{std::random_device{}()};
  return generator;
}

std::string StatusOf(const std::optional<StepFailure>& f) { return f ? "blocked" : "ok"; }
Json FailureOf(const std::optional<StepFailure>& f) { return f ? Json(f->failure) : Json(); }
Json StatusCodeOf(const WechatFetch& f) {
  return f.failure || f.status_code == 0 ? Json() : Json(f.status_code);
}

WechatFetch ToFetch(const std::string& url, const HttpOutcome& outcome) {
  return WechatFetch{FetchFailure(url, outcome), outcome.status_code};
}

// What the app sends with a shortlink request, as far as a middlebox can see.
HttpOptions ShortlinkOptions(const ExperimentContext& context) {
  HttpOptions options = HttpOptionsFor(context);
  options.method = "POST";
  options.body = WechatShortlinkBody();
  options.headers = {{"Accept", "*/*"},
                     {"Cache-Control", "no-cache"},
                     {"Content-Type", "application/octet-stream"},
                     {"Upgrade", "mmtls"},
                     {"User-Agent", "MicroMessenger Client"}};
  return options;
}

}  // namespace

const std::vector<std::string>& WechatLonglinkHosts() {
  static const std::vector<std::string> kHosts = {"long.weixin.qq.com", "sglong.weixin.qq.com",
                                                  "uslong.weixin.qq.com", "long.wechat.com"};
  return kHosts;
}

const std::vector<uint16_t>& WechatLonglinkPorts() {
  static const std::vector<uint16_t> kPorts = {8080, 80, 443};
  return kPorts;
}

const std::vector<std::string>& WechatWebUrls() {
  static const std::vector<std::string> kUrls = {"https://web.wechat.com/",
                                                 "https://mp.weixin.qq.com/"};
  return kUrls;
}

std::string WechatShortlinkUrl() {
  std::uniform_int_distribution<uint32_t> word;
  char hex[9];
  std::snprintf(hex, sizeof hex, "%08x", word(Random()));
  return std::string("http://") + kWechatShortlinkHost + "/mmtls/" + hex;
}

std::string WechatShortlinkBody() {
  std::string body = {'\x16', '\xf1', '\x04', '\x00', static_cast<char>(kShortlinkPayloadSize)};
  std::uniform_int_distribution<int> byte(0, 255);
  for (size_t i = 0; i < kShortlinkPayloadSize; ++i) {
    body.push_back(static_cast<char>(byte(Random())));
  }
  return body;
}

Json WechatTestKeys(const WechatObservations& o) {
  bool any_ok = false;
  EndpointTally tally;
  for (const auto& [host, ports] : o.longlink) {
    for (const auto& [port, outcome] : ports) {
      any_ok = any_ok || outcome.ok;
      if (!outcome.no_ipv6) tally.Add(host, outcome.worked());
    }
  }
  tally.Add(kWechatShortlinkHost, !o.shortlink.failure);
  tally.Add(UrlHost(kWechatHttpDnsUrl), !o.httpdns.failure);
  for (const auto& [url, fetch] : o.web) tally.Add(UrlHost(url), !fetch.failure);
  const std::vector<StepFailure> longlink_failures = FailuresOf(o.longlink);
  Json failures = Json::array();
  for (const auto& f : longlink_failures) failures.push_back(ToJson(f));
  if (o.shortlink.failure) failures.push_back(ToJson(*o.shortlink.failure));
  if (o.httpdns.failure) failures.push_back(ToJson(*o.httpdns.failure));

  Json web_status = Json::object();
  std::optional<StepFailure> first_web;
  for (const auto& [url, fetch] : o.web) {
    web_status[UrlHost(url)] = StatusOf(fetch.failure);
    if (fetch.failure) {
      if (!first_web) first_web = fetch.failure;
      failures.push_back(ToJson(*fetch.failure));
    }
  }

  Json keys = Json::object();
  keys["wechat_longlink_status"] = any_ok ? "ok" : "blocked";
  keys["wechat_longlink_failure"] =
      any_ok || longlink_failures.empty() ? Json() : Json(longlink_failures.front().failure);
  keys["wechat_shortlink_status"] = StatusOf(o.shortlink.failure);
  keys["wechat_shortlink_failure"] = FailureOf(o.shortlink.failure);
  keys["wechat_httpdns_status"] = StatusOf(o.httpdns.failure);
  keys["wechat_httpdns_failure"] = FailureOf(o.httpdns.failure);
  keys["wechat_web_status"] = StatusOf(first_web);
  keys["wechat_web_failure"] = FailureOf(first_web);
  keys["x_shortlink_status_code"] = StatusCodeOf(o.shortlink);
  keys["x_httpdns_status_code"] = StatusCodeOf(o.httpdns);
  keys["x_web_status"] = web_status;
  Json status, port_failures;
  WritePortStatus(o.longlink, &status, &port_failures);
  keys["x_endpoint_status"] = status;
  keys["x_endpoint_failures"] = port_failures;
  keys["x_partial_blocking"] = tally.partial();
  keys["x_failures"] = failures;
  return keys;
}

RunVerdict WechatVerdict(const Json& k) {
  bool blocked = false;
  for (const char* key : {"wechat_longlink_status", "wechat_shortlink_status",
                          "wechat_httpdns_status", "wechat_web_status"}) {
    if (auto it = k.find(key); it != k.end() && *it == "blocked") blocked = true;
  }
  return ServiceVerdict(k, blocked);
}

asio::awaitable<Result<Measurement>> WechatExperiment::Run(const ExperimentContext& context,
                                                           const Json& /*input*/) const {
  auto executor = co_await asio::this_coro::executor;
  Measurement m = NewMeasurement(kWechatName, kWechatVersion, nullptr);
  Trace trace;
  DnsObserver dns(executor, context.resolver, context.timeout);
  EndpointSweep sweep(trace, dns, context);

  std::vector<Task> tasks;
  // No TLS ports: the longlink speaks mmtls, not TLS, on 443 too. The web fetches
  // below carry the SNI.
  for (const auto& host : WechatLonglinkHosts()) {
    tasks.push_back(sweep.Probe(host, WechatLonglinkPorts()));
  }
  const std::string shortlink_url = WechatShortlinkUrl();
  HttpOutcome shortlink, httpdns;
  std::vector<HttpOutcome> web(WechatWebUrls().size());
  tasks.push_back([&]() -> asio::awaitable<void> {
    shortlink = co_await FetchUrl(trace, dns, context, shortlink_url, ShortlinkOptions(context));
  });
  tasks.push_back([&]() -> asio::awaitable<void> {
    httpdns = co_await FetchUrl(trace, dns, context, kWechatHttpDnsUrl, HttpOptionsFor(context));
  });
  for (size_t i = 0; i < web.size(); ++i) {
    tasks.push_back([&, i]() -> asio::awaitable<void> {
      web[i] = co_await FetchUrl(trace, dns, context, WechatWebUrls()[i], HttpOptionsFor(context));
    });
  }
  co_await RunBounded(std::move(tasks), context.parallelism);

  WechatObservations o;
  o.longlink = sweep.Outcomes();
  o.shortlink = ToFetch(shortlink_url, shortlink);
  o.httpdns = ToFetch(kWechatHttpDnsUrl, httpdns);
  for (size_t i = 0; i < web.size(); ++i) {
    o.web.emplace_back(WechatWebUrls()[i], ToFetch(WechatWebUrls()[i], web[i]));
  }
  // No DNS consistency check: WeChat's servers in China answer from the carriers'
  // networks as much as from Tencent's own, so no AS list would be both complete and
  // narrow enough to mean anything.
  FinishMeasurement(m, trace, WechatTestKeys(o), context);
  co_await AddMessagingControl(context, m);
  co_return m;
}

RunSummary WechatExperiment::Summarize(const Measurement& measurement) const {
  const Json& k = measurement.test_keys.extra;
  return SummarizeFailures("WeChat", WechatVerdict(k),
                           StepFailuresFromJson(k.value("x_failures", Json::array())));
}

// How the registry makes one: experiments.def lists it.
std::unique_ptr<Experiment> MakeWechatExperiment() { return std::make_unique<WechatExperiment>(); }

}  // namespace vigil
