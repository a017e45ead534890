#include "vantage/helper/helper_server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>

#include "probe/experiments/web_connectivity/control_protocol.h"

namespace vigil {

namespace {

// Slow clients must not hold a pool thread for long: a request is small.
constexpr time_t kReadTimeoutSeconds = 10;
constexpr time_t kWriteTimeoutSeconds = 10;
constexpr time_t kKeepAliveSeconds = 5;
constexpr int kListenBacklog = 4096;
constexpr size_t kKeepAliveMaxCount = 20;
// Threads beyond max_in_flight answer 503, 404, ... while every measuring thread is busy.
constexpr size_t kSpareThreads = 4;

std::string ErrorBody(const std::string& reason) { return Json{{"error", reason}}.dump(); }

void SetError(httplib::Response& res, int status, const std::string& reason) {
  res.status = status;
  res.set_content(ErrorBody(reason), "application/json");
}

}  // namespace

HelperReply HandleControlRequest(std::string_view body, const ControlMeasurementOptions& options) {
  HelperReply reply;
  auto json = ParseControlJson(body);
  if (!json.ok()) return {400, ErrorBody("request body is not JSON: " + json.error())};
  auto request = ControlRequestFromJson(*json);
  if (!request.ok()) return {400, ErrorBody("bad control request: " + request.error())};
  try {
    asio::io_context io;
    std::optional<ControlResponse> response;
    std::exception_ptr error;
    asio::co_spawn(io, MeasureControl(*request, options),
                   [&](std::exception_ptr e, ControlResponse r) {
                     error = e;
                     if (!e) response = std::move(r);
                   });
    io.run();
    if (error) std::rethrow_exception(error);
    reply.body = ToJson(*response).dump();
  } catch (...) {
    // A bug of ours, not the client's: say so without details.
    return {500, ErrorBody("internal error while measuring")};
  }
  return reply;
}

struct HelperServer::Impl {
  HelperConfig config;
  httplib::Server server;
  std::atomic<size_t> in_flight{0};
  std::mutex mutex;
  bool stop_requested = false;  // guarded by mutex
  bool serving = false;         // guarded by mutex

  explicit Impl(HelperConfig c) : config(std::move(c)) {
    const size_t threads = config.max_in_flight + kSpareThreads;
    server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    server.set_read_timeout(kReadTimeoutSeconds, 0);
    server.set_write_timeout(kWriteTimeoutSeconds, 0);
    // httplib writes a response's headers and body in separate sends: without
    // TCP_NODELAY, Nagle holds the body back for the headers' ACK, a whole round
    // trip more for every answer.
    server.set_tcp_nodelay(true);
    server.set_keep_alive_timeout(kKeepAliveSeconds);
    server.set_keep_alive_max_count(kKeepAliveMaxCount);
    server.set_payload_max_length(config.max_request_bytes);

    // Before the body is read: the wrong path, method or encoding is refused
    // without reading (or inflating) anything.
    server.set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
      if (req.path != "/") {
        SetError(res, 404, "no such endpoint: the control helper answers POST /");
      } else if (req.method != "POST") {
        res.set_header("Allow", "POST");
        SetError(res, 405, "method not allowed: the control helper answers POST /");
      } else if (req.has_header("Content-Encoding") &&
                 req.get_header_value("Content-Encoding") != "identity") {
        SetError(res, 415, "request bodies must not be encoded");
      } else {
        return httplib::Server::HandlerResponse::Unhandled;
      }
      res.set_header("Connection", "close");
      return httplib::Server::HandlerResponse::Handled;
    });

    server.Post("/", [this](const httplib::Request& req, httplib::Response& res) {
      if (in_flight.fetch_add(1) >= config.max_in_flight) {
        in_flight.fetch_sub(1);
        res.set_header("Retry-After", "1");
        SetError(res, 503, "busy: too many measurements in flight, retry later");
        return;
      }
      HelperReply reply = HandleControlRequest(req.body, config.measurement);
      in_flight.fetch_sub(1);
      res.status = reply.status;
      res.set_content(reply.body, "application/json");
    });

    // httplib's own refusals (413 for an oversized body, 400 for a broken request
    // line) come without a body: give them a reason.
    server.set_error_handler([](const httplib::Request&, httplib::Response& res) {
      if (!res.body.empty()) return;
      if (res.status == 413) {
        SetError(res, 413, "request body too large");
      } else {
        SetError(res, res.status, "malformed HTTP request");
      }
    });
    server.set_exception_handler([](const httplib::Request&, httplib::Response& res,
                                    std::exception_ptr) { SetError(res, 500, "internal error"); });
    if (config.log_requests) {
      // Method, path and status only: never the client's address.
      server.set_logger([](const httplib::Request& req, const httplib::Response& res) {
        std::fprintf(stderr, "vigil helper: %s %s %d\n", req.method.c_str(), req.path.c_str(),
                     res.status);
      });
    }
  }
};

HelperServer::HelperServer(HelperConfig config)
    : impl_(std::make_unique<Impl>(std::move(config))) {}

HelperServer::~HelperServer() { Stop(); }

Result<uint16_t> HelperServer::Bind() {
  // httplib (built into Debian's shared library) listens with a backlog of 5: a
  // probe with hundreds of measurements in flight would see its SYNs dropped and
  // retried a second later. Keep the listening socket's descriptor (its options
  // are ours to set, so set httplib's own too) and widen the backlog after bind;
  // the kernel caps it at net.core.somaxconn.
  int listen_fd = -1;
  impl_->server.set_socket_options([&listen_fd](int sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    setsockopt(sock, SOL_SOCKET, SO_REUSEPORT, &yes, sizeof yes);
    listen_fd = sock;
  });
  auto widen = [&listen_fd] {
    if (listen_fd >= 0) ::listen(listen_fd, kListenBacklog);
  };
  const std::string& ip = impl_->config.listen_ip;
  const std::string where = (ip.find(':') != std::string::npos ? "[" + ip + "]" : ip) + ":" +
                            std::to_string(impl_->config.listen_port);
  if (impl_->config.listen_port == 0) {
    const int port = impl_->server.bind_to_any_port(ip);
    if (port <= 0) return Error{"cannot listen on " + where};
    widen();
    return static_cast<uint16_t>(port);
  }
  if (!impl_->server.bind_to_port(ip, impl_->config.listen_port)) {
    return Error{"cannot listen on " + where + " (in use, or not an address of this machine)"};
  }
  widen();
  return impl_->config.listen_port;
}

void HelperServer::Serve() {
  {
    std::lock_guard lock(impl_->mutex);
    if (impl_->stop_requested) return;
    impl_->serving = true;
  }
  impl_->server.listen_after_bind();
  std::lock_guard lock(impl_->mutex);
  impl_->serving = false;
}

void HelperServer::Stop() {
  bool serving;
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stop_requested = true;
    serving = impl_->serving;
  }
  if (!serving) return;
  // httplib ignores stop() until its accept loop runs, which Serve starts just after
  // setting `serving`: wait for it (briefly) so the request is not lost.
  for (int i = 0; i < 5000 && !impl_->server.is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  impl_->server.stop();
}

}  // namespace vigil
