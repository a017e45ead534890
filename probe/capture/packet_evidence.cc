#include "probe/capture/packet_evidence.h"

#include <algorithm>
#include <asio/ip/address.hpp>
#include <cctype>
#include <cstdio>
#include <map>
#include <optional>
#include <set>
#include <tuple>
#include <utility>

#include "base/host_port.h"
#include "probe/capture/reset_label.h"
#include "probe/dns/dns_message.h"

namespace vigil {
namespace {

constexpr int64_t kSlackNs = 20'000'000;  // a packet stamped just around a step's edge

double Seconds(int64_t time_ns, int64_t zero_ns) {
  return static_cast<double>(time_ns - zero_ns) / 1e9;
}

std::string Lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  while (!text.empty() && text.back() == '.') text.pop_back();
  return text;
}

std::string Hex(const std::vector<uint8_t>& bytes) {
  static const char* const kDigits = "0123456789abcdef";
  std::string out;
  for (uint8_t b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
  return out;
}

std::string FlagsHex(uint16_t flags) {
  char text[8];
  std::snprintf(text, sizeof text, "0x%04x", flags);
  return text;
}

// An address in Teredo's 2001::/32, where one injector's forged AAAA answers come from.
bool IsTeredo(const std::string& ip) {
  std::error_code ec;
  const auto address = asio::ip::make_address(ip, ec);
  if (ec || !address.is_v6()) return false;
  const auto bytes = address.to_v6().to_bytes();
  return bytes[0] == 0x20 && bytes[1] == 0x01 && bytes[2] == 0 && bytes[3] == 0;
}

// The canonical text of an address, so that captured and contacted spellings compare.
std::string CanonicalIp(const std::string& ip) {
  std::error_code ec;
  const auto address = asio::ip::make_address(ip, ec);
  return ec ? ip : address.to_string();
}

SegmentFacts FactsOf(const CapturedPacket& p, int64_t zero_ns) {
  SegmentFacts s;
  s.t = Seconds(p.time_ns, zero_ns);
  s.ip_ttl = p.ip_ttl;
  s.ip_id = p.ip_id;
  s.df = p.df;
  s.tcp_flags = p.tcp_flags;
  s.payload = p.payload;
  return s;
}

Json SegmentJson(const SegmentFacts& s, bool with_flags) {
  Json j = {{"t", s.t}, {"ip_ttl", s.ip_ttl}, {"ip_id", s.ip_id}, {"df", s.df}};
  if (with_flags) {
    j["flags"] = TcpFlagLetters(s.tcp_flags);
    j["payload_hex"] = Hex(s.payload);
  }
  return j;
}

// The step a flow's injection struck, and the name it was for: the first step of the
// flow's exchange that failed, else the last one it reached.
std::pair<std::string, std::string> StruckStep(const TestKeys& keys, const FlowNote& flow) {
  const std::string address = JoinHostPort(flow.ip, flow.port);
  std::string hostname;
  bool had_tls = false, had_http = false;
  for (const TcpConnect& c : keys.tcp_connect) {
    if (c.timing.transaction_id == flow.transaction_id && c.ip == flow.ip && c.port == flow.port &&
        c.status.failure) {
      return {"tcp", hostname};
    }
  }
  for (const TlsHandshake& h : keys.tls_handshakes) {
    if (h.timing.transaction_id != flow.transaction_id || h.address != address) continue;
    had_tls = true;
    hostname = h.server_name;
    if (h.failure) return {"tls", hostname};
  }
  // Handshakes kept apart from OONI's keys (x_tls_handshakes: the messaging
  // experiments' handshakes after OONI's own connects), in the same shape.
  if (auto it = keys.extra.find("x_tls_handshakes"); it != keys.extra.end() && it->is_array()) {
    for (const Json& h : *it) {
      if (!h.is_object() || h.value("address", "") != address) continue;
      if (h.value("transaction_id", int64_t{-1}) != flow.transaction_id) continue;
      had_tls = true;
      hostname = h.value("server_name", "");
      if (h.contains("failure") && h["failure"].is_string()) return {"tls", hostname};
    }
  }
  for (const HttpTransaction& r : keys.requests) {
    if (r.timing.transaction_id != flow.transaction_id) continue;
    had_http = true;
    if (r.failure) return {"http", hostname};
  }
  if (had_tls) return {"tls", hostname};
  if (had_http) return {"http", hostname};
  return {"tcp", hostname};
}

void FlowEvidence(const Measurement& m, const std::vector<CapturedPacket>& packets,
                  const PacketEvidenceOptions& options, Json& flows, Json& injections) {
  for (const FlowNote& flow : m.test_keys.flows) {
    if (flow.local_port == 0) continue;
    const std::string server = CanonicalIp(flow.ip);
    const int64_t from = options.zero_ns + static_cast<int64_t>(flow.t0 * 1e9) - kSlackNs;
    ResetFlow facts;
    int fins = 0;
    for (const CapturedPacket& p : packets) {
      if (p.proto != PacketProto::kTcp || p.time_ns < from || p.src_port != flow.port ||
          p.dst_port != flow.local_port || p.src_ip != server) {
        continue;
      }
      const SegmentFacts s = FactsOf(p, options.zero_ns);
      if ((p.tcp_flags & 0x04) != 0) {
        facts.resets.push_back(s);
      } else if ((p.tcp_flags & 0x12) == 0x12) {
        if (!facts.syn_ack) facts.syn_ack = s;
      } else if ((p.tcp_flags & 0x01) != 0) {
        ++fins;
      }
    }
    const ResetLabel label = LabelResets(facts);
    Json entry = {{"address", JoinHostPort(flow.ip, flow.port)},
                  {"transaction_id", flow.transaction_id},
                  {"syn_ack", facts.syn_ack ? SegmentJson(*facts.syn_ack, false) : Json()},
                  {"resets", Json::array()},
                  {"fins", fins},
                  {"reset_source", ResetSourceName(label.source)},
                  {"reset_reason", label.reason}};
    for (const SegmentFacts& r : facts.resets) entry["resets"].push_back(SegmentJson(r, true));
    flows.push_back(std::move(entry));
    if (!IsInjected(label.source)) continue;
    const auto [layer, hostname] = StruckStep(m.test_keys, flow);
    Json injection = {{"layer", layer},
                      {"technique", "rst_injection"},
                      {"injector", ResetSourceName(label.source)},
                      {"address", JoinHostPort(flow.ip, flow.port)},
                      {"flags", Json::array()},
                      {"reason", label.reason},
                      {"transaction_id", flow.transaction_id}};
    if (!hostname.empty()) injection["hostname"] = hostname;
    injections.push_back(std::move(injection));
  }
}

bool QtypeMatches(const std::string& query_type, uint16_t qtype) {
  if (query_type == "A") return qtype == 1;
  if (query_type == "AAAA") return qtype == 28;
  if (query_type == "ANY") return qtype == 1 || qtype == 28;  // one getaddrinfo call
  if (query_type == "CNAME") return qtype == 5;
  return false;
}

// Two copies of one reply (a duplicated packet) are one reply.
bool SameReply(const CapturedPacket& a, const CapturedPacket& b) {
  return a.src_ip == b.src_ip && a.ip_id == b.ip_id && a.ip_ttl == b.ip_ttl &&
         a.payload_size == b.payload_size && a.payload == b.payload;
}

void DnsEvidence(const Measurement& m, const std::vector<CapturedPacket>& packets,
                 const PacketEvidenceOptions& options, Json& out, Json& injections) {
  for (const DnsQuery& q : m.test_keys.queries) {
    std::string resolver_ip;
    uint16_t resolver_port = 53;
    if (q.resolver_address && !q.resolver_address->empty()) {
      auto hp = ParseHostOptionalPort(*q.resolver_address, 53);
      if (!hp.ok() || !IsIpLiteral(hp->host)) continue;  // DoT/DoH: not UDP
      resolver_ip = CanonicalIp(hp->host);
      resolver_port = hp->port;
    }
    if (q.engine != "udp" && q.engine != "getaddrinfo" && !q.engine.empty()) continue;
    const std::string name = Lower(q.hostname);
    const int64_t from =
        options.zero_ns + static_cast<int64_t>(q.timing.t0.value_or(0) * 1e9) - kSlackNs;
    const int64_t to = options.zero_ns + static_cast<int64_t>(q.timing.t * 1e9) + kSlackNs;

    // The query packets, by (our port, id): a retransmission reuses both.
    struct Sent {
      int count = 0;
      int64_t first_ns = 0;
      std::string dst_ip;
    };
    std::map<std::pair<uint16_t, uint16_t>, Sent> sent;
    for (const CapturedPacket& p : packets) {
      if (p.time_ns < from || p.time_ns > to) continue;
      if (p.proto != PacketProto::kUdp || !p.dns || p.dns->is_response()) continue;
      if (p.dst_port != resolver_port || p.dns->qname != name) continue;
      if (!QtypeMatches(q.query_type, p.dns->qtype)) continue;
      if (!resolver_ip.empty() && p.dst_ip != resolver_ip) continue;
      Sent& s = sent[{p.src_port, p.dns->id}];
      if (s.count++ == 0) {
        s.first_ns = p.time_ns;
        s.dst_ip = p.dst_ip;
      }
    }
    for (const auto& [key, s] : sent) {
      std::vector<const CapturedPacket*> replies;
      std::optional<int64_t> first_reply;
      for (const CapturedPacket& p : packets) {
        if (p.time_ns < s.first_ns || p.proto != PacketProto::kUdp || !p.dns) continue;
        if (!p.dns->is_response() || p.dst_port != key.first || p.dns->id != key.second ||
            p.src_port != resolver_port) {
          continue;
        }
        if (first_reply && p.time_ns > *first_reply + options.dns_listen_ns) continue;
        if (!first_reply) first_reply = p.time_ns;
        const bool duplicate =
            std::any_of(replies.begin(), replies.end(),
                        [&](const CapturedPacket* r) { return SameReply(*r, p); });
        if (!duplicate) replies.push_back(&p);
      }
      std::set<std::string> flags, forged;
      // Whether the reply taken (the first) carried a known forged address, and whether
      // a later one did: forged replies that came after a genuine one lost the race.
      bool accepted_forged = false, later_forged = false;
      Json reply_list = Json::array();
      for (size_t i = 0; i < replies.size(); ++i) {
        const CapturedPacket& r = *replies[i];
        Json answers = Json::array();
        for (const DnsAnswerFacts& a : r.dns->answers) {
          if (a.type != 1 && a.type != 28 && a.type != 5) continue;  // A, AAAA, CNAME
          const std::string type = DnsTypeName(a.type);
          Json answer = {{"answer_type", type}, {"ttl", a.ttl}};
          if (a.type == 1) answer["ipv4"] = a.data;
          if (a.type == 28) answer["ipv6"] = a.data;
          if (a.type == 5) answer["hostname"] = a.data;
          answers.push_back(std::move(answer));
          if (a.type == 28 && IsTeredo(a.data)) flags.insert("teredo_answer");
          if ((a.type == 1 || a.type == 28) && options.is_forged && options.is_forged(a.data)) {
            flags.insert("known_forged_ip");
            forged.insert(a.data);
            (i == 0 ? accepted_forged : later_forged) = true;
          }
        }
        if (r.src_ip != s.dst_ip) flags.insert("answer_from_non_resolver");
        reply_list.push_back({{"t", Seconds(r.time_ns, options.zero_ns)},
                              {"source", JoinHostPort(r.src_ip, r.src_port)},
                              {"ip_ttl", r.ip_ttl},
                              {"ip_id", r.ip_id},
                              {"df", r.df},
                              {"dns_flags", FlagsHex(r.dns->flags)},
                              {"rcode", DnsRcodeName(r.dns->rcode())},
                              {"answers", std::move(answers)},
                              {"accepted", i == 0}});
      }
      // A resolver answers one query packet once: more distinct replies than query
      // packets are someone else's.
      if (replies.size() > static_cast<size_t>(s.count)) flags.insert("multiple_answers");
      const std::string address = JoinHostPort(s.dst_ip, resolver_port);
      Json flag_list(std::vector<std::string>(flags.begin(), flags.end()));
      out.push_back({{"hostname", name},
                     {"query_type", q.query_type},
                     {"address", address},
                     {"transaction_id", q.timing.transaction_id.value_or(0)},
                     {"queries_sent", s.count},
                     {"replies", std::move(reply_list)},
                     {"flags", flag_list}});
      const bool proven = flags.count("multiple_answers") || flags.count("known_forged_ip") ||
                          flags.count("answer_from_non_resolver");
      if (!proven) continue;
      std::string reason;
      if (flags.count("multiple_answers")) {
        reason = std::to_string(replies.size()) + " replies to " + std::to_string(s.count) +
                 " query packet" + (s.count == 1 ? "" : "s");
      }
      if (flags.count("answer_from_non_resolver")) {
        if (!reason.empty()) reason += "; ";
        reason += "a reply from an address the query was not sent to";
      }
      if (!forged.empty()) {
        if (!reason.empty()) reason += "; ";
        reason += "known forged address";
        for (const std::string& ip : forged) reason += " " + ip;
      }
      injections.push_back(
          {{"layer", "dns"},
           {"technique", "dns_injection"},
           {"injector", ""},
           {"hostname", name},
           {"address", address},
           {"flags", flag_list},
           {"forged_addresses", std::vector<std::string>(forged.begin(), forged.end())},
           {"reason", reason},
           {"transaction_id", q.timing.transaction_id.value_or(0)}});
      // Known only when the pool names the forged replies; absent otherwise.
      if (accepted_forged) {
        injections.back()["accepted_forged"] = true;
      } else if (later_forged) {
        injections.back()["accepted_forged"] = false;
      }
    }
  }
}

}  // namespace

std::string TcpFlagLetters(uint8_t flags) {
  static constexpr std::pair<uint8_t, char> kLetters[] = {{0x01, 'F'}, {0x02, 'S'}, {0x04, 'R'},
                                                          {0x08, 'P'}, {0x10, 'A'}, {0x20, 'U'}};
  std::string out;
  for (const auto& [bit, letter] : kLetters) {
    if (flags & bit) out.push_back(letter);
  }
  return out;
}

void AttachCaptureUnavailable(Measurement& m, const std::string& reason) {
  m.test_keys.extra["x_packets"] = {{"available", false}, {"reason", reason}};
}

void AttachPacketEvidence(Measurement& m, const std::vector<CapturedPacket>& packets,
                          const PacketEvidenceOptions& options) {
  Json flows = Json::array(), replies = Json::array(), injections = Json::array();
  FlowEvidence(m, packets, options, flows, injections);
  DnsEvidence(m, packets, options, replies, injections);
  m.test_keys.extra["x_packets"] = {{"available", true},
                                    {"filter", options.filter},
                                    {"dropped", options.dropped},
                                    {"tcp_flows", std::move(flows)},
                                    {"dns_replies", std::move(replies)}};
  if (injections.empty()) return;
  Json& existing = m.test_keys.extra["x_injection"];
  if (!existing.is_array()) existing = Json::array();
  for (Json& entry : injections) existing.push_back(std::move(entry));
}

std::vector<std::string> InjectionLines(const Measurement& m) {
  std::vector<std::string> lines;
  auto it = m.test_keys.extra.find("x_injection");
  if (it == m.test_keys.extra.end() || !it->is_array()) return lines;
  for (const Json& entry : *it) {
    if (!entry.is_object()) continue;
    const std::string technique = entry.value("technique", "");
    const std::string injector = entry.value("injector", "");
    const std::string target = entry.value("hostname", "");
    std::string line = technique;
    if (!injector.empty()) line += " " + injector;
    if (!target.empty()) line += " for " + target;
    line += " at " + entry.value("address", "");
    lines.push_back(std::move(line));
  }
  return lines;
}

}  // namespace vigil
