#include "tests/lab/censor/rst_injection.h"

#include "tests/lab/censor/forge.h"

namespace vigil::lab {

nlohmann::json InjectRsts(const RstParams& rst, const Frame& trigger, bool residual,
                          InjectionRng* rng, std::vector<Outgoing>* out) {
  const Frame& f = trigger;
  const bool to_client = rst.direction != RstDirection::kServer;
  const bool to_server = rst.direction != RstDirection::kClient;
  const bool syn = (f.tcp_flags & kTcpAck) == 0;
  const bool passed = rst.pass_trigger && !residual;
  // The ACK bit is needed for a client in SYN-SENT to accept the RST (RFC 793), so a
  // trigger without ACK always draws RST+ACK acknowledging it.
  uint8_t flags = static_cast<uint8_t>(kTcpRst | (rst.ack || syn ? kTcpAck : 0));
  uint8_t ttl = rng->Ttl(rst.ttl, f.ttl);
  nlohmann::json ids = nlohmann::json::array();
  for (int i = 0; i < rst.count; ++i) {
    uint16_t id = rng->IpId(rst.ip_id);
    ids.push_back(id);
    if (to_client) {
      // As if from the server: its next sequence number is what the client acked.
      IpFields ip{f.dst, f.src, ttl, id, rst.df};
      TcpFields tcp{f.dport, f.sport, syn ? 0u : f.ack, f.seq + f.SeqLength(), flags, 0};
      out->push_back({Side::kClient, ForgeTcpFrame(MacPair::Of(f, true), ip, tcp, rst.payload)});
    }
    if (to_server && !(residual && syn)) {
      // A dropped trigger leaves the server expecting the trigger's own seq; one that
      // passed, the seq after it.
      IpFields ip{f.src, f.dst, ttl, id, rst.df};
      TcpFields tcp{f.sport, f.dport, passed ? f.seq + f.SeqLength() : f.seq, f.ack, flags, 0};
      out->push_back({Side::kServer, ForgeTcpFrame(MacPair::Of(f, false), ip, tcp, rst.payload)});
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
