#include "probe/experiments/delivery/relay_transport.h"

#include <sys/socket.h>

#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <cerrno>
#include <cstdio>
#include <utility>

#include "base/base64.h"
#include "base/host_port.h"
#include "probe/dns/dns_observer.h"
#include "probe/experiments/delivery/delivery_options.h"
#include "probe/experiments/delivery/relay_protocol.h"
#include "probe/experiments/delivery/transport.h"
#include "probe/experiments/experiment.h"
#include "probe/http/http_parser.h"
#include "probe/http/url.h"
#include "probe/net/deadline.h"
#include "probe/net/failure.h"
#include "probe/net/trace.h"
#include "probe/tcp/tcp_observer.h"
#include "probe/tls/tls_observer.h"

namespace vigil {

namespace {

using asio::ip::tcp;
using Clock = DeliveryClock;

// What OONI calls an HTTP request that got an error status (probe-cli's urlgetter).
constexpr std::string_view kHttpRequestFailed = "http_request_failed";
constexpr size_t kMaxReplyLine = 1024;
constexpr size_t kMaxReplyBytes = size_t{4} << 20;

std::string_view ListenerName(RelayListener listener) {
  switch (listener) {
    case RelayListener::kTcp:
      return "tcp";
    case RelayListener::kHttp:
      return "http";
    case RelayListener::kHttps:
      return "https";
  }
  return "";
}

// One connection to the relay, over plain TCP or TLS.
struct Connection {
  std::shared_ptr<asio::ssl::context> tls_context;  // outlives `tls`
  std::unique_ptr<TlsStream> tls;
  std::optional<tcp::socket> plain;
  std::string address;  // "IP:PORT" as recorded (the real address, not the lab's)

  tcp::socket& socket() { return tls ? tls->next_layer() : *plain; }

  void Close() {
    std::error_code ignored;
    socket().shutdown(tcp::socket::shutdown_both, ignored);
    socket().close(ignored);
  }

  asio::awaitable<std::error_code> Write(std::string_view bytes) {
    std::error_code ec;
    const auto buffer = asio::buffer(bytes.data(), bytes.size());
    if (tls) {
      co_await asio::async_write(*tls, buffer, asio::redirect_error(asio::use_awaitable, ec));
    } else {
      co_await asio::async_write(*plain, buffer, asio::redirect_error(asio::use_awaitable, ec));
    }
    co_return ec;
  }

  // Appends what arrives next to `out`; the error (eof included) when nothing did.
  asio::awaitable<std::error_code> ReadSome(std::string& out) {
    char chunk[8192];
    std::error_code ec;
    size_t n = 0;
    if (tls) {
      n = co_await tls->async_read_some(asio::buffer(chunk),
                                        asio::redirect_error(asio::use_awaitable, ec));
    } else {
      n = co_await plain->async_read_some(asio::buffer(chunk),
                                          asio::redirect_error(asio::use_awaitable, ec));
    }
    out.append(chunk, n);
    co_return n > 0 ? std::error_code() : ec;
  }

  // Whether a kept connection may still carry a message: nothing has arrived on it since
  // its last answer (not a close, a reset, nor stray bytes, which on TLS is the
  // close_notify before the close). "" when it may, else what ended it.
  std::string Stale() {
    char byte;
    const ssize_t n = ::recv(socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0) return std::string(kEofError);
    if (n > 0) return UnknownFailure("bytes between answers");
    if (errno == EAGAIN || errno == EWOULDBLOCK) return "";
    return FailureFromErrno(errno);
  }
};

// An HTTP answer from the relay, or why there is none.
struct HttpAnswer {
  static HttpAnswer Failed(std::string failure) {
    HttpAnswer answer;
    answer.failure = std::move(failure);
    return answer;
  }

  std::string failure;  // "" when a response arrived (whatever its status)
  int status = 0;
  std::string body;
  bool reusable = false;
};

// A line of the TCP protocol from the relay, or why there is none.
struct LineAnswer {
  std::string failure;  // "" when a line arrived (whatever it says)
  std::string line;
};

class RelayTransport final : public DeliveryTransport {
 public:
  RelayTransport(const ExperimentContext& context, RelayListener listener, Url relay_url,
                 Clock::time_point zero)
      : executor_(context.executor),
        resolver_(context.resolver),
        ca_file_(context.ca_file),
        timeout_(context.timeout),
        address_map_(context.address_map),
        listener_(listener),
        name_("relay-" + std::string(ListenerName(listener))),
        url_(std::move(relay_url)),
        zero_(zero),
        trace_(zero) {}

