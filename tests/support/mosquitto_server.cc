#include "tests/support/mosquitto_server.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "tests/support/child_process.h"
#include "tests/support/loopback_port.h"
#include "tests/support/temp_dir.h"

namespace vigil::test_support {
namespace {

constexpr char kMosquitto[] = "/usr/sbin/mosquitto";
constexpr int kStartAttempts = 3;
constexpr std::chrono::seconds kStartTimeout(5);

// Why each setting is there:
// - user root: as root (CI), mosquitto would switch to the mosquitto user, who cannot
//   read the test's certificates; as anyone else the setting does nothing;
// - no persistence and no pid file: nothing outside the temp dir;
// - per-listener settings off and anonymous clients allowed on both listeners.
std::string Config(uint16_t port, uint16_t tls_port, const CertificateFiles& files) {
  std::string conf = "user root\npersistence false\nlog_dest stderr\n";
  conf += "log_type error\nlog_type warning\nlog_type notice\nlog_type information\n";
  conf += "connection_messages true\nper_listener_settings false\nallow_anonymous true\n";
  conf += "listener " + std::to_string(port) + " 127.0.0.1\n";
  conf += "listener " + std::to_string(tls_port) + " 127.0.0.1\n";
  conf += "certfile " + files.cert + "\nkeyfile " + files.key + "\ntls_version tlsv1.2\n";
  return conf;
}

}  // namespace

std::optional<std::string> MosquittoServer::Unavailable() {
  if (!IsExecutable(kMosquitto)) return std::string(kMosquitto) + " is not installed";
  return TestPki::Unavailable();
}

MosquittoServer::MosquittoServer(TestPki::Kind certificate) : certificate_(certificate) {
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
  port_ = tls_port_ = 0;
  error_ = "MosquittoServer: " + error;
  ADD_FAILURE() << error_;
}

MosquittoServer::~MosquittoServer() = default;

bool MosquittoServer::StartOnce(std::string* error) {
  process_.reset();
  dir_ = std::make_unique<TempDir>("vigil-mosquitto-");
  if (!dir_->ok()) {
    *error = dir_->error();
    return false;
  }
  port_ = FreeLoopbackPort();
  tls_port_ = FreeLoopbackPort();
  if (port_ == 0 || tls_port_ == 0) {
    *error = "no free loopback port";
    return false;
  }
  if (!dir_->WriteFile("mosquitto.conf",
                       Config(port_, tls_port_, TestPki::Get().files(certificate_)), error)) {
    return false;
  }
  process_ = std::make_unique<ChildProcess>();
  if (!process_->Start({kMosquitto, "-c", dir_->Join("mosquitto.conf")},
                       dir_->Join("mosquitto.log"), error)) {
    return false;
  }
  const auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!process_->Running()) {
      *error = "mosquitto " + process_->ExitDescription() + "; log:\n" + Log();
      return false;
    }
    if (TcpConnects("127.0.0.1", port_) && TcpConnects("127.0.0.1", tls_port_)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  *error = "mosquitto did not listen on ports " + std::to_string(port_) + " and " +
           std::to_string(tls_port_) + " within " + std::to_string(kStartTimeout.count()) +
           " s; log:\n" + Log();
  return false;
}

std::string MosquittoServer::url() const { return "mqtt://127.0.0.1:" + std::to_string(port_); }

std::string MosquittoServer::tls_url() const {
  return "mqtts://127.0.0.1:" + std::to_string(tls_port_);
}

void MosquittoServer::Kill() {
  if (process_) process_->Kill();
}

std::string MosquittoServer::Log() const {
  return dir_ ? ReadFileOrEmpty(dir_->Join("mosquitto.log")) : std::string();
}

}  // namespace vigil::test_support
