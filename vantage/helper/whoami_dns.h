// The helper's "whoami" name server: how a probe learns which resolver really asks
// on its behalf (OONI does the same with a public whoami service). The probe resolves
// a name under the helper's zone through its own resolver; the resolver, recursing,
// asks this server, which answers with the address the query came from — the
// resolver's egress address, the one a censor's DNS or an analyst's ASN lookup cares
// about. Any name under the zone gets an A record (an AAAA for an IPv6 source),
// TTL 0 so no cache keeps it; names outside the zone are REFUSED; malformed bytes are
// dropped. UDP only (the answers are tiny). Serve() blocks; Stop() from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/result.h"

namespace vigil {

/// The answer to `query` from `source_ip`, or "" to drop it. Pure; thread-safe.
std::string WhoamiAnswer(std::string_view query, std::string_view zone, std::string_view source_ip);

/// A standard query (RD set) for `name`, type A.
std::string WhoamiQuery(uint16_t id, std::string_view name);

class WhoamiDnsServer {
 public:
  WhoamiDnsServer(std::string zone, std::string listen_ip, uint16_t port);
  ~WhoamiDnsServer();
  Result<uint16_t> Bind();
  void Serve();
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Asks `resolver_ip`:53 (UDP) for `name` and returns the first A/AAAA address in the
/// answer: with a name under a helper's whoami zone, the resolver's egress address.
Result<std::string> LookupWhoami(const std::string& resolver_ip, uint16_t port,
                                 const std::string& name, int timeout_ms);

}  // namespace vigil
