// Fuzz target for the lab censor's ParseFrame, which reads every frame on the lab's
// wire. Besides crashes and sanitizer reports, it checks that every offset stays
// inside the frame, and that a TCP segment or UDP datagram forged from what was parsed
// (as the censor forges its RSTs and answers) parses back to the same fields.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "tests/fuzz/fuzz_check.h"
#include "tests/lab/censor/forge.h"
#include "tests/lab/censor/frame.h"

namespace vigil::lab {
namespace {

void CheckBounds(const Frame& f) {
  const size_t size = f.bytes.size();
  if (!f.ip) {
    FUZZ_CHECK(!f.tcp && !f.udp);
    return;
  }
  FUZZ_CHECK(f.l3_offset >= 14 && f.l3_offset < f.ip_end && f.ip_end <= size);
  FUZZ_CHECK(!(f.tcp && f.udp));
  FUZZ_CHECK(!f.fragment || (!f.tcp && !f.udp));
  if (f.tcp || f.udp) {
    FUZZ_CHECK(f.l3_offset < f.l4_offset && f.l4_offset <= f.payload_offset);
    FUZZ_CHECK(f.payload_offset + f.payload_len <= f.ip_end);
    FUZZ_CHECK(f.payload().size() == f.payload_len);
  }
  FUZZ_CHECK(f.src.v6 == f.v6 && f.dst.v6 == f.v6);
  FUZZ_CHECK(IpAddress::Parse(f.src.ToString()) == f.src);
}

void CheckForged(const Frame& f) {
  const IpFields ip{f.src, f.dst, f.ttl, f.ip_id, f.df};
  const auto payload = f.payload();
  std::vector<uint8_t> forged;
  if (f.tcp) {
    forged = ForgeTcpFrame(MacPair::Of(f, false), ip,
                           TcpFields{f.sport, f.dport, f.seq, f.ack, f.tcp_flags, f.window},
                           std::string(payload.begin(), payload.end()));
  } else {
    forged = ForgeUdpFrame(MacPair::Of(f, false), ip, f.sport, f.dport,
                           std::vector<uint8_t>(payload.begin(), payload.end()));
  }
  Frame g;
  FUZZ_CHECK(ParseFrame(forged, &g));
  CheckBounds(g);
  FUZZ_CHECK(g.ip && g.v6 == f.v6 && g.src == f.src && g.dst == f.dst && g.ttl == f.ttl);
  FUZZ_CHECK(g.tcp == f.tcp && g.udp == f.udp && g.sport == f.sport && g.dport == f.dport);
  if (f.tcp) {
    FUZZ_CHECK(g.seq == f.seq && g.ack == f.ack && g.tcp_flags == f.tcp_flags);
    FUZZ_CHECK(g.window == f.window);
  }
  if (!f.v6) FUZZ_CHECK(g.ip_id == f.ip_id && g.df == f.df);
  const auto again = g.payload();
  FUZZ_CHECK(std::vector<uint8_t>(again.begin(), again.end()) ==
             std::vector<uint8_t>(payload.begin(), payload.end()));
}

}  // namespace
}  // namespace vigil::lab

// The input is one captured frame.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vigil::lab;
  Frame f;
  const bool parsed = ParseFrame(std::span<const uint8_t>(data, size), &f);
  FUZZ_CHECK(parsed == (size >= 14));
  if (!parsed) return 0;
  CheckBounds(f);
  // Forging large payloads is the slow part; real segments stay under 1500 bytes.
  if ((f.tcp || f.udp) && f.payload_len <= 1500) CheckForged(f);
  return 0;
}