  std::string_view name() const override { return name_; }

  asio::awaitable<std::optional<std::string>> Open() override {
    const auto deadline = Clock::now() + timeout_;
    // Where the sending listener is, then the session.
    HttpAnswer info =
        co_await ReceiverExchange("login", Request("GET", relay::kInfoPath, ""), deadline);
    if (!info.failure.empty()) co_return info.failure;
    const Json relay = Json::parse(info.body, nullptr, false);
    const std::string key = std::string(ListenerName(listener_)) + "_port";
    if (info.status != 200) co_return LoginFailed(std::string(kHttpRequestFailed));
    if (!relay.is_object() || !relay.contains(key)) {
      co_return LoginFailed(
          UnknownFailure("relay: malformed answer to " + std::string(relay::kInfoPath)));
    }
    if (!relay[key].is_number_unsigned() || relay[key].get<uint64_t>() == 0 ||
        relay[key].get<uint64_t>() > 65535) {
      co_return LoginFailed(
          UnknownFailure("relay: no " + std::string(ListenerName(listener_)) + " listener"));
    }
    send_port_ = static_cast<uint16_t>(relay[key].get<uint64_t>());
    HttpAnswer made =
        co_await ReceiverExchange("login", Request("POST", relay::kSessionsPath, ""), deadline);
    if (!made.failure.empty()) co_return made.failure;
    if (made.status != 201) co_return LoginFailed(std::string(kHttpRequestFailed));
    const Json session = Json::parse(made.body, nullptr, false);
    if (!session.is_object() || !session.value("session", Json()).is_string() ||
        !session.value("send_token", Json()).is_string() ||
        !session.value("receive_token", Json()).is_string()) {
      co_return LoginFailed(UnknownFailure("relay: malformed session"));
    }
    session_ = session["session"].get<std::string>();
    send_token_ = session["send_token"].get<std::string>();
    receive_token_ = session["receive_token"].get<std::string>();
    Record("receive", "login", receiver_address_, "");
    co_return std::nullopt;
  }

  void FreshSendConnection() override { fresh_ = true; }

  asio::awaitable<SendOutcome> Send(std::string_view text) override {
    SendOutcome outcome;
    if (fresh_ && sender_) {
      Record("send", "close", sender_->address, "");
      DropSender();
    }
    fresh_ = false;
    outcome.t0 = Now();
    const auto deadline = Clock::now() + timeout_;
    auto finish = [&](std::string failure, bool on_send) {
      if (!failure.empty()) {
        outcome.failure = failure;
        outcome.on_send = on_send;
      }
      outcome.t = Now();
      return outcome;
    };
    if (session_.empty()) co_return finish(UnknownFailure("relay: no session"), false);
    if (text.find('\n') != std::string_view::npos) {
      co_return finish(UnknownFailure("relay: a message is one line"), false);
    }
    // A kept connection that the relay (or anything on the way) closed or reset since its
    // last message is replaced; that is not this message's failure.
    if (sender_) {
      if (std::string stale = sender_->Stale(); !stale.empty()) {
        Record("send", "close", sender_->address, stale);
        DropSender();
      }
    }
    if (!sender_) {
      if (auto failure = co_await Connect(&sender_, "send", send_port_,
                                          listener_ == RelayListener::kHttps, deadline)) {
        Record("send", "send", JoinHostPort(addresses_.front().first, send_port_), *failure);
        co_return finish(*failure, false);
      }
    }
    // From here a failure of the connection came while or after the message was written
    // on a working connection (on_send); a refusal by the relay is not the connection's.
    Connection& c = *sender_;
    std::string failure;
    bool connection_failed = false;
    bool keep = true;
    if (listener_ == RelayListener::kTcp) {
      LineAnswer answer = co_await LineExchange(
          c, "SEND " + session_ + " " + send_token_ + " " + std::string(text) + "\n", deadline);
      if (!answer.failure.empty()) {
        failure = answer.failure;
        connection_failed = true;
      } else if (answer.line.starts_with("ERR ")) {
        failure = UnknownFailure("relay: " + answer.line);
      } else if (!answer.line.starts_with("OK ")) {
        failure = UnknownFailure("relay: not a line-protocol answer");
        keep = false;
      }
    } else {
      HttpAnswer answer =
          co_await HttpExchange(c,
                                Request("POST", MessagesPath(), std::string(text), send_token_,
                                        send_port_, "text/plain; charset=utf-8"),
                                deadline);
      if (!answer.failure.empty()) {
        failure = answer.failure;
        connection_failed = true;
      } else {
        if (answer.status != 201) failure = std::string(kHttpRequestFailed);
        keep = answer.reusable;
      }
    }
    Record("send", "send", c.address, failure);
    if (connection_failed || !keep) DropSender();
    co_return finish(failure, connection_failed);
  }

