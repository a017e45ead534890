// ResetLabel: who sent the TCP resets a client saw on one flow — the server itself, one
// of the injectors whose fingerprints the measurement literature describes (GFW types I,
// II and III, the Henan provincial firewall; "A Wall Behind A Wall", S&P 2025), or an
// unknown injector — from the packets' IP and TCP header fields beside the server's own
// SYN-ACK. A server's reset is recognised first (its TTL matches the SYN-ACK's, and it
// carries no injector's unmistakable mark), so that a server's own reset is never called
// injected. The packet capture (issue Evidence) fills ResetFlow; this reads no packets.
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vigil {

/// One TCP segment that arrived at the client, as the capture saw it.
struct SegmentFacts {
  double t = 0;                  // seconds since the measurement's start
  uint8_t ip_ttl = 0;            // IPv4 TTL or IPv6 hop limit
  uint16_t ip_id = 0;            // IPv4 identification (0 for IPv6)
  bool df = false;               // IPv4 don't-fragment
  uint8_t tcp_flags = 0;         // FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10
  std::vector<uint8_t> payload;  // the first bytes of its payload (at most 64)
};

/// What the client saw of one flow from the server's side.
struct ResetFlow {
  std::optional<SegmentFacts> syn_ack;  // the server's SYN-ACK, when one came
  std::vector<SegmentFacts> resets;     // every segment with RST set, in arrival order
};

enum class ResetSource {
  kNone,             // no reset
  kServer,           // the server's own: its TTL matches the SYN-ACK's
  kGfwType1,         // one RST (no ACK), DF 0, IP ID 0, TTL 55-118 less the hops to it
  kGfwType2,         // three or more RST+ACK, DF 1, IP IDs that vary
  kGfwType3,         // RST+ACK with IP ID 0x9916-0x9933 and a TTL near 248
  kHenan,            // RST+ACK carrying the 10 bytes 01 02 .. 09 00, IP ID 1
  kUnknownInjected,  // a TTL unlike the SYN-ACK's, no known fingerprint
  kUndetermined,     // no SYN-ACK to compare with and no known fingerprint
};

/// "none", "server", "gfw_type1", "gfw_type2", "gfw_type3", "henan",
/// "unknown_injected", "undetermined".
std::string_view ResetSourceName(ResetSource source);

/// Whether the resets were someone else's than the server's.
bool IsInjected(ResetSource source);

struct ResetLabel {
  ResetSource source = ResetSource::kNone;
  std::string reason;  // one line: what decided it
};

/// Labels the resets of `flow`. A TTL within 1 of the SYN-ACK's counts as the server's
/// (routes may differ by a hop), unless the reset carries Henan's payload or type III's
/// IP ID range, which no server stack produces.
ResetLabel LabelResets(const ResetFlow& flow);

}  // namespace vigil
