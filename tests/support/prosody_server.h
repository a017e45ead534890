// ProsodyServer: a real XMPP server (Debian's prosody) on 127.0.0.1, one client port on
// which STARTTLS is offered and required, with the TestPki certificate of the kind asked
// for, and two accounts on the virtual host example.test (the delivery experiment's
// sender and receiver). Start and destroy it on one thread (the test's main thread);
// the accessors are const.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "tests/support/test_pki.h"

namespace vigil::test_support {

class ChildProcess;
class TempDir;

struct ProsodyOptions {
  /// The certificate STARTTLS presents.
  TestPki::Kind certificate = TestPki::Kind::kValid;
  /// False: no TLS at all (no certificate, STARTTLS never offered, logins in the clear
  /// allowed), a server a careful client must refuse.
  bool tls = true;
};

class ProsodyServer {
 public:
  static constexpr std::string_view kDomain = "example.test";
  static constexpr std::string_view kSenderJid = "sender@example.test";
  static constexpr std::string_view kSenderPassword = "sender-secret-1";
  static constexpr std::string_view kReceiverJid = "receiver@example.test";
  static constexpr std::string_view kReceiverPassword = "receiver-secret-2";

  /// Why prosody cannot run here (prosody, prosodyctl or openssl missing), or nullopt;
  /// for GTEST_SKIP().
  static std::optional<std::string> Unavailable();

  /// Registers the accounts, starts prosody and returns once its port answers an XMPP
  /// stream header with stream features (about a second). On failure ok() is false and,
  /// unless Unavailable(), a test failure is recorded.
  ProsodyServer();
  explicit ProsodyServer(ProsodyOptions options);
  ~ProsodyServer();

  ProsodyServer(const ProsodyServer&) = delete;
  ProsodyServer& operator=(const ProsodyServer&) = delete;

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }

  /// The client port on 127.0.0.1; 0 when !ok().
  uint16_t port() const { return port_; }
  /// "127.0.0.1:PORT", as DeliveryOptions::xmpp_server takes it.
  std::string address() const;
  /// Ends prosody at once (SIGKILL): its connections end as the kernel closes them.
  void Kill();
  /// prosody's own log, for a failure message.
  std::string Log() const;

 private:
  bool StartOnce(std::string* error);

  ProsodyOptions options_;
  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<ChildProcess> process_;
  uint16_t port_ = 0;
  std::string error_;
};

}  // namespace vigil::test_support