  asio::awaitable<ReceiveOutcome> Receive(std::chrono::milliseconds wait) override {
    ReceiveOutcome outcome;
    const auto until = Clock::now() + wait;
    for (bool first = true;; first = false) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
      if (left.count() < 0) left = std::chrono::milliseconds(0);
      if (!first && left.count() == 0) break;
      const auto poll =
          std::min<std::chrono::milliseconds>(left, std::chrono::seconds(relay::kMaxWaitSeconds));
      const auto deadline = Clock::now() + poll + timeout_;
      if (session_.empty()) {
        outcome.failure = UnknownFailure("relay: no session");
        break;
      }
      char wait_seconds[32];
      std::snprintf(wait_seconds, sizeof wait_seconds, "%.3f", poll.count() / 1000.0);
      const std::string target =
          MessagesPath() + "?after=" + std::to_string(after_) + "&wait=" + wait_seconds;
      HttpAnswer answer = co_await ReceiverExchange(
          "receive", Request("GET", target, "", receive_token_), deadline);
      std::string failure = answer.failure;
      Json page;
      if (failure.empty() && answer.status != 200) failure = std::string(kHttpRequestFailed);
      if (failure.empty()) {
        page = Json::parse(answer.body, nullptr, false);
        if (!page.is_object() || !page.value("messages", Json()).is_array() ||
            !page.value("next", Json()).is_number_unsigned()) {
          failure = UnknownFailure("relay: malformed messages");
        }
      }
      if (answer.failure.empty()) Record("receive", "receive", receiver_address_, failure);
      if (!failure.empty()) {
        outcome.failure = failure;
        break;
      }
      const double t = Now();
      for (const Json& m : page["messages"]) {
        if (!m.is_object()) continue;
        ReceivedMessage received;
        received.t = t;
        if (auto body = m.find("body"); body != m.end() && body->is_string()) {
          received.body = body->get<std::string>();
        } else if (auto b64 = m.find("body_base64"); b64 != m.end() && b64->is_string()) {
          received.body = Base64Decode(b64->get<std::string>()).value_or("");
        }
        outcome.messages.push_back(std::move(received));
      }
      after_ = std::max(after_, page["next"].get<uint64_t>());
      if (!outcome.messages.empty()) break;
    }
    co_return outcome;
  }

  asio::awaitable<void> Close() override {
    if (sender_) {
      if (listener_ == RelayListener::kTcp && sender_->Stale().empty()) {
        co_await LineExchange(*sender_, "QUIT\n", Clock::now() + timeout_, /*expect_line=*/false);
      }
      Record("send", "close", sender_->address, "");
      DropSender();
    }
    if (session_.empty()) co_return;
    HttpAnswer answer = co_await ReceiverExchange(
        "close",
        Request("DELETE", std::string(relay::kSessionsPath) + "/" + session_, "", receive_token_),
        Clock::now() + timeout_);
    if (answer.failure.empty()) {
      Record("receive", "close", receiver_address_,
             answer.status == 204 ? "" : std::string(kHttpRequestFailed));
    }
    DropReceiver();
    session_.clear();
  }

  Json Events() const override { return events_; }

 private:
  double Now() const { return std::chrono::duration<double>(Clock::now() - zero_).count(); }

  std::chrono::milliseconds Left(Clock::time_point deadline) const {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    return std::max(left, std::chrono::milliseconds(1));
  }

  void Record(std::string_view end, std::string_view operation, const std::string& address,
              const std::string& failure) {
    events_.push_back({{"t", Now()},
                       {"end", end},
                       {"operation", operation},
                       {"address", address.empty() ? Json(nullptr) : Json(address)},
                       {"failure", failure.empty() ? Json(nullptr) : Json(failure)}});
  }

  std::string MessagesPath() const {
    return std::string(relay::kSessionsPath) + "/" + session_ + "/messages";
  }

  // An HTTP/1.1 request to the relay's host at `port` (relay_url's by default).
  std::string Request(std::string_view method, std::string_view target, std::string body,
                      const std::string& token = "", uint16_t port = 0,
                      const std::string& content_type = "") const {
    std::vector<std::pair<std::string, std::string>> headers = {
        {"Host", JoinHostPort(url_.host, port ? port : url_.port)}};
    if (!token.empty()) headers.emplace_back("Authorization", "Bearer " + token);
    if (!content_type.empty()) headers.emplace_back("Content-Type", content_type);
    if (body.empty() && method == "POST") headers.emplace_back("Content-Length", "0");
    return SerializeRequest(method, target, headers, body);
  }

