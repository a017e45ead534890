// UnboundServer: a real DNS resolver (Debian's /usr/sbin/unbound) on 127.0.0.1, UDP and TCP
// on one free port, answering only from fixed test zones and never querying anyone else.
// Start and destroy it on one thread (the test's main thread); the accessors are const.
//
// Names it serves (every record has TTL 300):
//   example.test            A 127.0.0.1 (no AAAA: NOERROR with no data)
//   www.example.test        A 127.0.0.1, AAAA ::1
//   multi.example.test      A 127.0.0.1, A 127.0.0.2
//   alias.example.test      CNAME www.example.test (answers carry the target's records)
//   v4only.example.test     A 127.0.0.1 (no AAAA: NOERROR with no data)
//   any other *.example.test, e.g. nx.example.test: NXDOMAIN
//   refused.test and below: REFUSED
//   servfail.test and below: SERVFAIL, in about 10 ms (an authoritative zone with no data)
//   anything else: REFUSED
// With UnboundOptions::encrypted it also serves DNS over TLS (tls_port()) and DNS over
// HTTPS at /dns-query (https_port(); HTTP/2 only, as unbound serves it) with TestPki's
// valid certificate.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace vigil::test_support {

class ChildProcess;
class TempDir;

struct UnboundOptions {
  /// Zone-file lines with absolute owner names, as for UnboundServer's first constructor.
  std::vector<std::string> extra_records;
  /// Also serve DNS over TLS and DNS over HTTPS on two more ports.
  bool encrypted = false;
};

class UnboundServer {
 public:
  /// Why unbound cannot run here (binary missing), or nullopt; for GTEST_SKIP().
  static std::optional<std::string> Unavailable();

  /// Starts unbound and returns once it answers a query (about 30 ms). `extra_records` are
  /// zone-file lines with absolute owner names, e.g.
  /// "blocked.example.test. 300 IN A 10.10.34.35": names under example.test join that zone
  /// (CNAMEs to it are followed), others become local data of their own. On failure ok()
  /// is false and, unless Unavailable(), a test failure is recorded.
  explicit UnboundServer(std::vector<std::string> extra_records = {});
  /// The same, with the options above; also skips (Unavailable) when TestPki cannot be made.
  explicit UnboundServer(UnboundOptions options);
  ~UnboundServer();

  UnboundServer(const UnboundServer&) = delete;
  UnboundServer& operator=(const UnboundServer&) = delete;

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }

  /// The UDP and TCP port on 127.0.0.1; 0 when !ok().
  uint16_t port() const { return port_; }
  /// "127.0.0.1:PORT".
  std::string address() const;
  /// DNS over TLS and DNS over HTTPS ports on 127.0.0.1; 0 unless options.encrypted.
  uint16_t tls_port() const { return tls_port_; }
  uint16_t https_port() const { return https_port_; }
  /// unbound's own log, for a failure message.
  std::string Log() const;

 private:
  bool StartOnce(std::string* error);

  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<ChildProcess> process_;
  UnboundOptions options_;
  uint16_t port_ = 0;
  uint16_t tls_port_ = 0;
  uint16_t https_port_ = 0;
  std::string error_;
};

}  // namespace vigil::test_support
