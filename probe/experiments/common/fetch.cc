#include "probe/experiments/common/fetch.h"

#include "base/host_port.h"
#include "probe/http/url.h"
#include "probe/net/failure.h"

namespace vigil {

HttpOptions HttpOptionsFor(const ExperimentContext& context) {
  HttpOptions options;
  options.timeout = context.timeout;
  options.ca_file = context.ca_file;
  return options;
}

asio::awaitable<HttpOutcome> FetchUrl(Trace& trace, DnsObserver& dns,
                                      const ExperimentContext& context, std::string url,
                                      HttpOptions options) {
  auto parsed = ParseUrl(url);
  if (!parsed.ok()) {
    HttpOutcome bad;
    bad.failure = UnknownFailure("bad URL: " + parsed.error());
    bad.failed_operation = "top_level";
    bad.final_url = url;
    co_return bad;
  }
  if (IsIpLiteral(parsed->host)) {
    if (options.host_override.empty()) options.host_override = parsed->HostHeader();
    parsed->host = context.MapAddress(parsed->host);
  }
  HttpOutcome outcome = co_await ObserveHttp(trace, dns, *parsed, options);
  // Verdicts and evidence name the real endpoint, not the lab's stand-in.
  if (outcome.final_url == parsed->ToString()) outcome.final_url = url;
  co_return outcome;
}

std::string UrlHost(const std::string& url) {
  auto parsed = ParseUrl(url);
  return parsed.ok() ? parsed->host : url;
}

std::optional<StepFailure> FetchFailure(const std::string& url, const HttpOutcome& outcome) {
  if (outcome.failure.empty()) return std::nullopt;
  StepFailure f;
  f.operation = outcome.failed_operation;
  f.failure = outcome.failure;
  // The hop that failed may be a redirect's target: name that one.
  auto failed = ParseUrl(outcome.final_url.empty() ? url : outcome.final_url);
  if (failed.ok()) {
    f.host = failed->host;
    f.port = failed->port;
  } else {
    f.host = url;
  }
  return f;
}

}  // namespace vigil
