#include "probe/experiments/web_connectivity/control_client.h"

#include <sys/socket.h>

#include <asio/buffer.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <cerrno>
#include <optional>
#include <utility>

#include "base/host_port.h"
#include "probe/http/http_parser.h"
#include "probe/http/url.h"
#include "probe/measurement/envelope.h"
#include "probe/net/deadline.h"
#include "probe/net/failure.h"
#include "probe/net/trace.h"
#include "probe/tcp/tcp_observer.h"
#include "probe/tls/tls_observer.h"

namespace vigil {

namespace {

struct Connection {
  std::optional<asio::ip::tcp::socket> plain;  // http
  TlsOutcome tls;                              // https: tls.stream is set

  asio::ip::tcp::socket& socket() { return tls.stream ? tls.stream->next_layer() : *plain; }
  void Close() {
    std::error_code ignored;
    socket().close(ignored);
  }
};

// An idle connection is usable while nothing arrived on it: not the helper's close
// (EOF), not a reset, not stray bytes (which would be read as the next answer).
bool Quiet(asio::ip::tcp::socket& socket) {
  if (!socket.is_open()) return false;
  char byte;
  const ssize_t n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

struct RoundTrip {
  std::string failure;
  bool answered = false;  // a byte of the answer arrived
};

// Writes the request and reads the answer on either kind of stream.
template <typename Stream>
asio::awaitable<void> Exchange(Stream& stream, const std::string& wire, HttpResponseParser& parser,
                               RoundTrip& rt) {
  std::error_code ec;
  co_await asio::async_write(stream, asio::buffer(wire),
                             asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    rt.failure = FailureFromErrorCode(ec);
    co_return;
  }
  char buffer[16 * 1024];
  for (;;) {
    const size_t n = co_await stream.async_read_some(asio::buffer(buffer),
                                                     asio::redirect_error(asio::use_awaitable, ec));
    if (n > 0) {
      rt.answered = true;
      const auto state = parser.Feed(std::string_view(buffer, n));
      if (state == HttpResponseParser::State::kDone) co_return;
      if (state == HttpResponseParser::State::kError) {
        rt.failure = UnknownFailure("malformed HTTP response: " + parser.error());
        co_return;
      }
    }
    if (ec) {
      const std::string failure = FailureFromErrorCode(ec);
      if (failure == kEofError && parser.FeedEof() == HttpResponseParser::State::kDone) co_return;
      rt.failure = failure;
      co_return;
    }
  }
}

}  // namespace

struct ControlClient::Impl {
  asio::any_io_executor executor;
  ControlClientOptions options;
  Url url;
  std::vector<std::unique_ptr<Connection>> idle;  // the most recently used last
  size_t opened = 0;
  size_t reused = 0;

  // The most recently used idle connection that is still quiet, or null.
  std::unique_ptr<Connection> TakeIdle() {
    while (!idle.empty()) {
      std::unique_ptr<Connection> c = std::move(idle.back());
      idle.pop_back();
      if (Quiet(c->socket())) return c;
      c->Close();
    }
    return nullptr;
  }

