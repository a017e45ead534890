// Fuzz target for the probe's ParseFrame, which reads every frame the packet capture
// hands over (probe/capture/packet.h). The first input byte picks the link type
// (Ethernet, raw IP, Linux cooked v1 or v2, or an unknown one), the rest is the frame.
// Besides crashes and sanitizer reports, it checks the promises CapturedPacket makes:
// at most kPayloadKept payload bytes, never more than were carried; addresses that
// read back as IP literals; IPv6 without IPv4-only fields; a DNS name in lower case;
// and a refusal that says why.
#include <arpa/inet.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "probe/capture/packet.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

bool IsAddress(const std::string& text, int ip_version) {
  unsigned char buf[16];
  return inet_pton(ip_version == 6 ? AF_INET6 : AF_INET, text.c_str(), buf) == 1;
}

bool IsAnyAddress(const std::string& text) { return IsAddress(text, 4) || IsAddress(text, 6); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vigil;
  if (size == 0) return 0;
  static constexpr int kLinkTypes[] = {kLinkTypeEthernet, kLinkTypeRaw, kLinkTypeLinuxSll,
                                       kLinkTypeLinuxSll2, 147};
  const int link_type = kLinkTypes[data[0] % 5];
  const auto parsed = ParseFrame(link_type, data + 1, size - 1, 7);
  if (!parsed.ok()) {
    FUZZ_CHECK(!parsed.error().empty());
    return 0;
  }
  const CapturedPacket& p = *parsed;
  FUZZ_CHECK(link_type != 147);
  FUZZ_CHECK(p.time_ns == 7);
  FUZZ_CHECK(p.ip_version == 4 || p.ip_version == 6);
  FUZZ_CHECK(IsAddress(p.src_ip, p.ip_version) && IsAddress(p.dst_ip, p.ip_version));
  if (p.ip_version == 6) FUZZ_CHECK(p.ip_id == 0 && !p.df);
  FUZZ_CHECK(p.payload.size() <= kPayloadKept);
  FUZZ_CHECK(p.payload.size() <= p.payload_size);
  FUZZ_CHECK(p.payload.size() < size);
  if (p.proto != PacketProto::kTcp) FUZZ_CHECK(p.tcp_flags == 0 && p.seq == 0 && p.ack == 0);
  if (p.dns) {
    FUZZ_CHECK(p.proto == PacketProto::kUdp && (p.src_port == 53 || p.dst_port == 53));
    for (char c : p.dns->qname) FUZZ_CHECK(!(c >= 'A' && c <= 'Z'));
    FUZZ_CHECK(p.dns->qname.size() <= 255);
    for (const auto& a : p.dns->answers) {
      if (a.type == 1 && !a.data.empty()) FUZZ_CHECK(IsAddress(a.data, 4));
      if (a.type == 28 && !a.data.empty()) FUZZ_CHECK(IsAddress(a.data, 6));
    }
  }
  if (p.icmp_quote) {
    FUZZ_CHECK(p.proto == PacketProto::kIcmp);
    FUZZ_CHECK(IsAnyAddress(p.icmp_quote->src_ip) && IsAnyAddress(p.icmp_quote->dst_ip));
  }
  return 0;
}
