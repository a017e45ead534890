#include "probe/capture/evidence_gathering.h"

#include <algorithm>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <chrono>
#include <set>

#include "probe/capture/packet_capture.h"
#include "probe/capture/packet_evidence.h"

namespace vigil {

int64_t WallNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

namespace {

// Packets of a measurement may come after it ends: a reset racing its end, and replies
// to its DNS queries within the listening window after their first reply.
int64_t EvidenceDeadlineNs(const Measurement& m, int64_t zero_ns, int64_t end_ns,
                           const InjectionOptions& options) {
  const int64_t listen_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(options.dns_listen).count();
  int64_t until = end_ns + 100'000'000;
  for (const DnsQuery& q : m.test_keys.queries) {
    if (q.engine != "udp" && q.engine != "getaddrinfo") continue;
    until = std::max(until, zero_ns + static_cast<int64_t>(q.timing.t * 1e9) + listen_ns);
  }
  return until;
}

}  // namespace

// x_packets and x_injection for a finished measurement (packet_evidence.h), once its
// late packets have had time to come; nothing when the capture is off.
asio::awaitable<void> GatherPacketEvidence(const ExperimentContext& context, Measurement& m,
                                           int64_t zero_ns, int64_t end_ns) {
  if (!context.capture) {
    if (!context.capture_unavailable.empty()) {
      AttachCaptureUnavailable(m, context.capture_unavailable);
    }
    co_return;
  }
  const int64_t until = EvidenceDeadlineNs(m, zero_ns, end_ns, context.injection);
  const int64_t wait_ns = until - WallNowNs();
  if (wait_ns > 0) {
    asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::nanoseconds(wait_ns));
    co_await timer.async_wait(asio::use_awaitable);
  }
  PacketEvidenceOptions options;
  options.zero_ns = zero_ns;
  options.dns_listen_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(context.injection.dns_listen).count();
  options.is_forged = context.is_forged_ip;
  options.filter = context.capture->filter();
  options.dropped = context.capture->dropped();
  // Only what can be this measurement's: segments to its flows' local ports, DNS, ICMP.
  std::set<uint16_t> local_ports;
  for (const FlowNote& flow : m.test_keys.flows) local_ports.insert(flow.local_port);
  auto mine = [&local_ports](const CapturedPacket& p) {
    switch (p.proto) {
      case PacketProto::kTcp:
        return local_ports.count(p.dst_port) > 0;
      case PacketProto::kUdp:
        return p.dns.has_value();
      case PacketProto::kIcmp:
        return true;
      default:
        return false;
    }
  };
  AttachPacketEvidence(m, context.capture->Packets(zero_ns - 1'000'000'000, WallNowNs(), mine),
                       options);
}

}  // namespace vigil
