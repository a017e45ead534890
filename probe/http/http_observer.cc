#include "probe/http/http_observer.h"

#include <strings.h>

#include <algorithm>
#include <asio/buffer.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/redirect_error.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <optional>

#include "base/html_title.h"
#include "base/result.h"
#include "probe/http/http_parser.h"
#include "probe/net/deadline.h"
#include "probe/net/failure.h"
#include "probe/tcp/tcp_observer.h"
#include "probe/tls/tls_observer.h"

namespace vigil {

namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

bool SameName(const std::string& a, const std::string& b) {
  return a.size() == b.size() && strncasecmp(a.c_str(), b.c_str(), a.size()) == 0;
}

std::optional<std::string> HeaderValue(const Headers& headers, const std::string& name) {
  for (const auto& [k, v] : headers) {
    if (SameName(k, name)) return v;
  }
  return std::nullopt;
}

Headers RequestHeaders(const std::string& host, const HttpOptions& options) {
  Headers headers{{"Host", host}};
  for (const auto& [name, value] : DefaultHttpHeaders()) {
    if (!HeaderValue(options.headers, name)) headers.emplace_back(name, value);
  }
  for (const auto& h : options.headers) {
    if (!SameName(h.first, "Host")) headers.push_back(h);
  }
  return headers;
}

struct RoundTrip {
  std::string failure;
  HttpResponseParser parser;
  explicit RoundTrip(HttpLimits limits, bool head) : parser(limits, head) {}
};

// Writes the request and reads the response on any stream (plain TCP or TLS).
template <typename Stream>
asio::awaitable<void> Exchange(Trace& trace, Stream& stream, const std::string& address,
                               const std::string& wire, int64_t tid, RoundTrip& rt) {
  std::error_code ec;
  double t0 = trace.Now();
  const size_t written = co_await asio::async_write(stream, asio::buffer(wire),
                                                    asio::redirect_error(asio::use_awaitable, ec));
  trace.Event("write", t0, tid, address, static_cast<int64_t>(written),
              AsFailure(ec ? FailureFromErrorCode(ec) : ""));
  if (ec) {
    rt.failure = FailureFromErrorCode(ec);
    co_return;
  }
  std::string buffer(16 * 1024, '\0');
  for (;;) {
    t0 = trace.Now();
    const size_t n = co_await stream.async_read_some(asio::buffer(buffer),
                                                     asio::redirect_error(asio::use_awaitable, ec));
    const std::string failure = ec ? FailureFromErrorCode(ec) : "";
    trace.Event("read", t0, tid, address, static_cast<int64_t>(n), AsFailure(failure));
    if (n > 0) {
      const auto state = rt.parser.Feed(std::string_view(buffer.data(), n));
      if (state == HttpResponseParser::State::kDone) co_return;
      if (state == HttpResponseParser::State::kError) {
        rt.failure = UnknownFailure("malformed HTTP response: " + rt.parser.error());
        co_return;
      }
    }
    if (ec) {
      if (failure == kEofError) {
        const auto state = rt.parser.FeedEof();
        if (state == HttpResponseParser::State::kDone) co_return;
        // The peer closed before the response was complete.
        rt.failure = std::string(kEofError);
        co_return;
      }
      rt.failure = failure;
      co_return;
    }
  }
}

bool IsRedirect(int code) {
  return code == 301 || code == 302 || code == 303 || code == 307 || code == 308;
}

}  // namespace

const std::vector<std::pair<std::string, std::string>>& DefaultHttpHeaders() {
  static const Headers kHeaders{
      {"Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"},
      {"Accept-Language", "en-US,en;q=0.9"},
      {"User-Agent",
       "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
       "Chrome/124.0.0.0 Safari/537.36"},
  };
  return kHeaders;
}

