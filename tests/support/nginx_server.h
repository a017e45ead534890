// NginxServer: a real web server (Debian's /usr/sbin/nginx) on 127.0.0.1 (and [::1] when
// the machine has it) with one plain HTTP port and one HTTPS port per TestPki::Kind.
// Start and destroy it on one thread (the test's main thread); the accessors are const.
//
// Every port serves the same paths:
//   /                 kIndexHtml (text/html, Content-Length); any other file under
//                     document_root() is served too, unknown paths get nginx's 404 page
//   /redirect/N       302 to /redirect/N-1 (relative Location), N in 1..kMaxRedirect;
//   /redirect/0       302 to /, so /redirect/N reaches / after N+1 redirects
//   /abs-redirect     301 to http://www.example.test:HTTP_PORT/ (absolute Location)
//   /chunked          ChunkedBody(), Transfer-Encoding: chunked (HTTP/1.1 requests)
//   /big              BigBody(): kBigBodySize bytes with Content-Length
//   /status/N         N with StatusBody(N), N in kStatusCodes
//   /post             200 kPostedBody for any method (the request body is discarded)
//   /binary           kBinaryBody (application/octet-stream, not UTF-8)
//   /dns-query        with NginxOptions::dns_query_upstream_port only: passed on over
//                     HTTP/2 with TLS (grpc_pass) to that 127.0.0.1 port, so that an
//                     HTTP/1.1 client reaches a DoH server that speaks only HTTP/2 (unbound)
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tests/support/test_pki.h"

namespace vigil::test_support {

class ChildProcess;
class TempDir;

struct NginxOptions {
  /// A DNS-over-HTTPS server (HTTP/2 over TLS) on 127.0.0.1 to front at /dns-query; 0: none.
  uint16_t dns_query_upstream_port = 0;
  /// More "ip:port" listeners ("127.74.0.1:80", "[::1]:8080") serving the same paths: plain
  /// HTTP ones, and HTTPS ones with the kValid certificate. For services whose ports are
  /// fixed; ports below 1024 need root.
  std::vector<std::string> extra_http_listen;
  std::vector<std::string> extra_https_listen;
};

class NginxServer {
 public:
  static constexpr std::string_view kPageTitle = "vigil test page";
  static constexpr std::string_view kIndexHtml =
      "<!DOCTYPE html>\n<html><head><title>vigil test page</title></head>\n"
      "<body><p>vigil loopback server: the page arrived intact.</p></body></html>\n";
  static constexpr std::string_view kPostedBody = "posted\n";
  static constexpr char kBinaryBytes[] = "\xff\xfe\x00vigil\x80\x81\xc3\x28\xf5\n";
  static constexpr std::string_view kBinaryBody{kBinaryBytes, sizeof kBinaryBytes - 1};
  static constexpr size_t kBigBodySize = 2 * 1024 * 1024;
  static constexpr int kMaxRedirect = 30;
  static constexpr std::array<int, 5> kStatusCodes = {403, 404, 451, 500, 503};

  /// The exact bodies of /chunked, /big and /status/N.
  static std::string ChunkedBody();
  static std::string BigBody();
  static std::string StatusBody(int code);

  /// Why nginx cannot run here (nginx or openssl missing), or nullopt; for GTEST_SKIP().
  static std::optional<std::string> Unavailable();

  /// Starts nginx and returns once every port accepts connections (about 20 ms, plus
  /// ~50 ms for the process's first TestPki). On failure ok() is false and, unless
  /// Unavailable(), a test failure is recorded.
  NginxServer();
  explicit NginxServer(NginxOptions options);
  ~NginxServer();

  NginxServer(const NginxServer&) = delete;
  NginxServer& operator=(const NginxServer&) = delete;

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }

  /// Ports, the same on 127.0.0.1 and [::1]; 0 when !ok().
  uint16_t http_port() const { return http_port_; }
  /// The HTTPS port whose certificate is TestPki::Get().files(kind).
  uint16_t https_port(TestPki::Kind kind) const { return https_ports_[static_cast<size_t>(kind)]; }
  /// True when the ports also listen on [::1].
  bool ipv6() const { return ipv6_; }
  /// The directory served at /; tests may add files to it.
  const std::string& document_root() const { return document_root_; }
  /// nginx's own log, for a failure message.
  std::string Log() const;

 private:
  bool StartOnce(std::string* error);
  bool ExtraListenersAccept() const;

  NginxOptions options_;
  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<ChildProcess> process_;
  uint16_t http_port_ = 0;
  std::array<uint16_t, TestPki::kAllKinds.size()> https_ports_{};
  bool ipv6_ = false;
  std::string document_root_;
  std::string error_;
};

}  // namespace vigil::test_support