  // The relay's addresses (real, contacted), once per transport.
  asio::awaitable<std::optional<std::string>> Resolve() {
    if (!addresses_.empty()) co_return std::nullopt;
    DnsObserver dns(executor_, resolver_, timeout_);
    LookupResult lookup = co_await dns.Lookup(trace_, url_.host);
    if (!lookup.failure.empty() || lookup.addresses.empty()) {
      const std::string failure =
          lookup.failure.empty() ? std::string("dns_no_answer") : lookup.failure;
      Record("receive", "connect", JoinHostPort(url_.host, url_.port), failure);
      co_return failure;
    }
    for (const std::string& ip : lookup.addresses) {
      auto mapped = address_map_.find(ip);
      addresses_.emplace_back(ip, mapped == address_map_.end() ? ip : mapped->second);
    }
    co_return std::nullopt;
  }

  // Connects (and handshakes) `end`'s connection to one of the relay's addresses; the
  // failure of the last address tried, or nullopt.
  asio::awaitable<std::optional<std::string>> Connect(std::unique_ptr<Connection>* out,
                                                      std::string_view end, uint16_t port, bool tls,
                                                      Clock::time_point deadline) {
    std::string failure = "dns_no_answer";
    for (const auto& [real, contacted] : addresses_) {
      const std::string address = JoinHostPort(real, port);
      TcpConnectOutcome connected = co_await ObserveTcpConnect(
          trace_, contacted, port, trace_.NextTransactionId(), Left(deadline));
      Record(end, "connect", address, connected.failure);
      if (!connected.failure.empty()) {
        failure = connected.failure;
        continue;
      }
      auto c = std::make_unique<Connection>();
      c->address = address;
      if (!tls) {
        c->plain = std::move(*connected.socket);
        *out = std::move(c);
        co_return std::nullopt;
      }
      TlsOptions options;
      options.sni = url_.host;
      options.alpn = {"http/1.1"};
      options.ca_file = ca_file_;
      options.timeout = Left(deadline);
      TlsOutcome handshake = co_await ObserveTlsHandshake(
          trace_, std::move(*connected.socket), address, options, trace_.NextTransactionId());
      Record(end, "tls_handshake", address, handshake.failure);
      if (!handshake.failure.empty()) co_return handshake.failure;
      c->tls_context = handshake.context;
      c->tls = std::move(handshake.stream);
      *out = std::move(c);
      co_return std::nullopt;
    }
    co_return failure;
  }

  void DropSender() {
    if (sender_) sender_->Close();
    sender_.reset();
    pending_line_.clear();
  }
  void DropReceiver() {
    if (receiver_) receiver_->Close();
    receiver_.reset();
  }

  // One request and its response on the receiving end's connection, which is opened
  // first when there is none (or the kept one was closed meanwhile) and dropped after
  // a failure or a response that ends it. A failure is recorded as `operation`'s.
  asio::awaitable<HttpAnswer> ReceiverExchange(std::string_view operation, std::string request,
                                               Clock::time_point deadline) {
    if (receiver_) {
      if (std::string stale = receiver_->Stale(); !stale.empty()) {
        Record("receive", "close", receiver_->address, stale);
        DropReceiver();
      }
    }
    if (!receiver_) {
      if (addresses_.empty()) {
        if (auto failure = co_await Resolve()) co_return HttpAnswer::Failed(*failure);
      }
      if (auto failure = co_await Connect(&receiver_, "receive", url_.port, url_.scheme == "https",
                                          deadline)) {
        co_return HttpAnswer::Failed(*failure);
      }
      receiver_address_ = receiver_->address;
    }
    HttpAnswer answer = co_await HttpExchange(*receiver_, std::move(request), deadline);
    if (!answer.failure.empty()) Record("receive", operation, receiver_address_, answer.failure);
    if (!answer.failure.empty() || !answer.reusable) DropReceiver();
    co_return answer;
  }

  std::optional<std::string> LoginFailed(std::string failure) {
    Record("receive", "login", receiver_address_, failure);
    DropReceiver();
    return failure;
  }