asio::awaitable<HttpOutcome> ObserveHttp(Trace& trace, DnsObserver& dns, const Url& first_url,
                                         const HttpOptions& options) {
  auto executor = co_await asio::this_coro::executor;
  HttpOutcome outcome;
  Url url = first_url;
  std::string method = options.method;
  std::string body = options.body;
  HttpLimits limits;
  limits.body_cap = options.body_cap;

  for (int hop = 0;; ++hop) {
    const bool first = hop == 0;
    const int64_t tid = trace.NextTransactionId();
    const double t0 = trace.Now();
    outcome.final_url = url.ToString();
    trace.Event("http_transaction_start", t0, tid);

    HttpTransaction tx;
    tx.network = "tcp";
    tx.alpn = url.scheme == "https" ? "http/1.1" : "";
    tx.request.url = url.ToString();
    tx.request.method = method;
    const std::string host_header =
        first && !options.host_override.empty() ? options.host_override : url.HostHeader();
    tx.request.headers_list = RequestHeaders(host_header, options);
    tx.request.body.bytes = body;

    auto record = [&](const std::string& failure) {
      tx.failure = AsFailure(failure);
      tx.timing = trace.Span(t0, tid);
      trace.Event("http_transaction_done", t0, tid, std::nullopt, std::nullopt, tx.failure);
      trace.keys().requests.insert(trace.keys().requests.begin(), tx);
    };

    // Resolve (through the same observer as every other lookup of this measurement).
    LookupResult lookup = co_await dns.Lookup(trace, url.host);
    if (!lookup.failure.empty()) {
      outcome.failure = lookup.failure;
      outcome.failed_operation = "resolve";
      record(outcome.failure);
      co_return outcome;
    }
    if (options.address_allowed) {
      std::erase_if(lookup.addresses,
                    [&options](const std::string& ip) { return !options.address_allowed(ip); });
      if (lookup.addresses.empty()) {
        outcome.failure = "dns_bogon_error";
        outcome.failed_operation = "resolve";
        record(outcome.failure);
        co_return outcome;
      }
    }

    // Connect to the addresses in answer order until one accepts.
    std::optional<asio::ip::tcp::socket> socket;
    std::string address;
    std::string connect_failure;
    for (const auto& ip : lookup.addresses) {
      auto connected = co_await ObserveTcpConnect(trace, ip, url.port, tid, options.timeout);
      if (connected.socket) {
        socket = std::move(connected.socket);
        address = JoinHostPort(ip, url.port);
        break;
      }
      connect_failure = connected.failure;
    }
    if (!socket) {
      outcome.failure = connect_failure;
      outcome.failed_operation = "connect";
      record(outcome.failure);
      co_return outcome;
    }
    tx.address = address;

    const std::string wire = SerializeRequest(method, url.target, tx.request.headers_list, body);
    RoundTrip rt(limits, method == "HEAD");

    if (url.scheme == "https") {
      TlsOptions tls;
      tls.sni = first && !options.sni.empty() ? options.sni : url.host;
      tls.alpn = {"http/1.1"};
      tls.ca_file = options.ca_file;
      tls.timeout = options.timeout;
      TlsOutcome handshake =
          co_await ObserveTlsHandshake(trace, std::move(*socket), address, tls, tid);
      if (!handshake.stream) {
        outcome.failure = handshake.failure;
        outcome.failed_operation = "tls_handshake";
        record(outcome.failure);
        co_return outcome;
      }
      Deadline deadline(executor, options.timeout, [&handshake] {
        std::error_code ignored;
        handshake.stream->lowest_layer().close(ignored);
      });
      co_await Exchange(trace, *handshake.stream, address, wire, tid, rt);
      if (deadline.expired()) rt.failure = std::string(kGenericTimeoutError);
    } else {
      Deadline deadline(executor, options.timeout, [&socket] {
        std::error_code ignored;
        socket->close(ignored);
      });
      co_await Exchange(trace, *socket, address, wire, tid, rt);
      if (deadline.expired()) rt.failure = std::string(kGenericTimeoutError);
    }

    const auto& parser = rt.parser;
    if (parser.headers_complete()) {
      tx.response.code = parser.status_code();
      tx.response.headers_list = parser.headers_list();
      tx.response.body.bytes = parser.body();
      tx.response.body_is_truncated = parser.body_is_truncated();
      tx.response.x_title = ExtractTitle(parser.body());
    }
    if (!rt.failure.empty()) {
      outcome.failure = rt.failure;
      outcome.failed_operation = "http_round_trip";
      record(outcome.failure);
      co_return outcome;
    }
    record("");
    outcome.status_code = parser.status_code();

    const auto location = HeaderValue(parser.headers_list(), "Location");
    if (!IsRedirect(parser.status_code()) || !location) co_return outcome;
    if (hop >= options.max_redirects) {
      outcome.failure = UnknownFailure("stopped after too many redirects");
      outcome.failed_operation = "http_round_trip";
      co_return outcome;
    }
    auto next = ResolveReference(url, *location);
    if (!next.ok()) {
      outcome.failure = UnknownFailure("bad redirect location: " + next.error());
      outcome.failed_operation = "http_round_trip";
      co_return outcome;
    }
    url = *next;
    const int code = parser.status_code();
    if (code == 303 || ((code == 301 || code == 302) && method == "POST")) {
      method = "GET";
      body.clear();
    }
  }
}

}  // namespace vigil
