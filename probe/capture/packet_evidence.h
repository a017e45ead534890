// Packet evidence for one measurement: from the packets the run's capture saw while it
// ran (packet_capture.h), the facts of each TCP flow it opened (the server's SYN-ACK,
// every RST and FIN from the server's side, who sent the resets: reset_label.h) and of
// each DNS query it sent (every reply to it, with the IP fields injectors leave their
// marks in, and the flags that prove a reply forged), written as test_keys.x_packets,
// and the injections proven by them as test_keys.x_injection (docs/evidence.md).
// Only the servers', resolvers' and routers' addresses are written, never the probe's.
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "probe/capture/packet.h"
#include "probe/measurement/measurement.h"

namespace vigil {

struct PacketEvidenceOptions {
  /// When the measurement's clock read 0 (wall clock, UNIX epoch, nanoseconds).
  int64_t zero_ns = 0;
  /// How long after a query's first reply later replies still count as its own.
  int64_t dns_listen_ns = 2'000'000'000;
  /// Whether an answer address is a known forged one; null: none is.
  std::function<bool(const std::string& ip)> is_forged;
  std::string filter;    // the capture's BPF filter, for the record
  uint64_t dropped = 0;  // packets the capture lost so far
};

/// Sets m.test_keys.extra["x_packets"] from `packets` (the capture's, over at least
/// the measurement's time) and appends the proven injections to
/// m.test_keys.extra["x_injection"]. The flows are m.test_keys.flows.
void AttachPacketEvidence(Measurement& m, const std::vector<CapturedPacket>& packets,
                          const PacketEvidenceOptions& options);

/// Sets x_packets to {"available": false, "reason": reason}.
void AttachCaptureUnavailable(Measurement& m, const std::string& reason);

/// "RA", "R", "FA", ... for a TCP flags byte (the letters of the set flags among
/// F S R P A U, in that order).
std::string TcpFlagLetters(uint8_t flags);

/// One short line per x_injection entry of `m` ("rst_injection gfw_type2 at
/// 198.18.70.1:443"), for the run's table.
std::vector<std::string> InjectionLines(const Measurement& m);

}  // namespace vigil
