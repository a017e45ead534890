#include "tests/lab/censor/frame.h"

namespace vigil::lab {
namespace {

uint16_t Be16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
uint32_t Be32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 |
         static_cast<uint32_t>(p[2]) << 8 | p[3];
}

void ParseTransport(Frame* f) {
  const uint8_t* b = f->bytes.data();
  size_t off = f->l4_offset;
  size_t avail = f->ip_end - off;
  if (f->proto == kIpProtoTcp) {
    if (avail < 20) return;
    size_t hlen = static_cast<size_t>(b[off + 12] >> 4) * 4;
    if (hlen < 20 || hlen > avail) return;
    f->tcp = true;
    f->sport = Be16(b + off);
    f->dport = Be16(b + off + 2);
    f->seq = Be32(b + off + 4);
    f->ack = Be32(b + off + 8);
    f->tcp_flags = b[off + 13];
    f->window = Be16(b + off + 14);
    f->payload_offset = off + hlen;
    f->payload_len = avail - hlen;
  } else if (f->proto == kIpProtoUdp) {
    if (avail < 8) return;
    size_t ulen = Be16(b + off + 4);
    if (ulen < 8 || ulen > avail) return;
    f->udp = true;
    f->sport = Be16(b + off);
    f->dport = Be16(b + off + 2);
    f->payload_offset = off + 8;
    f->payload_len = ulen - 8;
  }
}

}  // namespace

bool ParseFrame(std::span<const uint8_t> bytes, Frame* out) {
  *out = Frame{};
  out->bytes = bytes;
  if (bytes.size() < 14) return false;
  const uint8_t* b = bytes.data();
  size_t off = 12;
  uint16_t type = Be16(b + off);
  off += 2;
  if (type == 0x8100) {
    if (bytes.size() < off + 4) return true;
    type = Be16(b + off + 2);
    off += 4;
  }
  out->l3_offset = off;
  size_t avail = bytes.size() - off;
  if (type == 0x0800) {
    if (avail < 20 || (b[off] >> 4) != 4) return true;
    size_t ihl = static_cast<size_t>(b[off] & 0x0f) * 4;
    size_t total = Be16(b + off + 2);
    if (ihl < 20 || total < ihl || total > avail) return true;
    out->ip = true;
    out->ttl = b[off + 8];
    out->ip_id = Be16(b + off + 4);
    uint16_t frag = Be16(b + off + 6);
    out->df = (frag & 0x4000) != 0;
    out->fragment = (frag & 0x3fff) != 0;
    out->proto = b[off + 9];
    out->src = IpAddress::V4(std::span<const uint8_t, 4>(b + off + 12, 4));
    out->dst = IpAddress::V4(std::span<const uint8_t, 4>(b + off + 16, 4));
    out->ip_end = off + total;
    out->l4_offset = off + ihl;
  } else if (type == 0x86dd) {
    if (avail < 40 || (b[off] >> 4) != 6) return true;
    size_t plen = Be16(b + off + 4);
    if (40 + plen > avail) return true;
    out->ip = true;
    out->v6 = true;
    out->ttl = b[off + 7];
    out->src = IpAddress::V6(std::span<const uint8_t, 16>(b + off + 8, 16));
    out->dst = IpAddress::V6(std::span<const uint8_t, 16>(b + off + 24, 16));
    out->ip_end = off + 40 + plen;
    uint8_t next = b[off + 6];
    size_t l4 = off + 40;
    // Skip the extension headers a lab sees; give up (not TCP/UDP) on long chains.
    for (int i = 0; i < 4; ++i) {
      if (next == 0 || next == 43 || next == 60) {
        if (l4 + 8 > out->ip_end) return true;
        size_t len = (static_cast<size_t>(b[l4 + 1]) + 1) * 8;
        if (l4 + len > out->ip_end) return true;
        next = b[l4];
        l4 += len;
      } else if (next == 44) {
        out->fragment = true;
        break;
      } else {
        break;
      }
    }
    out->proto = next;
    out->l4_offset = l4;
  } else {
    return true;
  }
  if (!out->fragment) ParseTransport(out);
  return true;
}

}  // namespace vigil::lab
