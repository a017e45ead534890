#include "tests/support/nginx_server.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>
#include <vector>

#include "tests/support/child_process.h"
#include "tests/support/loopback_port.h"
#include "tests/support/temp_dir.h"

namespace vigil::test_support {
namespace {

constexpr char kNginx[] = "/usr/sbin/nginx";
// nginx itself retries a failed bind() for 2.5 s before giving up; a fresh set of ports
// then covers the rare port taken by another process after FreeLoopbackPort().
constexpr int kStartAttempts = 3;
constexpr std::chrono::seconds kStartTimeout(5);

std::string Listen(uint16_t port, bool ipv6, std::string_view options) {
  std::string lines = "        listen 127.0.0.1:" + std::to_string(port);
  lines += options;
  lines += ";\n";
  if (ipv6) {
    lines += "        listen [::1]:" + std::to_string(port);
    lines += options;
    lines += ";\n";
  }
  return lines;
}

// A fixed body for `return`, as an nginx quoted string.
std::string Quoted(std::string_view body) {
  std::string quoted = "\"";
  for (char c : body) {
    if (c == '\n') {
      quoted += "\\n";
    } else {
      if (c == '"' || c == '\\') quoted += '\\';
      quoted += c;
    }
  }
  return quoted + "\"";
}

// The paths every server block includes. `return` serves fixed bodies for any method;
// the SSI filter on /chunked is what makes nginx drop Content-Length and stream the static
// file chunked (a plain static file or `return` always carries Content-Length).
std::string Locations(const std::string& document_root, uint16_t http_port,
                      const NginxOptions& options) {
  std::string conf = "root " + document_root + ";\nindex index.html;\nlocation / {\n}\n";
  if (options.dns_query_upstream_port != 0) {
    // grpc_pass is nginx's one way to speak HTTP/2 to an upstream; it forwards any
    // request, not only gRPC ones.
    conf += "location = /dns-query {\n    grpc_pass grpcs://127.0.0.1:" +
            std::to_string(options.dns_query_upstream_port) + ";\n}\n";
  }
  conf += R"(location = /chunked {
    ssi on;
    ssi_types text/plain;
    try_files /chunked.txt =404;
}
location = /big {
    try_files /big.bin =404;
}
location = /binary {
    try_files /binary.bin =404;
}
location = /redirect/0 {
    return 302 /;
}
)";
  conf += "location = /post {\n    default_type text/plain;\n    return 200 " +
          Quoted(NginxServer::kPostedBody) + ";\n}\n";
  conf += "location = /abs-redirect {\n    return 301 http://www.example.test:" +
          std::to_string(http_port) + "/;\n}\n";
  for (int n = 1; n <= NginxServer::kMaxRedirect; ++n) {
    conf += "location = /redirect/" + std::to_string(n) + " {\n    return 302 /redirect/" +
            std::to_string(n - 1) + ";\n}\n";
  }
  for (int code : NginxServer::kStatusCodes) {
    conf += "location = /status/" + std::to_string(code) +
            " {\n    default_type text/plain;\n    return " + std::to_string(code) + " " +
            Quoted(NginxServer::StatusBody(code)) + ";\n}\n";
  }
  return conf;
}

// Why each setting is there:
// - daemon and master process off: one process, our child, that SIGKILL ends completely;
//   without a master nginx never switches user, so it runs the same as root (CI) and not;
// - every path nginx writes (pid, temp files) inside the temp dir, since the compiled-in
//   ones under /var are not writable for a developer and are shared with a system nginx;
// - absolute_redirect off, so that Location headers are sent as written.
std::string Config(const TempDir& dir, uint16_t http_port,
                   const std::array<uint16_t, TestPki::kAllKinds.size()>& https_ports, bool ipv6,
                   const NginxOptions& options) {
  const std::string temp = dir.Join("temp");
  std::string conf = "daemon off;\nmaster_process off;\nworker_processes 1;\n";
  conf += "worker_rlimit_nofile 10000;\n";
  conf += "pid " + dir.Join("nginx.pid") + ";\n";
  conf += "error_log stderr warn;\n";
  conf += "events {\n    worker_connections 4096;\n}\n";
  conf += "http {\n";
  conf += "    access_log off;\n    server_tokens off;\n    gzip off;\n";
  conf += "    absolute_redirect off;\n    default_type application/octet-stream;\n";
  conf += "    types {\n        text/html html;\n        text/plain txt;\n    }\n";
  conf += "    ssl_protocols TLSv1.2 TLSv1.3;\n";
  for (const char* kind : {"client_body", "proxy", "fastcgi", "uwsgi", "scgi"}) {
    conf += std::string("    ") + kind + "_temp_path " + temp + "/" + kind + ";\n";
  }
  const std::string include_locations = "        include " + dir.Join("locations.conf") + ";\n";
  std::string extra_http;
  for (const std::string& address : options.extra_http_listen) {
    extra_http += "        listen " + address + ";\n";
  }
  conf +=
      "    server {\n" + Listen(http_port, ipv6, "") + extra_http + include_locations + "    }\n";
  const TestPki& pki = TestPki::Get();
  for (TestPki::Kind kind : TestPki::kAllKinds) {
    const CertificateFiles& files = pki.files(kind);
    conf += "    server {\n" + Listen(https_ports[static_cast<size_t>(kind)], ipv6, " ssl");
    if (kind == TestPki::Kind::kValid) {
      for (const std::string& address : options.extra_https_listen) {
        conf += "        listen " + address + " ssl;\n";
      }
    }
    conf += "        ssl_certificate " + files.cert + ";\n";
    conf += "        ssl_certificate_key " + files.key + ";\n";
    conf += include_locations + "    }\n";
  }
  conf += "}\n";
  return conf;
}

}  // namespace

