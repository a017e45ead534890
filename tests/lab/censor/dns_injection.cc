#include "tests/lab/censor/dns_injection.h"

#include <optional>
#include <string_view>

#include "tests/lab/censor/forge.h"
#include "tests/lab/censor/name_pattern.h"

namespace vigil::lab {
namespace {

uint64_t Fnv1a(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (char c : s) {
    h ^= static_cast<uint8_t>(c);
    h *= 0x100000001b3ull;
  }
  return h;
}

// The forged address for an A or AAAA question (none for other types, or for A
// without an IPv4 pool); `pick` chooses among the pool.
std::optional<IpAddress> ForgedAnswer(const DnsInjectParams& d, const DnsQuestion& q,
                                      uint64_t pick) {
  if (q.qtype == kDnsTypeA && q.qclass == 1 && !d.pool.empty()) {
    return d.pool[pick % d.pool.size()];
  }
  if (q.qtype != kDnsTypeAaaa || q.qclass != 1) return std::nullopt;
  if (!d.pool6.empty()) return d.pool6[pick % d.pool6.size()];
  // Teredo-looking 2001::/32 addresses, as the GFW forges for AAAA.
  IpAddress a;
  a.v6 = true;
  a.bytes[0] = 0x20;
  a.bytes[1] = 0x01;
  a.bytes[12] = 0x1f;
  a.bytes[13] = 0x0d;
  a.bytes[14] = static_cast<uint8_t>(pick >> 8);
  a.bytes[15] = static_cast<uint8_t>(pick);
  return a;
}

}  // namespace

void InjectDnsAnswers(const DnsInjectParams& d, const Frame& trigger, const DnsQuestion& q,
                      InjectionRng* rng, std::vector<Outgoing>* out, nlohmann::json* detail) {
  const Frame& f = trigger;
  uint64_t h = Fnv1a(NormalizeDomain(q.qname));
  nlohmann::json answers = nlohmann::json::array();
  nlohmann::json ids = nlohmann::json::array();
  uint8_t ttl = rng->Ttl(d.ip_ttl, f.ttl);
  for (int i = 0; i < d.copies; ++i) {
    uint64_t pick = d.random ? rng->Next() : h + static_cast<uint64_t>(i);
    std::optional<IpAddress> answer = ForgedAnswer(d, q, pick);
    uint16_t id = rng->IpId(d.ip_id);
    std::vector<uint8_t> reply = BuildDnsResponse(q, d.dns_flags, answer, d.answer_ttl);
    IpFields ip{f.dst, f.src, ttl, id, d.df};
    out->push_back(
        {Side::kClient, ForgeUdpFrame(MacPair::Of(f, true), ip, f.dport, f.sport, reply)});
    answers.push_back(answer ? nlohmann::json(answer->ToString()) : nlohmann::json(nullptr));
    ids.push_back(id);
  }
  (*detail)["qname"] = q.qname;
  (*detail)["qtype"] = q.qtype;
  (*detail)["answers"] = answers;
  (*detail)["ip_ttl"] = ttl;
  (*detail)["ip_ids"] = ids;
  (*detail)["dns_flags"] = d.dns_flags;
}

void InjectNxdomain(const Frame& trigger, const DnsQuestion& q, InjectionRng* rng,
                    std::vector<Outgoing>* out, nlohmann::json* detail) {
  const Frame& f = trigger;
  std::vector<uint8_t> reply = BuildDnsResponse(q, 0x8183, std::nullopt, 0);
  IpFields ip{f.dst, f.src, 64, rng->IpId({}), false};
  out->push_back({Side::kClient, ForgeUdpFrame(MacPair::Of(f, true), ip, f.dport, f.sport, reply)});
  (*detail)["qname"] = q.qname;
  (*detail)["qtype"] = q.qtype;
}

}  // namespace vigil::lab
