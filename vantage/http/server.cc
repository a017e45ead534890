#include "vantage/http/server.h"

#include <openssl/ssl.h>

#include <array>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ssl/context.hpp>
#include <asio/ssl/stream.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <atomic>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <vector>

#include "vantage/base/server_loops.h"

namespace vigil {
namespace {

using asio::ip::tcp;
using TlsStream = asio::ssl::stream<tcp::socket>;
using Clock = std::chrono::steady_clock;
constexpr auto kTuple = asio::experimental::as_tuple(asio::use_awaitable);

constexpr auto kWriteTimeout = std::chrono::seconds(10);
constexpr auto kLingerTimeout = std::chrono::seconds(2);
constexpr size_t kMaxHeadBytes = 16 << 10;
constexpr size_t kMaxLingerBytes = size_t{1} << 20;

const char* ReasonPhrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 409:
      return "Conflict";
    case 411:
      return "Length Required";
    case 413:
      return "Payload Too Large";
    case 415:
      return "Unsupported Media Type";
    case 422:
      return "Unprocessable Content";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    case 507:
      return "Insufficient Storage";
    default:
      return "Error";
  }
}

// The functions below serve plain TCP and TLS alike (Stream: tcp::socket or TlsStream).

// Appends what the peer sends next to `buffer`; 0 on EOF, error or `deadline`.
template <typename Stream>
asio::awaitable<size_t> ReadSome(Stream& socket, std::string& buffer, Clock::time_point deadline) {
  using namespace asio::experimental::awaitable_operators;
  char chunk[16384];
  asio::steady_timer timer(socket.get_executor(), deadline);
  auto result =
      co_await (socket.async_read_some(asio::buffer(chunk), kTuple) || timer.async_wait(kTuple));
  if (result.index() != 0) co_return 0;
  auto [ec, n] = std::get<0>(result);
  if (ec) co_return 0;
  buffer.append(chunk, n);
  co_return n;
}

// One response in one write (headers and body together: no Nagle stall between them).
// A 204 has neither body nor Content-Length (RFC 9110 §8.6).
template <typename Stream>
asio::awaitable<bool> WriteReply(Stream& socket, const HttpReply& reply, bool close) {
  using namespace asio::experimental::awaitable_operators;
  const bool no_content = reply.status == 204;
  std::string head =
      "HTTP/1.1 " + std::to_string(reply.status) + " " + ReasonPhrase(reply.status) + "\r\n" +
      (no_content ? std::string()
                  : "Content-Type: " + reply.content_type +
                        "\r\nContent-Length: " + std::to_string(reply.body.size()) + "\r\n") +
      reply.extra_headers +
      (close ? "Connection: close\r\n\r\n" : "Connection: keep-alive\r\n\r\n");
  const std::array<asio::const_buffer, 2> buffers{
      asio::buffer(head), asio::buffer(reply.body.data(), no_content ? 0 : reply.body.size())};
  asio::steady_timer timer(socket.get_executor(), kWriteTimeout);
  auto result = co_await (asio::async_write(socket, buffers, kTuple) || timer.async_wait(kTuple));
  co_return result.index() == 0 && !std::get<0>(std::get<0>(result));
}

// The TCP socket under a stream.
tcp::socket& Raw(tcp::socket& socket) { return socket; }
tcp::socket& Raw(TlsStream& stream) { return stream.next_layer(); }

// Stops sending on plain TCP: a FIN.
asio::awaitable<void> EndSending(tcp::socket& socket) {
  asio::error_code ec;
  socket.shutdown(tcp::socket::shutdown_send, ec);
  co_return;
}

// Stops sending on TLS: close_notify, then a FIN. Asio's shutdown then waits for the
// client's close_notify, reading (and dropping) what comes before it, which lingers
// as below; bounded like the lingering close.
asio::awaitable<void> EndSending(TlsStream& stream) {
  using namespace asio::experimental::awaitable_operators;
  asio::steady_timer timer(stream.get_executor(), kLingerTimeout);
  co_await (stream.async_shutdown(kTuple) || timer.async_wait(kTuple));
  asio::error_code ec;
  stream.next_layer().shutdown(tcp::socket::shutdown_send, ec);
}

// After refusing a request whose body was not read: stop sending, then read and drop
// what the client still sends for a while, so that closing with unread bytes does
// not reset the connection (and the answer with it) before the client reads it.
template <typename Stream>
asio::awaitable<void> LingeringClose(Stream& stream) {
  co_await EndSending(stream);
  tcp::socket& socket = Raw(stream);
  const auto deadline = Clock::now() + kLingerTimeout;
  std::string scratch;
  for (size_t dropped = 0; dropped < kMaxLingerBytes;) {
    scratch.clear();
    const size_t n = co_await ReadSome(socket, scratch, deadline);
    if (n == 0) break;
    dropped += n;
  }
  asio::error_code ec;
  socket.close(ec);
}

