#include "tests/lab/censor/forwarding.h"

#include "tests/lab/censor/offload_repair.h"
#include "tests/lab/censor/stream_cut.h"

namespace vigil::lab {

void ForwardFrame(const Frame& f, bool up, const FlowState* flow, Side to, size_t mtu,
                  int64_t at_ns, std::vector<Outgoing>* out) {
  std::vector<uint8_t> frame(f.bytes.begin(), f.bytes.end());
  if (flow != nullptr && f.tcp && !flow->cuts.empty()) RenumberForCuts(f, up, flow->cuts, &frame);
  RepairChecksums(f, &frame);
  if (f.ip_end - f.l3_offset <= mtu) {
    out->push_back({to, std::move(frame), at_ns});
    return;
  }
  // A TSO/GSO super-segment from the sender's veth: cut it as its NIC would have.
  Frame repaired;
  ParseFrame(frame, &repaired);
  for (auto& seg : SplitTcpSuperSegment(repaired, mtu)) out->push_back({to, std::move(seg), at_ns});
}

}  // namespace vigil::lab
