// Packet: one captured frame on its way through the censor — the parsed frame, its
// direction, its flow and what the engine learned of it — with the clock reading and
// the output list it was handed in with. Lives for one Censor::OnFrame call.
// Not thread-safe: the engine's thread owns it.
#pragma once

#include <optional>
#include <vector>

#include "tests/lab/censor/dns_wire.h"
#include "tests/lab/censor/flow_table.h"
#include "tests/lab/censor/frame.h"
#include "tests/lab/censor/outgoing.h"

namespace vigil::lab {

struct Packet {
  Side from = Side::kClient;
  bool up = true;  // client -> server
  Frame f;
  const Clock* now = nullptr;
  std::vector<Outgoing>* out = nullptr;
  /// Set for TCP and UDP only; `flow` then points into the flow table.
  FlowKey key;
  FlowState* flow = nullptr;
  /// Keywords found in this packet's new bytes (with the flow's tail before them),
  /// indexed like the engine's KeywordSet; empty when nothing was scanned.
  std::vector<bool> words_now;
  /// This client packet starts its first TLS application data after the handshake.
  bool app_data_now = false;
  /// This server packet is the first to carry data.
  bool response_now = false;

  Side other() const { return from == Side::kClient ? Side::kServer : Side::kClient; }
  const IpAddress& client() const { return up ? f.src : f.dst; }
  const IpAddress& server() const { return up ? f.dst : f.src; }
  uint16_t server_port() const { return up ? f.dport : f.sport; }
  /// 0 for client -> server, 1 for server -> client (FlowState's per-direction arrays).
  int dir() const { return up ? 0 : 1; }

  /// The DNS question of a UDP payload, parsed on first use (only DNS rules ask).
  const std::optional<DnsQuestion>& dns() {
    if (!dns_parsed_) {
      dns_parsed_ = true;
      dns_ = ParseDnsQuery(f.payload());
    }
    return dns_;
  }

 private:
  bool dns_parsed_ = false;
  std::optional<DnsQuestion> dns_;
};

}  // namespace vigil::lab
