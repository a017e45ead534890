// AsnMmdb: the bytes of a small MaxMind DB file in GeoLite2-ASN layout
// (autonomous_system_number, autonomous_system_organization), so that suites can open a
// real AsnDatabase on networks they choose, including entries whose number is 0 as some
// databases write for unrouted space. An IPv6 tree with IPv4 networks at ::/96; the
// networks must not nest. Pure function; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace vigil::test_support {

struct AsnMmdbNetwork {
  std::string cidr;  // "31.13.24.0/21", "2a03:2880::/32"
  uint32_t asn = 0;
  std::string organization;
};

/// The file's bytes; empty when a CIDR does not parse or two networks nest.
std::string AsnMmdb(const std::vector<AsnMmdbNetwork>& networks);

}  // namespace vigil::test_support
