// Reading DNS responses: header fields and every answer record with its TTL.
// c-ares 1.18 parses only A/AAAA into typed results and drops CNAME TTLs and the
// response code, which measurement needs, so records are walked here; names are
// expanded by c-ares. Bounded and safe on hostile bytes. Pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "probe/measurement/measurement.h"

namespace vigil {

struct DnsResponse {
  uint16_t id = 0;
  uint16_t flags = 0;  // QR, opcode, AA, TC, RD, RA, Z, AD, CD
  int rcode = 0;
  std::string question_name;
  uint16_t question_type = 0;
  std::vector<DnsAnswer> answers;  // A, AAAA, CNAME; other types skipped
};

/// Parses a DNS message (no TCP length prefix).
Result<DnsResponse> ParseDnsResponse(std::string_view message);

/// "A", "AAAA", ... for a query type number; "TYPE<n>" for the rest.
std::string DnsTypeName(int qtype);

/// OONI's lower-case rcode name ("noerror", "nxdomain", "servfail", ...); "rcodeN" for
/// one without a name.
std::string DnsRcodeName(int rcode);

/// The query type for a name such as "A" or "aaaa"; 0 when unknown.
int DnsTypeFromName(std::string_view name);

}  // namespace vigil
