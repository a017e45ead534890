#include "vantage/helper/helper_server.h"

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <atomic>
#include <exception>
#include <optional>

#include "probe/experiments/web_connectivity/control_protocol.h"
#include "vantage/helper/endpoints_measurement.h"
#include "vantage/http/server.h"

namespace vigil {

namespace {

std::string ErrorBody(const std::string& reason) { return Json{{"error", reason}}.dump(); }

}  // namespace

asio::awaitable<HelperReply> AnswerControlRequest(std::string_view body,
                                                  const ControlMeasurementOptions& options) {
  auto json = ParseControlJson(body);
  if (!json.ok())
    co_return HelperReply{400, ErrorBody("request body is not JSON: " + json.error())};
  auto request = ControlRequestFromJson(*json);
  if (!request.ok())
    co_return HelperReply{400, ErrorBody("bad control request: " + request.error())};
  // A request of x_endpoints alone (a messaging measurement's) is answered with them
  // alone; one with http_request as OONI's helpers answer, x_endpoints added if asked.
  const bool web = !request->http_request.empty();
  std::optional<ControlResponse> response;
  try {
    if (web) {
      response = co_await MeasureControl(*request, options);
    } else {
      response.emplace();
    }
    if (!request->x_endpoints.empty()) {
      response->x_endpoints = co_await MeasureControlEndpoints(request->x_endpoints, options);
    }
  } catch (...) {
    // A bug of ours, not the client's: say so without details.
    response.reset();
  }
  if (!response) co_return HelperReply{500, ErrorBody("internal error while measuring")};
  if (!web)
    co_return HelperReply{200, Json{{"x_endpoints", ToJson(*response->x_endpoints)}}.dump()};
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
  std::atomic<size_t> in_flight{0};
  HttpServer server;

  static HttpServerConfig ServerConfig(const HelperConfig& c) {
    HttpServerConfig s;
    s.name = "vigil helper";
    s.listen_ip = c.listen_ip;
    s.listen_port = c.listen_port;
    s.max_request_bytes = c.max_request_bytes;
    s.log_requests = c.log_requests;
    s.threads = c.threads;
    // A probe's run sends its control requests over a few kept connections, one after
    // another on each (web_connectivity's ControlClient): let a connection carry a
    // whole run rather than reconnect every few requests.
    s.keep_alive_max_requests = 1000;
    return s;
  }

  explicit Impl(HelperConfig c)
      : config(std::move(c)),
        server(
            ServerConfig(config),
            [](const RequestHead& head, std::string_view path) -> std::optional<HttpReply> {
              // The wrong path, method or encoding is refused before the body is read.
              if (path == kWhoamiPath) {
                if (head.method != "GET")
                  return JsonError(405, "method not allowed: GET " + std::string(kWhoamiPath));
                return std::nullopt;
              }
              if (path != "/") {
                return JsonError(404, "no such endpoint: the control helper answers POST /");
              }
              if (head.method != "POST") {
                HttpReply r =
                    JsonError(405, "method not allowed: the control helper answers POST /");
                r.extra_headers = "Allow: POST\r\n";
                return r;
              }
              if (auto encoding = head.Field("Content-Encoding");
                  encoding && *encoding != "identity") {
                return JsonError(415, "request bodies must not be encoded");
              }
              return std::nullopt;
            },
            [this](const ServerRequest& request) { return Answer(request); }) {}

  asio::awaitable<HttpReply> Answer(const ServerRequest& request) {
    if (request.path == kWhoamiPath) {
      // How a probe learns its own public address (to scrub it from what it sends).
      co_return HttpReply{200, Json{{"ip", std::string(request.peer_ip)}}.dump()};
    }
    if (in_flight.fetch_add(1) >= config.max_in_flight) {
      in_flight.fetch_sub(1);
      HttpReply busy = JsonError(503, "busy: too many measurements in flight, retry later");
      busy.extra_headers = "Retry-After: 1\r\n";
      co_return busy;
    }
    HelperReply reply = co_await AnswerControlRequest(request.body, config.measurement);
    in_flight.fetch_sub(1);
    co_return HttpReply{reply.status, std::move(reply.body)};
  }
};

HelperServer::HelperServer(HelperConfig config)
    : impl_(std::make_unique<Impl>(std::move(config))) {}

HelperServer::~HelperServer() { Stop(); }

Result<uint16_t> HelperServer::Bind() { return impl_->server.Bind(); }

void HelperServer::Serve() { impl_->server.Serve(); }

void HelperServer::Stop() { impl_->server.Stop(); }

}  // namespace vigil
