#include "tests/support/prosody_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>
#include <vector>

#include "tests/support/child_process.h"
#include "tests/support/loopback_port.h"
#include "tests/support/temp_dir.h"

namespace vigil::test_support {
namespace {

constexpr char kProsody[] = "/usr/bin/prosody";
constexpr char kProsodyctl[] = "/usr/bin/prosodyctl";
constexpr int kStartAttempts = 3;
constexpr std::chrono::seconds kStartTimeout(10);

std::string Quoted(std::string_view text) { return "\"" + std::string(text) + "\""; }

// Why each setting is there:
// - daemonize off, so that prosody stays our child and SIGKILL ends it; run_as_root, as
//   CI runs as root (prosody refuses to otherwise), harmless for a developer;
// - every path prosody writes inside the temp dir; no port but the one client port
//   (s2s, HTTP, components, the admin socket all off);
// - internal_plain storage, which prosodyctl register fills before the start;
// - no offline storage: a message for an absent receiver bounces, so a test sees a
//   drop instead of a late delivery; ping on, as the transport pings after messages.
std::string Config(const TempDir& dir, uint16_t port, const ProsodyOptions& options) {
  std::string conf = "run_as_root = true\ndaemonize = false\n";
  conf += "pidfile = " + Quoted(dir.Join("prosody.pid")) + "\n";
  conf += "data_path = " + Quoted(dir.Join("data")) + "\n";
  conf += "plugin_paths = {}\n";
  conf += "log = { { levels = { min = \"info\" }, to = \"file\", filename = " +
          Quoted(dir.Join("prosody.log")) + " } }\n";
  // Without TLS the tls module stays out, so that STARTTLS is never offered.
  conf += "modules_enabled = { \"roster\", \"saslauth\", \"disco\", \"ping\"";
  conf += options.tls ? ", \"tls\" }\n" : " }\n";
  conf += R"(admins = {}
modules_disabled = { "s2s", "http", "admin_shell", "admin_telnet", "offline", "c2s_bosh",
                     "websocket" }
legacy_ssl_ports = {}
c2s_direct_tls_ports = {}
s2s_ports = {}
s2s_interfaces = {}
component_ports = {}
http_ports = {}
https_ports = {}
local_interfaces = {}
authentication = "internal_plain"
storage = "internal"
allow_registration = false
)";
  conf += "c2s_ports = { " + std::to_string(port) + " }\n";
  conf += "c2s_interfaces = { \"127.0.0.1\" }\n";
  conf += "certificates = " + Quoted(dir.Join("certs")) + "\n";
  if (options.tls) {
    const CertificateFiles& files = TestPki::Get().files(options.certificate);
    conf += "c2s_require_encryption = true\n";
    conf += "ssl = { key = " + Quoted(files.key) + ", certificate = " + Quoted(files.cert) + " }\n";
  } else {
    conf += "c2s_require_encryption = false\nallow_unencrypted_plain_auth = true\n";
  }
  conf += "VirtualHost \"" + std::string(ProsodyServer::kDomain) + "\"\n";
  return conf;
}

// True when a client's stream header on 127.0.0.1:port is answered with stream
// features: the virtual host is up, not only the listening socket.
bool AnswersStream(uint16_t port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool answered = false;
  const std::string header = "<?xml version='1.0'?><stream:stream to='" +
                             std::string(ProsodyServer::kDomain) +
                             "' version='1.0' xmlns='jabber:client' "
                             "xmlns:stream='http://etherx.jabber.org/streams'>";
  if (connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0 &&
      send(fd, header.data(), header.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(header.size())) {
    std::string reply;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
    while (!answered && std::chrono::steady_clock::now() < deadline) {
      pollfd pfd{fd, POLLIN, 0};
      if (poll(&pfd, 1, 50) != 1) continue;
      char buffer[4096];
      const ssize_t n = recv(fd, buffer, sizeof buffer, 0);
      if (n <= 0) break;
      reply.append(buffer, static_cast<size_t>(n));
      answered = reply.find("stream:features") != std::string::npos;
    }
  }
  close(fd);
  return answered;
}

std::string LocalPart(std::string_view jid) { return std::string(jid.substr(0, jid.find('@'))); }

}  // namespace

std::optional<std::string> ProsodyServer::Unavailable() {
  for (const char* binary : {kProsody, kProsodyctl}) {
    if (!IsExecutable(binary)) return std::string(binary) + " is not installed";
  }
  return TestPki::Unavailable();
}

ProsodyServer::ProsodyServer() : ProsodyServer(ProsodyOptions{}) {}

ProsodyServer::ProsodyServer(ProsodyOptions options) : options_(options) {
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
  port_ = 0;
  error_ = "ProsodyServer: " + error;
  ADD_FAILURE() << error_;
}

ProsodyServer::~ProsodyServer() = default;

bool ProsodyServer::StartOnce(std::string* error) {
  process_.reset();
  dir_ = std::make_unique<TempDir>("vigil-prosody-");
  if (!dir_->ok()) {
    *error = dir_->error();
    return false;
  }
  port_ = FreeLoopbackPort();
  if (port_ == 0) {
    *error = "no free loopback port";
    return false;
  }
  const std::string config = dir_->Join("prosody.cfg.lua");
  if (!dir_->WriteFile("data/.keep", "", error) || !dir_->WriteFile("certs/.keep", "", error) ||
      !dir_->WriteFile("prosody.cfg.lua", Config(*dir_, port_, options_), error)) {
    return false;
  }
  const std::pair<std::string_view, std::string_view> accounts[] = {
      {kSenderJid, kSenderPassword}, {kReceiverJid, kReceiverPassword}};
  for (const auto& [jid, password] : accounts) {
    CommandResult registered =
        RunCommand({kProsodyctl, "--config", config, "register", LocalPart(jid),
                    std::string(kDomain), std::string(password)});
    if (registered.exit_code != 0) {
      *error = "prosodyctl register " + std::string(jid) + " failed:\n" + registered.output;
      return false;
    }
  }
  process_ = std::make_unique<ChildProcess>();
  if (!process_->Start({kProsody, "--config", config, "-F"}, dir_->Join("stdout.log"), error)) {
    return false;
  }
  const auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!process_->Running()) {
      *error = "prosody " + process_->ExitDescription() + " on port " + std::to_string(port_) +
               "; log:\n" + Log();
      return false;
    }
    // Only our own prosody says it listens there: another process's server on the same
    // port would answer the stream too.
    const std::string activated = "Activated service 'c2s' on [127.0.0.1]:" + std::to_string(port_);
    if (Log().find(activated) != std::string::npos && AnswersStream(port_)) return true;
    if (Log().find("Failed to open server port") != std::string::npos) {
      *error = "prosody could not listen on port " + std::to_string(port_) + "; log:\n" + Log();
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  *error = "prosody did not answer on port " + std::to_string(port_) + " within " +
           std::to_string(kStartTimeout.count()) + " s; log:\n" + Log();
  return false;
}

std::string ProsodyServer::address() const { return "127.0.0.1:" + std::to_string(port_); }

void ProsodyServer::Kill() {
  if (process_) process_->Kill();
}

std::string ProsodyServer::Log() const {
  if (!dir_) return "";
  return ReadFileOrEmpty(dir_->Join("prosody.log")) + ReadFileOrEmpty(dir_->Join("stdout.log"));
}

}  // namespace vigil::test_support
