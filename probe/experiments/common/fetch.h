// FetchUrl: one HTTP(S) fetch of a messaging experiment with the context's per-step
// deadline and CA, real IP literals mapped through ExperimentContext::MapAddress
// (the Host header keeps the real address), and the outcome as a StepFailure when
// DNS, TCP, TLS or the round trip failed. Use from the executor's thread.
#pragma once

#include <asio/awaitable.hpp>
#include <optional>
#include <string>

#include "probe/dns/dns_observer.h"
#include "probe/experiments/common/step_failure.h"
#include "probe/experiments/experiment.h"
#include "probe/http/http_observer.h"
#include "probe/net/trace.h"

namespace vigil {

/// HttpOptions with the context's timeout and CA file.
HttpOptions HttpOptionsFor(const ExperimentContext& context);

/// Fetches `url` (which must parse; a bad one is reported as an unknown_failure).
asio::awaitable<HttpOutcome> FetchUrl(Trace& trace, DnsObserver& dns,
                                      const ExperimentContext& context, std::string url,
                                      HttpOptions options);

/// The host of `url` (an IPv6 literal without brackets); `url` itself when it does not
/// parse.
std::string UrlHost(const std::string& url);

/// The failure of a fetch of `url`, or nullopt when a response arrived (whatever
/// its status code).
std::optional<StepFailure> FetchFailure(const std::string& url, const HttpOutcome& outcome);

}  // namespace vigil
