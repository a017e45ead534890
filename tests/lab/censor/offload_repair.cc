#include "tests/lab/censor/offload_repair.h"

#include <algorithm>

namespace vigil::lab {
namespace {

void Put16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
void Put32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (24 - 8 * i));
}

uint32_t PartialSum(std::span<const uint8_t> data, uint32_t sum) {
  size_t i = 0;
  for (; i + 1 < data.size(); i += 2) sum += static_cast<uint32_t>(data[i] << 8 | data[i + 1]);
  if (i < data.size()) sum += static_cast<uint32_t>(data[i] << 8);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return sum;
}

// Recomputes the checksums of a frame laid out like `f` (same offsets) held in `out`.
void Recompute(const Frame& f, uint8_t* out, size_t ip_end) {
  uint8_t* ip = out + f.l3_offset;
  if (!f.v6) {
    size_t ihl = static_cast<size_t>(ip[0] & 0x0f) * 4;
    Put16(ip + 10, 0);
    Put16(ip + 10, InternetChecksum(std::span<const uint8_t>(ip, ihl)));
  }
  if (f.fragment || (!f.tcp && !f.udp)) return;
  uint8_t* l4 = out + f.l4_offset;
  size_t l4_len = ip_end - f.l4_offset;
  size_t csum_at = f.tcp ? 16 : 6;
  if (f.udp && !f.v6 && l4[6] == 0 && l4[7] == 0) return;
  uint32_t sum = 0;
  if (f.v6) {
    sum = PartialSum(std::span<const uint8_t>(ip + 8, 32), 0);
  } else {
    sum = PartialSum(std::span<const uint8_t>(ip + 12, 8), 0);
  }
  sum += static_cast<uint32_t>(l4_len >> 16) + static_cast<uint32_t>(l4_len & 0xffff);
  sum += f.proto;
  Put16(l4 + csum_at, 0);
  uint16_t c = InternetChecksum(std::span<const uint8_t>(l4, l4_len), sum);
  // UDP sends a computed zero as all ones: zero means "no checksum".
  if (f.udp && c == 0) c = 0xffff;
  Put16(l4 + csum_at, c);
}

}  // namespace

uint16_t InternetChecksum(std::span<const uint8_t> data, uint32_t sum) {
  return static_cast<uint16_t>(~PartialSum(data, sum) & 0xffff);
}

void RepairChecksums(const Frame& f, std::vector<uint8_t>* frame) {
  if (!f.ip || frame->size() < f.ip_end) return;
  Recompute(f, frame->data(), f.ip_end);
}

std::vector<std::vector<uint8_t>> SplitTcpSuperSegment(const Frame& f, size_t mtu) {
  std::vector<std::vector<uint8_t>> out;
  if (!f.tcp) return out;
  size_t header_len = f.payload_offset - f.l3_offset;
  if (header_len >= mtu) return out;
  size_t mss = mtu - header_len;
  const uint8_t* payload = f.bytes.data() + f.payload_offset;
  size_t n = f.payload_len;
  for (size_t done = 0, i = 0; done < n; done += mss, ++i) {
    size_t chunk = std::min(mss, n - done);
    bool last = done + chunk == n;
    std::vector<uint8_t> seg(f.bytes.begin(), f.bytes.begin() + f.payload_offset);
    seg.insert(seg.end(), payload + done, payload + done + chunk);
    uint8_t* ip = seg.data() + f.l3_offset;
    size_t ip_len = header_len + chunk;
    if (f.v6) {
      Put16(ip + 4, static_cast<uint16_t>(ip_len - 40));
    } else {
      Put16(ip + 2, static_cast<uint16_t>(ip_len));
      Put16(ip + 4, static_cast<uint16_t>(f.ip_id + i));
    }
    uint8_t* tcp = seg.data() + f.l4_offset;
    Put32(tcp + 4, f.seq + static_cast<uint32_t>(done));
    if (!last) tcp[13] = static_cast<uint8_t>(tcp[13] & ~(kTcpFin | kTcpPsh));
    Recompute(f, seg.data(), seg.size());
    out.push_back(std::move(seg));
  }
  return out;
}

}  // namespace vigil::lab
