// HttpServer: the small HTTP/1.1 server under `vigil helper` and `vigil collector`.
// One Asio event loop per thread; a connection stays on one loop for its life and is
// a coroutine there: keep-alive, pipelining, 100-continue, strict request heads
// (request_head.h), 431 for heads over 16 KiB, 413 for bodies over the limit, 503 with
// Retry-After beyond a cap on requests in flight (bodies held in memory, answers
// awaited), and a lingering close after a refusal so the client reads the reason
// instead of a reset.
// What a server answers is two callbacks: Admit looks at the head before any body is
// read (wrong path, method or encoding is refused without reading or inflating
// anything); Handle answers a complete request on the connection's event loop.
// Nothing a client sends can stop the server, and it never logs a client's address
// (one line per request: method, path, status). With a certificate and key in the
// config it speaks HTTPS instead (TLS 1.2 or newer, the handshake under the read
// timeout). Serve() blocks the calling thread, which runs one of the loops; Stop() may
// be called from any thread.
#pragma once

#include <asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "vantage/http/request_head.h"

namespace vigil {

struct HttpReply {
  HttpReply() = default;
  HttpReply(int s, std::string b) : status(s), body(std::move(b)) {}

  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::string extra_headers;  // complete "Name: value\r\n" lines
};

/// {"error": reason} as a reply (what every vigil server answers to bad input).
HttpReply JsonError(int status, const std::string& reason);

struct ServerRequest {
  const RequestHead& head;
  std::string_view path;   // the target up to '?'
  std::string_view query;  // after '?', or empty
  std::string_view body;   // as sent (still encoded when Admit allowed an encoding)
  /// The client's address, for answers that tell a client its own address (never
  /// logged or stored by the server).
  std::string_view peer_ip;
};

struct HttpServerConfig {
  std::string name = "vigil";           // in log lines: "<name>: POST /path 200"
  std::string listen_ip = "127.0.0.1";  // an IP literal
  uint16_t listen_port = 0;             // 0: any free port (Bind says which)
  size_t max_request_bytes = size_t{256} << 10;
  bool log_requests = true;
  size_t threads = 0;  // event-loop threads; 0 = one per core
  std::chrono::seconds read_timeout{10};
  std::chrono::seconds keep_alive{5};
  size_t keep_alive_max_requests = 20;
  /// Requests admitted and not yet answered, across every loop, at most; beyond it a
  /// request is answered 503 with Retry-After before its body is read. 0: no cap.
  size_t max_in_flight = 0;
  std::chrono::seconds retry_after{1};
  /// PEM files of the certificate chain and its private key: both set, the server
  /// speaks HTTPS only (Bind loads them and says which one it could not use).
  std::string tls_cert_file;
  std::string tls_key_file;
  /// What a log line shows of a request's path (the relay hides its session ids);
  /// null: the path itself.
  std::function<std::string(std::string_view path)> log_path;
};

class HttpServer {
 public:
  /// A refusal before the body is read, or nullopt to read it and call Handle.
  using Admit = std::function<std::optional<HttpReply>(const RequestHead&, std::string_view path)>;
  using Handle = std::function<asio::awaitable<HttpReply>(const ServerRequest&)>;

  HttpServer(HttpServerConfig config, Admit admit, Handle handle);
  ~HttpServer();

  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  /// Binds the listening socket (and loads the TLS files, if any) and returns its port;
  /// the error names the address or the file.
  Result<uint16_t> Bind();

  /// Serves until Stop(); call after a successful Bind().
  void Serve();

  /// Makes Serve() return (at once if it has not started yet). Thread-safe.
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil
