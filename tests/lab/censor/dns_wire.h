// The two DNS wire operations the censor needs: reading the question of a query and
// writing a forged response to it (one answer or none). Bounded parsing: compression
// pointers in a query's question are refused. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tests/lab/censor/ip_prefix.h"

namespace vigil::lab {

constexpr uint16_t kDnsTypeA = 1;
constexpr uint16_t kDnsTypeAaaa = 28;

struct DnsQuestion {
  uint16_t id = 0;
  uint16_t flags = 0;
  /// Dotted, as sent (case preserved), without the trailing dot.
  std::string qname;
  uint16_t qtype = 0;
  uint16_t qclass = 0;
  /// The question section exactly as sent, echoed in responses.
  std::vector<uint8_t> raw_question;
};

/// The question of a DNS query (QR 0, opcode 0, one question), or nullopt.
std::optional<DnsQuestion> ParseDnsQuery(std::span<const uint8_t> payload);

/// A response to `q` with header flags exactly `flags` (they are an injector's
/// fingerprint, so nothing is copied from the query), and one answer record for `answer` when given
/// (A for IPv4, AAAA for IPv6).
std::vector<uint8_t> BuildDnsResponse(const DnsQuestion& q, uint16_t flags,
                                      const std::optional<IpAddress>& answer, uint32_t ttl);

}  // namespace vigil::lab