  // Writes `request` and reads one response, before `deadline`.
  asio::awaitable<HttpAnswer> HttpExchange(Connection& c, std::string request,
                                           Clock::time_point deadline) {
    HttpAnswer answer;
    Deadline watchdog(executor_, Left(deadline), [&c] { c.Close(); });
    std::error_code ec = co_await c.Write(request);
    if (watchdog.expired()) ec = asio::error::timed_out;
    if (ec) {
      answer.failure =
          watchdog.expired() ? std::string(kGenericTimeoutError) : FailureFromErrorCode(ec);
      co_return answer;
    }
    HttpLimits limits;
    limits.body_cap = kMaxReplyBytes;
    HttpResponseParser parser(limits);
    std::string bytes;
    while (parser.state() == HttpResponseParser::State::kNeedMore) {
      bytes.clear();
      ec = co_await c.ReadSome(bytes);
      if (watchdog.expired()) {
        answer.failure = std::string(kGenericTimeoutError);
        co_return answer;
      }
      if (!bytes.empty()) {
        parser.Feed(bytes);
        continue;
      }
      const std::string failure = FailureFromErrorCode(ec);
      if (failure == kEofError && parser.FeedEof() == HttpResponseParser::State::kDone) break;
      answer.failure = failure.empty() ? std::string(kEofError) : failure;
      co_return answer;
    }
    if (parser.state() == HttpResponseParser::State::kError) {
      answer.failure = UnknownFailure("malformed HTTP response: " + parser.error());
      co_return answer;
    }
    answer.status = parser.status_code();
    answer.body = parser.body();
    answer.reusable = parser.ConnectionReusable();
    co_return answer;
  }

  // Writes `line` and reads one answer line, before `deadline`.
  asio::awaitable<LineAnswer> LineExchange(Connection& c, std::string line,
                                           Clock::time_point deadline, bool expect_line = true) {
    LineAnswer answer;
    Deadline watchdog(executor_, Left(deadline), [&c] { c.Close(); });
    std::error_code ec = co_await c.Write(line);
    if (ec || watchdog.expired()) {
      answer.failure =
          watchdog.expired() ? std::string(kGenericTimeoutError) : FailureFromErrorCode(ec);
      co_return answer;
    }
    if (!expect_line) co_return answer;
    size_t newline;
    while ((newline = pending_line_.find('\n')) == std::string::npos) {
      if (pending_line_.size() > kMaxReplyLine) {
        answer.failure = UnknownFailure("relay: answer line too long");
        co_return answer;
      }
      ec = co_await c.ReadSome(pending_line_);
      if (watchdog.expired()) {
        answer.failure = std::string(kGenericTimeoutError);
        co_return answer;
      }
      if (ec) {
        answer.failure = FailureFromErrorCode(ec);
        co_return answer;
      }
    }
    answer.line = pending_line_.substr(0, newline);
    pending_line_.erase(0, newline + 1);
    co_return answer;
  }

  asio::any_io_executor executor_;
  ResolverSpec resolver_;
  std::string ca_file_;
  std::chrono::milliseconds timeout_;
  AddressMap address_map_;
  RelayListener listener_;
  std::string name_;
  Url url_;
  Clock::time_point zero_;
  Trace trace_;  // the observers' records; the transport reports Events() instead

  std::vector<std::pair<std::string, std::string>> addresses_;  // (real, contacted)
  uint16_t send_port_ = 0;
  bool fresh_ = false;  // the next Send opens a new sending connection
  std::string session_, send_token_, receive_token_;
  uint64_t after_ = 0;
  std::unique_ptr<Connection> sender_, receiver_;
  std::string receiver_address_;  // of the last receiving connection
  std::string pending_line_;      // the sending connection's bytes past the last answer line
  Json events_ = Json::array();
};

}  // namespace

std::optional<RelayListener> RelayListenerFromName(std::string_view transport) {
  if (transport == "relay-tcp") return RelayListener::kTcp;
  if (transport == "relay-http") return RelayListener::kHttp;
  if (transport == "relay-https") return RelayListener::kHttps;
  return std::nullopt;
}

Result<std::unique_ptr<DeliveryTransport>> MakeRelayTransport(const ExperimentContext& context,
                                                              const DeliveryOptions& options,
                                                              DeliveryClock::time_point zero) {
  auto listener = RelayListenerFromName(options.transport);
  if (!listener) return Error{"delivery: '" + options.transport + "' is not a relay transport"};
  if (options.relay_url.empty()) {
    return Error{"delivery: " + options.transport + " needs relay_url"};
  }
  auto url = ParseUrl(options.relay_url);
  if (!url.ok()) return Error{"delivery: relay_url: " + url.error()};
  std::unique_ptr<DeliveryTransport> transport =
      std::make_unique<RelayTransport>(context, *listener, std::move(*url), zero);
  return transport;
}

}  // namespace vigil
