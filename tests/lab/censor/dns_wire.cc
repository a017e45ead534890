#include "tests/lab/censor/dns_wire.h"

namespace vigil::lab {
namespace {

void Put16(std::vector<uint8_t>* out, uint32_t v) {
  out->push_back(static_cast<uint8_t>(v >> 8));
  out->push_back(static_cast<uint8_t>(v));
}

}  // namespace

std::optional<DnsQuestion> ParseDnsQuery(std::span<const uint8_t> p) {
  if (p.size() < 12 || p.size() > 4096) return std::nullopt;
  DnsQuestion q;
  q.id = static_cast<uint16_t>(p[0] << 8 | p[1]);
  q.flags = static_cast<uint16_t>(p[2] << 8 | p[3]);
  uint16_t qdcount = static_cast<uint16_t>(p[4] << 8 | p[5]);
  uint16_t ancount = static_cast<uint16_t>(p[6] << 8 | p[7]);
  if ((q.flags & 0x8000) != 0 || ((q.flags >> 11) & 0xf) != 0 || qdcount != 1 || ancount != 0) {
    return std::nullopt;
  }
  size_t pos = 12;
  size_t name_len = 0;
  while (true) {
    if (pos >= p.size()) return std::nullopt;
    size_t len = p[pos];
    if (len == 0) {
      ++pos;
      break;
    }
    if (len > 63 || pos + 1 + len > p.size()) return std::nullopt;
    name_len += len + 1;
    if (name_len > 255) return std::nullopt;
    if (!q.qname.empty()) q.qname.push_back('.');
    q.qname.append(reinterpret_cast<const char*>(p.data() + pos + 1), len);
    pos += 1 + len;
  }
  if (pos + 4 > p.size()) return std::nullopt;
  q.qtype = static_cast<uint16_t>(p[pos] << 8 | p[pos + 1]);
  q.qclass = static_cast<uint16_t>(p[pos + 2] << 8 | p[pos + 3]);
  pos += 4;
  q.raw_question.assign(p.begin() + 12, p.begin() + static_cast<std::ptrdiff_t>(pos));
  return q;
}

std::vector<uint8_t> BuildDnsResponse(const DnsQuestion& q, uint16_t flags,
                                      const std::optional<IpAddress>& answer, uint32_t ttl) {
  std::vector<uint8_t> out;
  out.reserve(12 + q.raw_question.size() + 28);
  Put16(&out, q.id);
  Put16(&out, flags);
  Put16(&out, 1);
  Put16(&out, answer ? 1 : 0);
  Put16(&out, 0);
  Put16(&out, 0);
  out.insert(out.end(), q.raw_question.begin(), q.raw_question.end());
  if (answer) {
    Put16(&out, 0xc00c);  // the name in the question
    Put16(&out, answer->v6 ? kDnsTypeAaaa : kDnsTypeA);
    Put16(&out, 1);
    Put16(&out, ttl >> 16);
    Put16(&out, ttl & 0xffff);
    Put16(&out, static_cast<uint32_t>(answer->size()));
    out.insert(out.end(), answer->bytes.begin(),
               answer->bytes.begin() + static_cast<std::ptrdiff_t>(answer->size()));
  }
  return out;
}

}  // namespace vigil::lab