// The end of a connection after its last answer.
asio::awaitable<void> Finish(tcp::socket& socket) {
  asio::error_code ec;
  socket.shutdown(tcp::socket::shutdown_both, ec);
  co_return;
}

asio::awaitable<void> Finish(TlsStream& stream) {
  co_await EndSending(stream);
  asio::error_code ec;
  stream.lowest_layer().close(ec);
}

// The client's address as text, IPv4-mapped IPv6 as IPv4; "" when unknown.
std::string PeerIp(const tcp::socket& socket) {
  asio::error_code ec;
  auto peer = socket.remote_endpoint(ec).address();
  if (ec) return "";
  if (peer.is_v6() && peer.to_v6().is_v4_mapped()) {
    peer = asio::ip::make_address_v4(asio::ip::v4_mapped, peer.to_v6());
  }
  return peer.to_string();
}

// The server's TLS context from PEM files: TLS 1.2 or newer, the key checked
// against the certificate.
Result<std::unique_ptr<asio::ssl::context>> LoadTlsContext(const std::string& cert_file,
                                                           const std::string& key_file) {
  auto context = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
  context->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                       asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                       asio::ssl::context::no_tlsv1_1 | asio::ssl::context::no_compression);
  asio::error_code ec;
  context->use_certificate_chain_file(cert_file, ec);
  if (ec) return Error{"cannot use certificate '" + cert_file + "': " + ec.message()};
  context->use_private_key_file(key_file, asio::ssl::context::pem, ec);
  if (ec) return Error{"cannot use private key '" + key_file + "': " + ec.message()};
  if (SSL_CTX_check_private_key(context->native_handle()) != 1) {
    return Error{"private key '" + key_file + "' does not match certificate '" + cert_file + "'"};
  }
  return context;
}

}  // namespace

HttpReply JsonError(int status, const std::string& reason) {
  return HttpReply{status, nlohmann::json{{"error", reason}}.dump(
                               -1, ' ', false, nlohmann::json::error_handler_t::replace)};
}

struct HttpServer::Impl {
  // Requests admitted and not answered. Declared first, destroyed last: the sessions'
  // frames (and their InFlight) go with the loops below.
  std::atomic<size_t> in_flight{0};
  HttpServerConfig config;
  Admit admit;
  Handle handle;
  std::unique_ptr<asio::ssl::context> tls;  // set by Bind for HTTPS; outlives the sessions
  ServerLoops loops;                        // declared last: destroyed first

  // One request in flight for as long as it lives (a session's frame is destroyed with
  // its locals when its loop stops, so nothing is left counted).
  struct InFlight {
    explicit InFlight(std::atomic<size_t>& c) : counter(c), count(c.fetch_add(1) + 1) {}
    ~InFlight() { counter.fetch_sub(1); }
    InFlight(const InFlight&) = delete;
    InFlight& operator=(const InFlight&) = delete;
    std::atomic<size_t>& counter;
    const size_t count;  // in flight with this one
  };

  Impl(HttpServerConfig c, Admit a, Handle h)
      : config(std::move(c)), admit(std::move(a)), handle(std::move(h)), loops(config.threads) {}

  void Log(const RequestHead& head, int status) const {
    // Method, path and status only: never the client's address, nor the query.
    if (!config.log_requests) return;
    std::string path = head.target.substr(0, head.target.find('?'));
    if (config.log_path) path = config.log_path(path);
    std::fprintf(stderr, "%s: %s %s %d\n", config.name.c_str(), head.method.c_str(), path.c_str(),
                 status);
  }

  void Start(tcp::socket socket) {
    auto home = socket.get_executor();
    if (tls) {
      asio::co_spawn(home, TlsSession(std::move(socket)), asio::detached);
    } else {
      asio::co_spawn(home, PlainSession(std::move(socket)), asio::detached);
    }
  }

  asio::awaitable<void> PlainSession(tcp::socket socket) {
    const std::string peer_ip = PeerIp(socket);
    co_await Session(socket, peer_ip);
  }

  // The handshake, under the read timeout; a client that fails it is dropped unlogged
  // (there is no request to log).
  asio::awaitable<void> TlsSession(tcp::socket socket) {
    using namespace asio::experimental::awaitable_operators;
    const std::string peer_ip = PeerIp(socket);
    TlsStream stream(std::move(socket), *tls);
    asio::steady_timer timer(stream.get_executor(), config.read_timeout);
    auto handshake = co_await (stream.async_handshake(asio::ssl::stream_base::server, kTuple) ||
                               timer.async_wait(kTuple));
    if (handshake.index() != 0 || std::get<0>(std::get<0>(handshake))) {
      asio::error_code ec;
      stream.lowest_layer().close(ec);
      co_return;
    }
    co_await Session(stream, peer_ip);
  }