  // A new connection (resolved, connected, TLS handshaken for https), or why not.
  asio::awaitable<std::unique_ptr<Connection>> Open(std::string* failure) {
    Trace scratch;  // required by the observers; the helper is not the measurement's target
    std::vector<std::string> addresses;
    if (IsIpLiteral(url.host)) {
      addresses = {url.host};
    } else {
      DnsObserver dns(executor, options.resolver, options.timeout);
      LookupResult lookup = co_await dns.Lookup(scratch, url.host);
      if (!lookup.failure.empty()) {
        *failure = lookup.failure;
        co_return nullptr;
      }
      addresses = std::move(lookup.addresses);
    }
    auto c = std::make_unique<Connection>();
    std::string address;
    for (const auto& ip : addresses) {
      auto connected = co_await ObserveTcpConnect(scratch, ip, url.port, 0, options.timeout);
      if (connected.socket) {
        c->plain = std::move(connected.socket);
        address = JoinHostPort(ip, url.port);
        break;
      }
      *failure = connected.failure;
    }
    if (!c->plain) co_return nullptr;
    ++opened;
    std::error_code ignored;
    c->plain->set_option(asio::ip::tcp::no_delay(true), ignored);
    if (url.scheme != "https") co_return c;
    TlsOptions tls;
    tls.sni = url.host;
    tls.alpn = {"http/1.1"};
    tls.ca_file = options.ca_file;
    tls.timeout = options.timeout;
    c->tls = co_await ObserveTlsHandshake(scratch, std::move(*c->plain), address, tls, 0);
    c->plain.reset();
    if (!c->tls.stream) {
      *failure = c->tls.failure;
      co_return nullptr;
    }
    co_return c;
  }
};

Result<std::shared_ptr<ControlClient>> ControlClient::Create(asio::any_io_executor executor,
                                                             ControlClientOptions options) {
  auto url = ParseUrl(options.helper_url);
  if (!url.ok()) return Error{"bad control helper URL: " + url.error()};
  auto impl = std::make_unique<Impl>();
  impl->executor = std::move(executor);
  impl->options = std::move(options);
  impl->url = std::move(*url);
  return std::shared_ptr<ControlClient>(new ControlClient(std::move(impl)));
}

ControlClient::ControlClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

ControlClient::~ControlClient() { CloseIdle(); }

void ControlClient::CloseIdle() {
  for (auto& c : impl_->idle) c->Close();
  impl_->idle.clear();
}

size_t ControlClient::connections_opened() const { return impl_->opened; }
size_t ControlClient::requests_on_kept_connections() const { return impl_->reused; }

asio::awaitable<ControlExchange> ControlClient::Post(std::string body) {
  Impl& d = *impl_;
  const std::string wire = SerializeRequest("POST", d.url.target,
                                            {{"Host", d.url.HostHeader()},
                                             {"User-Agent", std::string("vigil/") + VigilVersion()},
                                             {"Content-Type", "application/json"},
                                             {"Accept", "application/json"}},
                                            body);
  HttpLimits limits;
  limits.body_cap = d.options.body_cap;
  ControlExchange out;
  // A kept connection first; a new one when there is none, or when the kept one
  // failed before the helper answered anything.
  for (int attempt = 0; attempt < 2; ++attempt) {
    std::unique_ptr<Connection> c = attempt == 0 ? d.TakeIdle() : nullptr;
    const bool kept = c != nullptr;
    if (!c) {
      std::string failure;
      c = co_await d.Open(&failure);
      if (!c) {
        out.failure = failure;
        co_return out;
      }
    } else {
      ++d.reused;
    }
    HttpResponseParser parser(limits, false);
    RoundTrip rt;
    {
      Connection* conn = c.get();
      Deadline deadline(d.executor, d.options.timeout, [conn] { conn->Close(); });
      if (c->tls.stream) {
        co_await Exchange(*c->tls.stream, wire, parser, rt);
      } else {
        co_await Exchange(*c->plain, wire, parser, rt);
      }
      if (deadline.expired()) rt.failure = std::string(kGenericTimeoutError);
    }
    if (!rt.failure.empty()) {
      c->Close();
      if (kept && !rt.answered && rt.failure != kGenericTimeoutError) continue;
      out.failure = rt.failure;
      co_return out;
    }
    out.status_code = parser.status_code();
    out.body = parser.body();
    out.body_is_truncated = parser.body_is_truncated();
    if (parser.ConnectionReusable() && d.idle.size() < d.options.max_idle) {
      d.idle.push_back(std::move(c));
    } else {
      c->Close();
    }
    co_return out;
  }
  co_return out;  // not reached: the second attempt always returns
}

}  // namespace vigil
