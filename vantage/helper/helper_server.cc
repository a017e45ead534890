#include "vantage/helper/helper_server.h"

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
#include <chrono>
#include <cstdio>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "probe/experiments/web_connectivity/control_protocol.h"
#include "vantage/http/request_head.h"

namespace vigil {

namespace {

using asio::ip::tcp;
using Clock = std::chrono::steady_clock;
constexpr auto kTuple = asio::experimental::as_tuple(asio::use_awaitable);

// Slow clients must not hold a connection for long: a request is small.
constexpr auto kReadTimeout = std::chrono::seconds(10);
constexpr auto kWriteTimeout = std::chrono::seconds(10);
constexpr auto kKeepAlive = std::chrono::seconds(5);
constexpr auto kLingerTimeout = std::chrono::seconds(2);
constexpr size_t kKeepAliveMaxCount = 20;
constexpr size_t kMaxHeadBytes = 16 << 10;
constexpr size_t kMaxLingerBytes = size_t{1} << 20;
constexpr int kListenBacklog = 4096;

std::string ErrorBody(const std::string& reason) { return Json{{"error", reason}}.dump(); }

const char* ReasonPhrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 413:
      return "Payload Too Large";
    case 415:
      return "Unsupported Media Type";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
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
asio::awaitable<bool> WriteReply(tcp::socket& socket, int status, const std::string& body,
                                 bool close, const char* extra = "") {
  using namespace asio::experimental::awaitable_operators;
  std::string head =
      "HTTP/1.1 " + std::to_string(status) + " " + ReasonPhrase(status) +
      "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\n" + extra + (close ? "Connection: close\r\n\r\n" : "Connection: keep-alive\r\n\r\n");
  const std::array<asio::const_buffer, 2> buffers{asio::buffer(head), asio::buffer(body)};
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

asio::awaitable<HelperReply> AnswerControlRequest(std::string_view body,
                                                  const ControlMeasurementOptions& options) {
  auto json = ParseControlJson(body);
  if (!json.ok())
    co_return HelperReply{400, ErrorBody("request body is not JSON: " + json.error())};
  auto request = ControlRequestFromJson(*json);
  if (!request.ok())
    co_return HelperReply{400, ErrorBody("bad control request: " + request.error())};
  std::optional<ControlResponse> response;
  try {
    response = co_await MeasureControl(*request, options);
  } catch (...) {
    // A bug of ours, not the client's: say so without details.
  }
  if (!response) co_return HelperReply{500, ErrorBody("internal error while measuring")};
  co_return HelperReply{200, ToJson(*response).dump()};
}

HelperReply HandleControlRequest(std::string_view body, const ControlMeasurementOptions& options) {
  asio::io_context io;
  HelperReply reply{500, ErrorBody("internal error while measuring")};
  asio::co_spawn(io, AnswerControlRequest(body, options), [&](std::exception_ptr e, HelperReply r) {
    if (!e) reply = std::move(r);
  });
  io.run();
  return reply;
}

struct HelperServer::Impl {
  HelperConfig config;
  // One event loop per thread; a connection lives on one of them for its whole life,
  // so each measurement runs single-threaded as the observers expect.
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  std::optional<tcp::acceptor> acceptor;  // on contexts[0]; destroyed before them
  std::atomic<size_t> in_flight{0};
  size_t next_context = 0;  // the accept loop's alone
  std::mutex mutex;
  bool stop_requested = false;  // guarded by mutex

  explicit Impl(HelperConfig c) : config(std::move(c)) {
    size_t threads = config.threads;
    if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
    for (size_t i = 0; i < threads; ++i) contexts.push_back(std::make_unique<asio::io_context>(1));
  }

  void Log(const RequestHead& head, int status) const {
    // Method, path and status only: never the client's address.
    if (!config.log_requests) return;
    const std::string path = head.target.substr(0, head.target.find('?'));
    std::fprintf(stderr, "vigil helper: %s %s %d\n", head.method.c_str(), path.c_str(), status);
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
  // the keep-alive timeout or has sent kKeepAliveMaxCount requests.
  asio::awaitable<void> Session(tcp::socket socket) {
    std::string buffer;
    for (size_t served = 0; served < kKeepAliveMaxCount; ++served) {
      const bool last = served + 1 == kKeepAliveMaxCount;
      // The head: a fresh connection gets the read timeout, a kept one the idle timeout.
      auto deadline = Clock::now() + (served == 0 ? kReadTimeout : kKeepAlive);
      std::optional<size_t> head_end;
      while (!(head_end = FindHeadEnd(buffer))) {
        if (buffer.size() > kMaxHeadBytes) {
          co_await WriteReply(socket, 431, ErrorBody("request head over 16 KiB"), true);
          co_await LingeringClose(socket);
          co_return;
        }
        if (co_await ReadSome(socket, buffer, deadline) == 0) co_return;
      }
      auto parsed = ParseRequestHead(std::string_view(buffer).substr(0, *head_end));
      if (!parsed.ok()) {
        co_await WriteReply(socket, 400, ErrorBody("malformed HTTP request: " + parsed.error()),
                            true);
        co_await LingeringClose(socket);
        co_return;
      }
      const RequestHead& head = *parsed;
      auto refuse = [&](int status, const std::string& reason,
                        const char* extra = "") -> asio::awaitable<void> {
        Log(head, status);
        co_await WriteReply(socket, status, ErrorBody(reason), true, extra);
        co_await LingeringClose(socket);
      };
      // Before the body is read: the wrong path, method or encoding is refused
      // without reading (or inflating) anything.
      const std::string path = head.target.substr(0, head.target.find('?'));
      if (path != "/") {
        co_await refuse(404, "no such endpoint: the control helper answers POST /");
        co_return;
      }
      if (head.method != "POST") {
        co_await refuse(405, "method not allowed: the control helper answers POST /",
                        "Allow: POST\r\n");
        co_return;
      }
      if (auto encoding = head.Field("Content-Encoding"); encoding && *encoding != "identity") {
        co_await refuse(415, "request bodies must not be encoded");
        co_return;
      }
      auto length = RequestBodyLength(head);
      if (!length.ok()) {
        co_await refuse(400, "malformed HTTP request: " + length.error());
        co_return;
      }
      if (*length > config.max_request_bytes) {
        co_await refuse(413, "request body too large");
        co_return;
      }
      const size_t body_end = *head_end + *length;
      if (buffer.size() < body_end) {
        if (auto expect = head.Field("Expect"); expect && *expect == "100-continue") {
          static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
          co_await asio::async_write(socket, asio::buffer(kContinue), kTuple);
        }
        deadline = Clock::now() + kReadTimeout;
        while (buffer.size() < body_end) {
          if (co_await ReadSome(socket, buffer, deadline) == 0) co_return;
        }
      }
      const std::string_view body = std::string_view(buffer).substr(*head_end, *length);
      const bool close = last || !head.KeepAlive();
      HelperReply reply;
      const char* extra = "";
      if (in_flight.fetch_add(1) >= config.max_in_flight) {
        reply = {503, ErrorBody("busy: too many measurements in flight, retry later")};
        extra = "Retry-After: 1\r\n";
      } else {
        reply = co_await AnswerControlRequest(body, config.measurement);
      }
      in_flight.fetch_sub(1);
      Log(head, reply.status);
      if (!co_await WriteReply(socket, reply.status, reply.body, close, extra) || close) {
        asio::error_code ec;
        socket.shutdown(tcp::socket::shutdown_both, ec);
        co_return;
      }
      buffer.erase(0, body_end);  // a pipelined next request stays
    }
  }
};

HelperServer::HelperServer(HelperConfig config)
    : impl_(std::make_unique<Impl>(std::move(config))) {}

HelperServer::~HelperServer() { Stop(); }

Result<uint16_t> HelperServer::Bind() {
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

void HelperServer::Serve() {
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

void HelperServer::Stop() {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stop_requested = true;
  }
  // io_context::stop is thread-safe and sticks: a run() that has not started yet
  // returns at once.
  for (auto& context : impl_->contexts) context->stop();
}

}  // namespace vigil