std::string NginxServer::ChunkedBody() {
  std::string body;
  for (int line = 1; line <= 2000; ++line) {
    body += "vigil chunked line " + std::to_string(line) + "\n";
  }
  return body;
}

std::string NginxServer::BigBody() {
  // Not a repeating short pattern, so that a truncated or reordered body does not compare
  // equal by accident.
  std::string body(kBigBodySize, '\0');
  uint32_t state = 0x9e3779b9u;
  for (char& byte : body) {
    state = state * 1664525u + 1013904223u;
    byte = static_cast<char>(state >> 24);
  }
  return body;
}

std::string NginxServer::StatusBody(int code) {
  return "vigil test status " + std::to_string(code) + "\n";
}

std::optional<std::string> NginxServer::Unavailable() {
  if (!IsExecutable(kNginx)) return std::string(kNginx) + " is not installed";
  return TestPki::Unavailable();
}

NginxServer::NginxServer() : NginxServer(NginxOptions{}) {}

NginxServer::NginxServer(NginxOptions options) : options_(options) {
  if (std::optional<std::string> reason = Unavailable()) {
    error_ = *reason;
    return;
  }
  std::string error;
  if (!TestPki::Get().ok()) {
    error = "no certificates: " + TestPki::Get().error();
  } else {
    for (int attempt = 0; attempt < kStartAttempts; ++attempt) {
      if (StartOnce(&error)) return;
    }
  }
  http_port_ = 0;
  https_ports_ = {};
  error_ = "NginxServer: " + error;
  ADD_FAILURE() << error_;
}

NginxServer::~NginxServer() = default;

bool NginxServer::StartOnce(std::string* error) {
  process_.reset();
  dir_ = std::make_unique<TempDir>("vigil-nginx-");
  if (!dir_->ok()) {
    *error = dir_->error();
    return false;
  }
  ipv6_ = Ipv6LoopbackWorks();
  http_port_ = FreeLoopbackPort();
  std::vector<uint16_t> ports = {http_port_};
  for (uint16_t& port : https_ports_) {
    port = FreeLoopbackPort();
    ports.push_back(port);
  }
  for (uint16_t port : ports) {
    if (port == 0) {
      *error = "no free loopback port";
      return false;
    }
  }
  document_root_ = dir_->Join("www");
  if (!dir_->WriteFile("www/index.html", kIndexHtml, error) ||
      !dir_->WriteFile("www/chunked.txt", ChunkedBody(), error) ||
      !dir_->WriteFile("www/big.bin", BigBody(), error) ||
      !dir_->WriteFile("www/binary.bin", kBinaryBody, error) ||
      !dir_->WriteFile("temp/.keep", "", error) ||
      !dir_->WriteFile("locations.conf", Locations(document_root_, http_port_, options_), error) ||
      !dir_->WriteFile("nginx.conf", Config(*dir_, http_port_, https_ports_, ipv6_, options_),
                       error)) {
    return false;
  }
  process_ = std::make_unique<ChildProcess>();
  // -e: errors before the config is read go to stderr (our log) too, whatever the build's
  // default error log is.
  if (!process_->Start({kNginx, "-p", dir_->path(), "-c", dir_->Join("nginx.conf"), "-e", "stderr"},
                       dir_->Join("nginx.log"), error)) {
    return false;
  }
  const auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
  size_t listening = 0;  // ports (in order, both families) known to accept
  const size_t needed = ports.size() * (ipv6_ ? 2 : 1);
  while (std::chrono::steady_clock::now() < deadline) {
    if (!process_->Running()) {
      *error = "nginx " + process_->ExitDescription() + "; log:\n" + Log();
      return false;
    }
    while (listening < needed) {
      const bool v6 = listening >= ports.size();
      if (!TcpConnects(v6 ? "::1" : "127.0.0.1", ports[listening % ports.size()])) break;
      ++listening;
    }
    if (listening == needed && ExtraListenersAccept()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  *error = "nginx did not listen on every port within " + std::to_string(kStartTimeout.count()) +
           " s; log:\n" + Log();
  return false;
}

bool NginxServer::ExtraListenersAccept() const {
  std::vector<std::string> addresses = options_.extra_http_listen;
  addresses.insert(addresses.end(), options_.extra_https_listen.begin(),
                   options_.extra_https_listen.end());
  for (const std::string& address : addresses) {
    const size_t colon = address.rfind(':');
    if (colon == std::string::npos) return false;
    std::string host = address.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
      host = host.substr(1, host.size() - 2);
    }
    if (!TcpConnects(host, static_cast<uint16_t>(std::stoi(address.substr(colon + 1))))) {
      return false;
    }
  }
  return true;
}

std::string NginxServer::Log() const {
  return dir_ ? ReadFileOrEmpty(dir_->Join("nginx.log")) : std::string();
}

}  // namespace vigil::test_support
