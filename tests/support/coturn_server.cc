#include "tests/support/coturn_server.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <thread>
#include <vector>

#include "tests/support/child_process.h"
#include "tests/support/loopback_port.h"
#include "tests/support/temp_dir.h"

namespace vigil::test_support {
namespace {

constexpr char kTurnserver[] = "/usr/bin/turnserver";
constexpr int kStartAttempts = 3;
constexpr std::chrono::seconds kStartTimeout(5);

// A Binding Request over UDP, answered with a Binding Success Response of the same id:
// the server is ready when it answers one, not when its socket exists.
bool AnswersBinding(uint16_t port) {
  const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const unsigned char request[20] = {0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42, 'v', 'i',
                                     'g',  'i',  'l',  '-',  'r',  'e',  'a',  'd',  'y', '?'};
  bool answered = false;
  if (connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0 &&
      send(fd, request, sizeof request, 0) == static_cast<ssize_t>(sizeof request)) {
    pollfd pfd{fd, POLLIN, 0};
    unsigned char reply[512];
    if (poll(&pfd, 1, 100) == 1) {
      const ssize_t n = recv(fd, reply, sizeof reply, 0);
      answered = n >= 20 && reply[0] == 0x01 && reply[1] == 0x01 &&
                 std::equal(request + 8, request + 20, reply + 8);
    }
  }
  close(fd);
  return answered;
}

}  // namespace

std::optional<std::string> CoturnServer::Unavailable() {
  if (!IsExecutable(kTurnserver)) {
    return std::string(kTurnserver) + " is not installed (Debian package coturn)";
  }
  return std::nullopt;
}

CoturnServer::CoturnServer() {
  if (std::optional<std::string> reason = Unavailable()) {
    error_ = *reason;
    return;
  }
  std::string error;
  for (int attempt = 0; attempt < kStartAttempts; ++attempt) {
    if (StartOnce(&error)) return;
  }
  port_ = 0;
  error_ = "CoturnServer: " + error;
  ADD_FAILURE() << error_;
}

CoturnServer::~CoturnServer() = default;

bool CoturnServer::StartOnce(std::string* error) {
  process_.reset();
  dir_ = std::make_unique<TempDir>("vigil-coturn-");
  if (!dir_->ok()) {
    *error = dir_->error();
    return false;
  }
  port_ = FreeLoopbackPort();
  if (port_ == 0) {
    *error = "no free loopback port";
    return false;
  }
  process_ = std::make_unique<ChildProcess>();
  // -n: no configuration file (so /etc/turnserver.conf never applies); every path it
  // writes is in the temp dir; no SOFTWARE attribute, so responses carry only what
  // the protocol needs.
  const std::vector<std::string> argv = {kTurnserver,
                                         "-n",
                                         "--listening-ip=127.0.0.1",
                                         "--listening-port=" + std::to_string(port_),
                                         "--stun-only",
                                         "--no-tls",
                                         "--no-dtls",
                                         "--no-cli",
                                         "--no-software-attribute",
                                         "--log-file=stdout",
                                         "--simple-log",
                                         "--pidfile=" + dir_->Join("turnserver.pid"),
                                         "--userdb=" + dir_->Join("turndb")};
  if (!process_->Start(argv, dir_->Join("turnserver.log"), error)) return false;
  const auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!process_->Running()) {
      *error = "turnserver " + process_->ExitDescription() + " on port " + std::to_string(port_) +
               "; log:\n" + Log();
      return false;
    }
    if (AnswersBinding(port_)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  *error = "turnserver did not answer on port " + std::to_string(port_) + " within " +
           std::to_string(kStartTimeout.count()) + " s; log:\n" + Log();
  return false;
}

std::string CoturnServer::Log() const {
  return dir_ ? ReadFileOrEmpty(dir_->Join("turnserver.log")) : std::string();
}

}  // namespace vigil::test_support
