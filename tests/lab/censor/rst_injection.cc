#include "tests/lab/censor/rst_injection.h"

#include "tests/lab/censor/forge.h"

namespace vigil::lab {

nlohmann::json InjectRsts(const RstParams& rst, const Frame& trigger, bool from_client,
                          bool residual, InjectionRng* rng, std::vector<Outgoing>* out,
                          std::optional<uint32_t> server_next_seq) {
  const Frame& f = trigger;
  const bool to_client = rst.direction != RstDirection::kServer;
  const bool to_server = rst.direction != RstDirection::kClient;
  const bool syn = (f.tcp_flags & kTcpAck) == 0;
  const bool passed = rst.pass_trigger && !residual;
  // The ACK bit is needed for a client in SYN-SENT to accept the RST (RFC 793), so a
  // trigger without ACK always draws RST+ACK acknowledging it.
  uint8_t flags = static_cast<uint8_t>(kTcpRst | (rst.ack || syn ? kTcpAck : 0));
  uint8_t ttl = rng->Ttl(rst.ttl, f.ttl);
  // The trigger's sender gets a RST as if from its peer, whose next sequence number
  // is what the sender acked; the peer gets one as if from the sender, at the
  // trigger's own seq when it was dropped, or the seq after it when it passed.
  const Side sender = from_client ? Side::kClient : Side::kServer;
  const Side peer = from_client ? Side::kServer : Side::kClient;
  const bool to_sender = from_client ? to_client : to_server;
  const bool to_peer = (from_client ? to_server : to_client) && !(residual && syn);
  nlohmann::json ids = nlohmann::json::array();
  for (int i = 0; i < rst.count; ++i) {
    uint16_t id = rng->IpId(rst.ip_id);
    ids.push_back(id);
    if (to_sender) {
      IpFields ip{f.dst, f.src, ttl, id, rst.df};
      // The client's RST as if from the server: at the server's next byte, which the
      // client may have read beyond what this segment acknowledged.
      uint32_t seq = syn ? 0u : f.ack;
      if (!syn && from_client && server_next_seq &&
          static_cast<int32_t>(*server_next_seq - seq) > 0) {
        seq = *server_next_seq;
      }
      TcpFields tcp{f.dport, f.sport, seq, f.seq + f.SeqLength(), flags, 0};
      out->push_back({sender, ForgeTcpFrame(MacPair::Of(f, true), ip, tcp, rst.payload)});
    }
    if (to_peer) {
      IpFields ip{f.src, f.dst, ttl, id, rst.df};
      TcpFields tcp{f.sport, f.dport, passed ? f.seq + f.SeqLength() : f.seq, f.ack, flags, 0};
      out->push_back({peer, ForgeTcpFrame(MacPair::Of(f, false), ip, tcp, rst.payload)});
    }
  }
  const char* dir = rst.direction == RstDirection::kBoth     ? "both"
                    : rst.direction == RstDirection::kClient ? "client"
                                                             : "server";
  return {{"rst_type", rst.type}, {"count", rst.count}, {"direction", dir},
          {"ttl", ttl},           {"ip_ids", ids},      {"trigger", passed ? "pass" : "drop"}};
}

RstParams ResidualRstAfterBlockpage() {
  RstParams rst;
  RstTypeDefaults("gfw1", &rst);
  rst.type = "blockpage";
  rst.direction = RstDirection::kClient;
  rst.ttl = {TtlSpec::kFixed, 64, 64};
  return rst;
}

}  // namespace vigil::lab
