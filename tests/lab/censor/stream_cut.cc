#include "tests/lab/censor/stream_cut.h"

#include <cstring>

#include "tests/lab/censor/forge.h"

namespace vigil::lab {
namespace {

constexpr size_t kMaxCutsPerFlow = 256;

void Put32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (24 - 8 * i));
}
uint32_t Get32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 |
         static_cast<uint32_t>(p[2]) << 8 | p[3];
}

// Whether sequence number a is before b, modulo 2^32.
bool SeqBefore(uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b) < 0; }

// The server's ACK of the client's bytes up to `ack`, as the client expects it.
void AckToClient(const Frame& f, uint32_t ack, uint16_t window, InjectionRng* rng,
                 std::vector<Outgoing>* out) {
  IpFields ip{f.dst, f.src, 64, rng->IpId({}), true};
  TcpFields tcp{f.dport, f.sport, f.ack, ack, kTcpAck, window};
  out->push_back({Side::kClient, ForgeTcpFrame(MacPair::Of(f, true), ip, tcp, "")});
}

}  // namespace

bool CutSegment(const Frame& f, FlowState* flow, InjectionRng* rng, std::vector<Outgoing>* out) {
  if (!f.tcp) return true;  // a datagram just vanishes
  if (f.payload_len == 0) return false;
  if (flow->cuts.size() >= kMaxCutsPerFlow) return false;
  uint32_t start = f.seq, end = f.seq + static_cast<uint32_t>(f.payload_len);
  flow->cuts.emplace_back(start, end);
  AckToClient(f, end, flow->server_window, rng, out);
  return true;
}

bool ReackCutSegment(const Frame& f, const FlowState* flow, InjectionRng* rng,
                     std::vector<Outgoing>* out) {
  if (flow == nullptr || flow->cuts.empty() || f.payload_len == 0) return false;
  uint32_t end = f.seq + static_cast<uint32_t>(f.payload_len);
  for (const auto& [s, e] : flow->cuts) {
    if (!SeqBefore(f.seq, s) && !SeqBefore(e, end)) {
      // A retransmission of a segment we cut: our ACK was lost or late; repeat it.
      AckToClient(f, e, flow->server_window, rng, out);
      return true;
    }
  }
  return false;
}

void RenumberForCuts(const Frame& f, bool up,
                     const std::vector<std::pair<uint32_t, uint32_t>>& cuts,
                     std::vector<uint8_t>* frame) {
  uint8_t* tcp = frame->data() + f.l4_offset;
  if (up) {
    // Client -> server: shift down by the bytes cut before this segment.
    uint32_t shift = 0;
    for (const auto& [s, e] : cuts) {
      if (!SeqBefore(f.seq, e)) shift += e - s;
    }
    Put32(tcp + 4, f.seq - shift);
    return;
  }
  // Server -> client: its ACK counts in the shifted space; map it back.
  uint32_t ack = Get32(tcp + 8);
  uint32_t shift = 0;
  for (const auto& [s, e] : cuts) {
    if (!SeqBefore(ack + shift, s)) shift += e - s;
  }
  Put32(tcp + 8, ack + shift);
  // SACK blocks are in the shifted space too; blank them (NOPs) rather than translate.
  size_t opt = f.l4_offset + 20;
  while (opt < f.payload_offset) {
    uint8_t kind = (*frame)[opt];
    if (kind == 0) break;
    if (kind == 1) {
      ++opt;
      continue;
    }
    if (opt + 1 >= f.payload_offset) break;
    size_t len = (*frame)[opt + 1];
    if (len < 2 || opt + len > f.payload_offset) break;
    if (kind == 5) std::memset(frame->data() + opt, 1, len);
    opt += len;
  }
}

}  // namespace vigil::lab
