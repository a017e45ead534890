#include "vantage/http/server.h"

#include <array>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <atomic>
#include <cstdio>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

namespace vigil {
namespace {

using asio::ip::tcp;
using Clock = std::chrono::steady_clock;
constexpr auto kTuple = asio::experimental::as_tuple(asio::use_awaitable);

constexpr auto kWriteTimeout = std::chrono::seconds(10);
constexpr auto kLingerTimeout = std::chrono::seconds(2);
constexpr size_t kMaxHeadBytes = 16 << 10;
constexpr size_t kMaxLingerBytes = size_t{1} << 20;
constexpr int kListenBacklog = 4096;

const char* ReasonPhrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 400:
      return "Bad Request";
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

// Appends what the peer sends next to `buffer`; 0 on EOF, error or `deadline`.
asio::awaitable<size_t> ReadSome(tcp::socket& socket, std::string& buffer,
                                 Clock::time_point deadline) {
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
asio::awaitable<bool> WriteReply(tcp::socket& socket, const HttpReply& reply, bool close) {
  using namespace asio::experimental::awaitable_operators;
  std::string head = "HTTP/1.1 " + std::to_string(reply.status) + " " + ReasonPhrase(reply.status) +
                     "\r\nContent-Type: " + reply.content_type +
                     "\r\nContent-Length: " + std::to_string(reply.body.size()) + "\r\n" +
                     reply.extra_headers +
                     (close ? "Connection: close\r\n\r\n" : "Connection: keep-alive\r\n\r\n");
  const std::array<asio::const_buffer, 2> buffers{asio::buffer(head), asio::buffer(reply.body)};
  asio::steady_timer timer(socket.get_executor(), kWriteTimeout);
  auto result = co_await (asio::async_write(socket, buffers, kTuple) || timer.async_wait(kTuple));
  co_return result.index() == 0 && !std::get<0>(std::get<0>(result));
}

// After refusing a request whose body was not read: stop sending, then read and drop
// what the client still sends for a while, so that closing with unread bytes does
// not reset the connection (and the answer with it) before the client reads it.
asio::awaitable<void> LingeringClose(tcp::socket& socket) {
  asio::error_code ec;
  socket.shutdown(tcp::socket::shutdown_send, ec);
  const auto deadline = Clock::now() + kLingerTimeout;
  std::string scratch;
  for (size_t dropped = 0; dropped < kMaxLingerBytes;) {
    scratch.clear();
    const size_t n = co_await ReadSome(socket, scratch, deadline);
    if (n == 0) break;
    dropped += n;
  }
  socket.close(ec);
}

}  // namespace

HttpReply JsonError(int status, const std::string& reason) {
  return HttpReply{status, nlohmann::json{{"error", reason}}.dump(
                               -1, ' ', false, nlohmann::json::error_handler_t::replace)};
}

struct HttpServer::Impl {
  // Requests admitted and not answered. Declared first, destroyed last: the sessions'
  // frames (and their InFlight) go with the contexts below.
  std::atomic<size_t> in_flight{0};
  HttpServerConfig config;
  Admit admit;
  Handle handle;
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  std::optional<tcp::acceptor> acceptor;  // on contexts[0]; destroyed before them
  size_t next_context = 0;                // the accept loop's alone
  std::mutex mutex;
  bool stop_requested = false;  // guarded by mutex

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
      : config(std::move(c)), admit(std::move(a)), handle(std::move(h)) {
    size_t threads = config.threads;
    if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
    for (size_t i = 0; i < threads; ++i) contexts.push_back(std::make_unique<asio::io_context>(1));
  }

  void Log(const RequestHead& head, int status) const {
    // Method, path and status only: never the client's address, nor the query.
    if (!config.log_requests) return;
    const std::string path = head.target.substr(0, head.target.find('?'));
    std::fprintf(stderr, "%s: %s %s %d\n", config.name.c_str(), head.method.c_str(), path.c_str(),
                 status);
  }

  asio::awaitable<void> Accept() {
    for (;;) {
      asio::io_context& home = *contexts[next_context++ % contexts.size()];
      auto [ec, socket] = co_await acceptor->async_accept(home, kTuple);
      if (ec == asio::error::operation_aborted || !acceptor->is_open()) co_return;
      if (ec) {
        // Out of descriptors and the like: let connections finish, then go on.
        asio::steady_timer pause(acceptor->get_executor(), std::chrono::milliseconds(20));
        co_await pause.async_wait(kTuple);
        continue;
      }
      asio::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      asio::co_spawn(home, Session(std::move(socket)), asio::detached);
    }
  }

  // Reads requests and answers them until the client closes, misbehaves, idles past
  // the keep-alive timeout or has sent the most requests one connection may carry.
  asio::awaitable<void> Session(tcp::socket socket) {
    std::string buffer;
    asio::error_code peer_error;
    auto peer = socket.remote_endpoint(peer_error).address();
    if (peer.is_v6() && peer.to_v6().is_v4_mapped()) {
      peer = asio::ip::make_address_v4(asio::ip::v4_mapped, peer.to_v6());
    }
    const std::string peer_ip = peer_error ? std::string() : peer.to_string();
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
        asio::error_code ec;
        socket.shutdown(tcp::socket::shutdown_both, ec);
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
  const std::string& ip = impl_->config.listen_ip;
  const std::string where = (ip.find(':') != std::string::npos ? "[" + ip + "]" : ip) + ":" +
                            std::to_string(impl_->config.listen_port);
  asio::error_code ec;
  const auto address = asio::ip::make_address(ip, ec);
  if (ec) return Error{"cannot listen on " + where + ": not an IP address"};
  tcp::acceptor acceptor(*impl_->contexts.front());
  const tcp::endpoint endpoint(address, impl_->config.listen_port);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (ec) {
    if (impl_->config.listen_port == 0) return Error{"cannot listen on " + where};
    return Error{"cannot listen on " + where + " (in use, or not an address of this machine)"};
  }
  // The kernel caps the backlog at net.core.somaxconn.
  acceptor.listen(kListenBacklog, ec);
  if (ec) return Error{"cannot listen on " + where + ": " + ec.message()};
  const uint16_t port = acceptor.local_endpoint(ec).port();
  impl_->acceptor.emplace(std::move(acceptor));
  return port;
}

void HttpServer::Serve() {
  {
    std::lock_guard lock(impl_->mutex);
    if (impl_->stop_requested || !impl_->acceptor) return;
  }
  auto& contexts = impl_->contexts;
  asio::co_spawn(*contexts.front(), impl_->Accept(), asio::detached);
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
  std::vector<std::thread> threads;
  for (size_t i = 1; i < contexts.size(); ++i) {
    guards.push_back(asio::make_work_guard(*contexts[i]));
    threads.emplace_back([&context = *contexts[i]] { context.run(); });
  }
  contexts.front()->run();
  for (auto& context : contexts) context->stop();
  for (auto& thread : threads) thread.join();
}

void HttpServer::Stop() {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stop_requested = true;
  }
  // io_context::stop is thread-safe and sticks: a run() that has not started yet
  // returns at once.
  for (auto& context : impl_->contexts) context->stop();
}

}  // namespace vigil
