#include "tests/lab/censor/dns_injection.h"

#include <optional>
#include <set>
#include <string_view>
#include <utility>

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
                      int64_t now_ns, InjectionRng* rng, std::vector<Outgoing>* out,
                      nlohmann::json* detail) {
  const Frame& f = trigger;
  uint64_t h = Fnv1a(NormalizeDomain(q.qname));
  nlohmann::json answers = nlohmann::json::array();
  nlohmann::json ids = nlohmann::json::array();
  nlohmann::json copies = nlohmann::json::array();
  std::set<std::pair<int, int>> ttl_and_flags;
  for (int i = 0; i < d.copies; ++i) {
    const DnsCopyFingerprint c =
        d.per_copy.empty() ? DnsCopyFingerprint{} : d.per_copy[static_cast<size_t>(i)];
    uint64_t pick = d.random ? rng->Next() : h + static_cast<uint64_t>(i);
    std::optional<IpAddress> answer = ForgedAnswer(d, q, pick);
    uint16_t id = rng->IpId(c.ip_id.value_or(d.ip_id));
    const uint8_t ttl = rng->Ttl(c.ip_ttl.value_or(d.ip_ttl), f.ttl);
    const bool df = c.df.value_or(d.df);
    const uint16_t flags = c.dns_flags.value_or(d.dns_flags);
    const uint32_t answer_ttl = c.answer_ttl.value_or(d.answer_ttl);
    const uint32_t delay_ms = c.delay_ms.value_or(d.delay_ms);
    std::vector<uint8_t> reply = BuildDnsResponse(q, flags, answer, answer_ttl);
    IpFields ip{f.dst, f.src, ttl, id, df};
    out->push_back({Side::kClient, ForgeUdpFrame(MacPair::Of(f, true), ip, f.dport, f.sport, reply),
                    now_ns + static_cast<int64_t>(delay_ms) * 1'000'000});
    nlohmann::json a = answer ? nlohmann::json(answer->ToString()) : nlohmann::json(nullptr);
    answers.push_back(a);
    ids.push_back(id);
    copies.push_back({{"answer", a},
                      {"ip_ttl", ttl},
                      {"ip_id", id},
                      {"df", df},
                      {"dns_flags", flags},
                      {"answer_ttl", answer_ttl},
                      {"delay_ms", delay_ms}});
    ttl_and_flags.insert({ttl, flags});
  }
  (*detail)["qname"] = q.qname;
  (*detail)["qtype"] = q.qtype;
  (*detail)["answers"] = answers;
  // One IP TTL and DNS flags for all the copies read as before; copies that differ
  // say so each in `copies`.
  if (ttl_and_flags.size() == 1) {
    (*detail)["ip_ttl"] = ttl_and_flags.begin()->first;
    (*detail)["dns_flags"] = ttl_and_flags.begin()->second;
  }
  (*detail)["ip_ids"] = ids;
  (*detail)["copies"] = copies;
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
