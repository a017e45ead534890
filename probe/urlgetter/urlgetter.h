// urlgetter: one observation of one target, as OONI's urlgetter — a DNS lookup, a
// TCP connect, a TLS handshake or an HTTP fetch — returned as a full measurement.
// Network failures are data inside the measurement; only bad configuration is an
// error. It is not an experiment of `vigil run` (a step and its options are no
// input a list could hold): `vigil measure` runs it, to look at one target by hand.
// Use from the executor's thread.
#pragma once

#include <asio/awaitable.hpp>
#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"
#include "probe/measurement/measurement.h"

namespace vigil {

struct UrlgetterConfig {
  std::string step;                 // "dns" | "tcp" | "tls" | "http"
  std::string target;               // NAME, IP:PORT, HOST:PORT or URL
  std::string resolver = "system";  // "system", "udp://IP:PORT", "tcp://IP:PORT"
  std::string query_type = "A";     // dns step with an explicit resolver
  std::string sni;
  std::vector<std::string> alpn;
  std::string ca_file;
  bool no_verify = false;
  std::string method = "GET";
  std::string body;
  std::string host_header;
  std::vector<std::pair<std::string, std::string>> headers;
  size_t body_cap = size_t{1} << 20;
  std::chrono::milliseconds timeout{10000};
};

inline constexpr const char* kUrlgetterVersion = "0.1.0";

/// Checks the configuration (target syntax, resolver, CA file) without measuring;
/// the error names the offending argument.
Result<bool> ValidateUrlgetterConfig(const UrlgetterConfig& config);

/// Runs the observation. The config must have passed ValidateUrlgetterConfig.
asio::awaitable<Measurement> RunUrlgetter(UrlgetterConfig config);

}  // namespace vigil