  // Reads requests and answers them until the client closes, misbehaves, idles past
  // the keep-alive timeout or has sent the most requests one connection may carry.
  template <typename Stream>
  asio::awaitable<void> Session(Stream& socket, const std::string& peer_ip) {
    std::string buffer;
    const size_t max_requests = std::max<size_t>(1, config.keep_alive_max_requests);
    for (size_t served = 0; served < max_requests; ++served) {
      const bool last = served + 1 == max_requests;
      // The head: a fresh connection gets the read timeout, a kept one the idle timeout.
      auto deadline = Clock::now() + (served == 0 ? config.read_timeout : config.keep_alive);
      std::optional<size_t> head_end;
      while (!(head_end = FindHeadEnd(buffer))) {
        if (buffer.size() > kMaxHeadBytes) {
          co_await WriteReply(socket, JsonError(431, "request head over 16 KiB"), true);
          co_await LingeringClose(socket);
          co_return;
        }
        if (co_await ReadSome(socket, buffer, deadline) == 0) co_return;
      }
      auto parsed = ParseRequestHead(std::string_view(buffer).substr(0, *head_end));
      if (!parsed.ok()) {
        co_await WriteReply(socket, JsonError(400, "malformed HTTP request: " + parsed.error()),
                            true);
        co_await LingeringClose(socket);
        co_return;
      }
      const RequestHead& head = *parsed;
      auto refuse = [&](HttpReply reply) -> asio::awaitable<void> {
        Log(head, reply.status);
        co_await WriteReply(socket, reply, true);
        co_await LingeringClose(socket);
      };
      const std::string_view target = head.target;
      const size_t question = target.find('?');
      const std::string_view path = target.substr(0, question);
      const std::string_view query =
          question == std::string_view::npos ? std::string_view() : target.substr(question + 1);
      if (auto refusal = admit(head, path)) {
        co_await refuse(std::move(*refusal));
        co_return;
      }
      // Counted from here until the answer is written or the connection ends.
      std::optional<InFlight> counted(std::in_place, in_flight);
      if (config.max_in_flight > 0 && counted->count > config.max_in_flight) {
        counted.reset();  // a refused request does not count while it is closed
        HttpReply busy = JsonError(503, "busy: " + std::to_string(config.max_in_flight) +
                                            " requests in flight; retry later");
        busy.extra_headers = "Retry-After: " + std::to_string(config.retry_after.count()) + "\r\n";
        co_await refuse(std::move(busy));
        co_return;
      }
      auto length = RequestBodyLength(head);
      if (!length.ok()) {
        co_await refuse(JsonError(400, "malformed HTTP request: " + length.error()));
        co_return;
      }
      if (*length > config.max_request_bytes) {
        co_await refuse(JsonError(
            413, "request body over " + std::to_string(config.max_request_bytes) + " bytes"));
        co_return;
      }
      const size_t body_end = *head_end + *length;
      if (buffer.size() < body_end) {
        if (auto expect = head.Field("Expect"); expect && *expect == "100-continue") {
          static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
          co_await asio::async_write(socket, asio::buffer(kContinue), kTuple);
        }
        deadline = Clock::now() + config.read_timeout;
        while (buffer.size() < body_end) {
          if (co_await ReadSome(socket, buffer, deadline) == 0) co_return;
        }
      }
      const ServerRequest request{head, path, query,
                                  std::string_view(buffer).substr(*head_end, *length), peer_ip};
      const bool close = last || !head.KeepAlive();
      HttpReply reply;
      try {
        reply = co_await handle(request);
      } catch (...) {
        // A bug of ours, not the client's: say so without details.
        reply = JsonError(500, "internal error");
      }
      Log(head, reply.status);
      if (!co_await WriteReply(socket, reply, close) || close) {
        co_await Finish(socket);
        co_return;
      }
      buffer.erase(0, body_end);  // a pipelined next request stays
    }
  }
};

HttpServer::HttpServer(HttpServerConfig config, Admit admit, Handle handle)
    : impl_(std::make_unique<Impl>(std::move(config), std::move(admit), std::move(handle))) {}

HttpServer::~HttpServer() { Stop(); }

Result<uint16_t> HttpServer::Bind() {
  const HttpServerConfig& config = impl_->config;
  if (!config.tls_cert_file.empty() || !config.tls_key_file.empty()) {
    if (config.tls_cert_file.empty() || config.tls_key_file.empty()) {
      return Error{"HTTPS needs both a certificate and a key"};
    }
    auto tls = LoadTlsContext(config.tls_cert_file, config.tls_key_file);
    if (!tls.ok()) return Error{tls.error()};
    impl_->tls = std::move(*tls);
  }
  return impl_->loops.Bind(config.listen_ip, config.listen_port);
}

void HttpServer::Serve() {
  impl_->loops.Serve([impl = impl_.get()](tcp::socket socket) { impl->Start(std::move(socket)); });
}

void HttpServer::Stop() { impl_->loops.Stop(); }

}  // namespace vigil
