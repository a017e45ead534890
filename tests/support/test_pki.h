// TestPki: a throwaway certificate authority and the server certificates the TLS tests
// need (valid, wrong host, expired, self-signed), made once per process with the openssl
// CLI into a temp dir removed at exit. Get() is thread-safe; the result is immutable.
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace vigil::test_support {

class TempDir;

/// Paths of a PEM certificate and its unencrypted PEM private key (EC P-256).
struct CertificateFiles {
  std::string cert;
  std::string key;
};

class TestPki {
 public:
  /// What is wrong with a certificate, from a client that trusts only ca_file()'s view.
  enum class Kind {
    kValid,       ///< Issued by the CA for the names below; verifies.
    kWrongHost,   ///< Issued by the CA for DNS:wrong-host.invalid only.
    kExpired,     ///< Issued by the CA for the names below; expired on 2020-02-01.
    kSelfSigned,  ///< The names below, but self-signed instead of issued by the CA.
  };
  static constexpr std::array<Kind, 4> kAllKinds = {Kind::kValid, Kind::kWrongHost, Kind::kExpired,
                                                    Kind::kSelfSigned};
  /// "valid", "wrong_host", "expired", "self_signed": for test names and messages.
  static std::string_view KindName(Kind kind);

  /// The names that kValid, kExpired and kSelfSigned certify.
  static constexpr std::string_view kSubjectAltNames =
      "DNS:example.test, DNS:*.example.test, DNS:localhost, IP:127.0.0.1, IP:::1";

  /// Why the PKI cannot be made here (no openssl binary), or nullopt; for GTEST_SKIP().
  static std::optional<std::string> Unavailable();

  /// The process-wide PKI, generated on first use (~50 ms). When generation fails although
  /// openssl exists, every call records a test failure and ok() is false.
  static const TestPki& Get();

  ~TestPki();
  TestPki(const TestPki&) = delete;
  TestPki& operator=(const TestPki&) = delete;

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }

  /// The CA certificate (PEM) that a client should trust.
  const std::string& ca_file() const { return ca_file_; }
  const CertificateFiles& valid() const { return files_[0]; }
  const CertificateFiles& wrong_host() const { return files_[1]; }
  const CertificateFiles& expired() const { return files_[2]; }
  const CertificateFiles& self_signed() const { return files_[3]; }
  const CertificateFiles& files(Kind kind) const { return files_[static_cast<size_t>(kind)]; }

 private:
  TestPki();
  bool Generate(std::string* error);

  std::unique_ptr<TempDir> dir_;
  std::string ca_file_;
  std::array<CertificateFiles, 4> files_;
  std::string error_;
};

}  // namespace vigil::test_support
