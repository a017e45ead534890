#include "tests/lab/censor/censor.h"

#include <algorithm>
#include <climits>
#include <cstring>

#include "tests/lab/censor/forge.h"
#include "tests/lab/censor/http_request.h"
#include "tests/lab/censor/offload_repair.h"
#include "tests/lab/censor/tls_client_hello.h"

namespace vigil::lab {
namespace {

constexpr size_t kMaxFlows = 65536;
constexpr int64_t kFlowIdleNs = 120'000'000'000;
constexpr size_t kMaxStreamPerFlow = 16 * 1024;
constexpr size_t kMaxStreamTotal = 64 * 1024 * 1024;
constexpr size_t kMaxCutsPerFlow = 256;
constexpr int64_t kNsPerMs = 1'000'000;

uint64_t Fnv1a(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (char c : s) {
    h ^= static_cast<uint8_t>(c);
    h *= 0x100000001b3ull;
  }
  return h;
}

void Put32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (24 - 8 * i));
}
uint32_t Get32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 |
         static_cast<uint32_t>(p[2]) << 8 | p[3];
}

const char* ReasonPhrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 451:
      return "Unavailable For Legal Reasons";
    default:
      return "Blocked";
  }
}

bool ActsOnServerTraffic(ActionKind a) {
  return a == ActionKind::kDrop || a == ActionKind::kThrottle || a == ActionKind::kDelay;
}

// Whether sequence number a is before b, modulo 2^32.
bool SeqBefore(uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b) < 0; }

}  // namespace

struct Censor::Packet {
  Side from = Side::kClient;
  bool up = true;  // client -> server
  Frame f;
  const Clock* now = nullptr;
  std::vector<Outgoing>* out = nullptr;
  FlowKey key;
  FlowState* flow = nullptr;
  // Keywords found in this packet's new bytes (with the flow's tail before them).
  std::vector<bool> words_now;
  bool dns_parsed = false;
  std::optional<DnsQuestion> dns;

  Side other() const { return from == Side::kClient ? Side::kServer : Side::kClient; }
  const IpAddress& client() const { return up ? f.src : f.dst; }
  const IpAddress& server() const { return up ? f.dst : f.src; }
  uint16_t server_port() const { return up ? f.dport : f.sport; }
  int dir() const { return up ? 0 : 1; }
};

Censor::Censor(Scenario scenario, TruthSink* truth, uint64_t seed)
    : scenario_(std::move(scenario)),
      truth_(truth),
      rng_(seed),
      flows_(kMaxFlows, kFlowIdleNs, kMaxStreamTotal) {
  for (const Phase& phase : scenario_.phases) {
    for (const Rule& rule : phase.rules) {
      for (const auto& combo : rule.match.keywords) {
        for (const auto& w : combo) {
          if (std::find(words_.begin(), words_.end(), w) == words_.end()) words_.push_back(w);
          longest_word_ = std::max(longest_word_, w.size());
        }
      }
    }
  }
}

void Censor::Start(const Clock& now) {
  start_ns_ = now.mono_ns;
  last_expire_ns_ = now.mono_ns;
  EnterDuePhases(now);
}

void Censor::EnterDuePhases(const Clock& now) {
  while (phase_ + 1 < static_cast<int>(scenario_.phases.size()) &&
         now.mono_ns - start_ns_ >= scenario_.phases[phase_ + 1].start_ms * kNsPerMs) {
    ++phase_;
    truth_->Record({{"t", now.wall}, {"phase", phase_}, {"event", "phase_start"}});
  }
}

int64_t Censor::Tick(const Clock& now) {
  EnterDuePhases(now);
  if (now.mono_ns - last_expire_ns_ > 1'000'000'000) {
    flows_.Expire(now.mono_ns);
    last_expire_ns_ = now.mono_ns;
  }
  if (phase_ + 1 < static_cast<int>(scenario_.phases.size())) {
    return start_ns_ + scenario_.phases[phase_ + 1].start_ms * kNsPerMs;
  }
  return INT64_MAX;
}

void Censor::OnFrame(Side from, std::span<const uint8_t> bytes, const Clock& now,
                     std::vector<Outgoing>* out) {
  Packet p;
  p.from = from;
  p.up = from == Side::kClient;
  p.now = &now;
  p.out = out;
  if (!ParseFrame(bytes, &p.f)) return;  // a runt: nothing to forward
  EnterDuePhases(now);
  if (!p.f.ip) {
    // ARP, neighbour discovery over other ethertypes, LLDP...: a bridge passes them.
    out->push_back({p.other(), std::vector<uint8_t>(bytes.begin(), bytes.end()), 0});
    return;
  }
  if (p.f.tcp || p.f.udp) {
    p.key.proto = p.f.tcp ? kIpProtoTcp : kIpProtoUdp;
    p.key.client = p.client();
    p.key.server = p.server();
    p.key.client_port = p.up ? p.f.sport : p.f.dport;
    p.key.server_port = p.server_port();
    p.flow = flows_.Get(p.key, now.mono_ns);
    // A fresh SYN on a known 4-tuple is a new connection: forget the old one.
    if (p.up && p.f.tcp && (p.f.tcp_flags & (kTcpSyn | kTcpAck)) == kTcpSyn &&
        (p.flow->have_next_seq && p.flow->next_seq != p.f.seq + 1)) {
      flows_.Reset(p.flow);
    }
    if (p.flow->killed) return;
    if (p.up) {
      UpdateClientState(&p);
    } else if (p.f.tcp) {
      p.flow->server_window = p.f.window;
    }
  }
  if (p.up && p.f.tcp && HandleResidual(&p)) return;
  if (p.up && p.f.tcp && ReackCutSegment(&p)) return;
  nlohmann::json detail = nlohmann::json::object();
  const Rule* rule = FirstMatch(&p, &detail);
  if (rule == nullptr) {
    Forward(&p, Departure(&p, now.mono_ns));
    return;
  }
  Act(*rule, &p, std::move(detail));
}

void Censor::UpdateClientState(Packet* p) {
  FlowState* flow = p->flow;
  const Frame& f = p->f;
  if (f.udp) {
    ScanKeywords(p, f.bytes.data() + f.payload_offset, f.payload_len);
    return;
  }
  if ((f.tcp_flags & kTcpSyn) != 0) {
    flow->have_next_seq = true;
    flow->next_seq = f.seq + 1;
    return;
  }
  if (!flow->have_next_seq) {
    // Joined mid-connection (e.g. the censor restarted): start from here.
    flow->have_next_seq = true;
    flow->next_seq = f.seq;
  }
  if (f.payload_len == 0) return;
  int32_t rel = static_cast<int32_t>(f.seq - flow->next_seq);
  if (rel > 0) return;  // a gap: wait for the retransmission that fills it
  size_t skip = static_cast<size_t>(-static_cast<int64_t>(rel));
  if (skip >= f.payload_len) return;  // nothing new
  const uint8_t* data = f.bytes.data() + f.payload_offset + skip;
  size_t n = f.payload_len - skip;
  flow->next_seq += static_cast<uint32_t>(n);
  if (!flow->classified) {
    size_t room = kMaxStreamPerFlow - flow->stream.size();
    if (!flows_.AppendStream(flow, data, std::min(n, room))) {
      flow->classified = true;  // over the global budget: give up on this flow
      flows_.ReleaseStream(flow);
    } else {
      Classify(flow);
    }
  }
  ScanKeywords(p, data, n);
}

void Censor::Classify(FlowState* flow) {
  auto bytes = std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(flow->stream.data()),
                                        flow->stream.size());
  HelloResult hello = ParseClientHelloSni(bytes);
  bool done = false;
  if (hello.status == HelloStatus::kFound || hello.status == HelloStatus::kNoSni) {
    flow->tls = true;
    flow->sni = hello.sni;
    done = true;
  } else if (hello.status == HelloStatus::kNotTls) {
    HttpRequestInfo http = ParseHttpRequest(bytes);
    if (http.status == HttpStatus::kFound) {
      flow->http = true;
      flow->http_host = http.host;
      flow->http_path = http.path;
      done = true;
    } else if (http.status == HttpStatus::kNotHttp) {
      done = true;
    }
  }
  if (!done && flow->stream.size() >= kMaxStreamPerFlow) done = true;
  if (done) {
    flow->classified = true;
    flows_.ReleaseStream(flow);
  }
}

void Censor::ScanKeywords(Packet* p, const uint8_t* data, size_t n) {
  if (words_.empty() || n == 0) return;
  FlowState* flow = p->flow;
  flow->words_seen.resize(words_.size());
  p->words_now.assign(words_.size(), false);
  std::string text = flow->tail;
  text.append(reinterpret_cast<const char*>(data), n);
  for (size_t i = 0; i < words_.size(); ++i) {
    // Only occurrences that include a new byte: the tail alone was scanned before.
    const std::string& w = words_[i];
    size_t from = flow->tail.size() >= w.size() ? flow->tail.size() - w.size() + 1 : 0;
    if (memmem(text.data() + from, text.size() - from, w.data(), w.size()) != nullptr) {
      p->words_now[i] = true;
      flow->words_seen[i] = true;
    }
  }
  // Keep just enough to find a word that straddles this packet and the next one.
  size_t keep = std::min(text.size(), longest_word_ > 0 ? longest_word_ - 1 : 0);
  flow->tail = text.substr(text.size() - keep);
}

bool Censor::HandleResidual(Packet* p) {
  const ResidualBlock* block = residual_.Find(p->f.src, p->f.dst, p->f.dport, p->now->mono_ns);
  if (block == nullptr) return false;
  const Rule& rule = *block->rule;
  nlohmann::json detail = {{"residual", true}};
  if (rule.action == ActionKind::kRstInject) {
    detail.update(InjectRsts(rule.rst, p, true));
  } else if (rule.action == ActionKind::kHttpBlockpage) {
    RstParams rst;
    RstTypeDefaults("gfw1", &rst);
    rst.type = "blockpage";
    rst.direction = RstDirection::kClient;
    rst.ttl = {TtlSpec::kFixed, 64, 64};
    detail.update(InjectRsts(rst, p, true));
  }
  Record(&rule, block->phase, p, std::move(detail));
  return true;
}

const Rule* Censor::FirstMatch(Packet* p, nlohmann::json* detail) {
  if (phase_ < 0) return nullptr;
  for (const Rule& rule : scenario_.phases[phase_].rules) {
    if (!p->up && !ActsOnServerTraffic(rule.action)) continue;
    nlohmann::json d = nlohmann::json::object();
    if (Matches(rule, p, &d)) {
      *detail = std::move(d);
      return &rule;
    }
  }
  return nullptr;
}

bool Censor::Matches(const Rule& rule, Packet* p, nlohmann::json* detail) {
  const Match& m = rule.match;
  const Frame& f = p->f;
  switch (rule.action) {
    case ActionKind::kDnsInject:
    case ActionKind::kDnsNxdomain:
    case ActionKind::kDnsDrop:
      if (!f.udp) return false;
      if (!p->dns_parsed) {
        p->dns_parsed = true;
        p->dns = ParseDnsQuery(f.payload());
      }
      if (!p->dns) return false;
      break;
    case ActionKind::kRstInject:
    case ActionKind::kHttpBlockpage:
      if (!f.tcp) return false;
      break;
    default:
      break;
  }
  if (m.proto == Proto::kTcp && !f.tcp) return false;
  if (m.proto == Proto::kUdp && !f.udp) return false;
  if (!m.dst_ip.empty() && std::none_of(m.dst_ip.begin(), m.dst_ip.end(), [&](const IpPrefix& c) {
        return c.Contains(p->server());
      })) {
    return false;
  }
  if (!m.dst_port.empty()) {
    if (!f.tcp && !f.udp) return false;
    if (std::find(m.dst_port.begin(), m.dst_port.end(), p->server_port()) == m.dst_port.end()) {
      return false;
    }
  }
  if (m.dns_qname) {
    if (!p->up || !f.udp) return false;
    if (!p->dns_parsed) {
      p->dns_parsed = true;
      p->dns = ParseDnsQuery(f.payload());
    }
    if (!p->dns) return false;
    auto hit = m.dns_qname->Match(p->dns->qname);
    if (!hit) return false;
    (*detail)["matched"] = *hit;
  }
  if (m.sni) {
    if (p->flow == nullptr || p->flow->sni.empty()) return false;
    auto hit = m.sni->Match(p->flow->sni);
    if (!hit) return false;
    (*detail)["sni"] = p->flow->sni;
    (*detail)["matched"] = *hit;
  }
  if (m.http_host) {
    if (p->flow == nullptr || !p->flow->http) return false;
    auto hit = m.http_host->Match(p->flow->http_host);
    if (!hit) return false;
    (*detail)["host"] = p->flow->http_host;
    (*detail)["matched"] = *hit;
  }
  if (m.http_path) {
    if (p->flow == nullptr || !p->flow->http) return false;
    auto hit = m.http_path->Match(p->flow->http_path);
    if (!hit) return false;
    (*detail)["path"] = p->flow->http_path;
    (*detail)["matched_path"] = *hit;
  }
  if (!m.keywords.empty()) {
    // A combination matches the packet that completes it or carries one of its words
    // once all were seen; packets without any of its words pass.
    if (p->flow == nullptr || p->words_now.empty()) return false;
    bool any = false;
    for (const auto& combo : m.keywords) {
      bool all_seen = true, one_now = false;
      for (const auto& w : combo) {
        size_t i = static_cast<size_t>(std::find(words_.begin(), words_.end(), w) - words_.begin());
        all_seen = all_seen && p->flow->words_seen[i];
        one_now = one_now || p->words_now[i];
      }
      if (all_seen && one_now) {
        (*detail)["keywords"] = combo;
        any = true;
        break;
      }
    }
    if (!any) return false;
  }
  return true;
}

void Censor::Act(const Rule& rule, Packet* p, nlohmann::json detail) {
  const int64_t now = p->now->mono_ns;
  auto add_residual = [&] {
    if (rule.residual_seconds > 0 && p->f.tcp && p->up) {
      residual_.Add(p->f.src, p->f.dst, p->f.dport, &rule, phase_, now);
      detail["residual_seconds"] = rule.residual_seconds;
    }
  };
  switch (rule.action) {
    case ActionKind::kDnsInject:
      InjectDns(rule, p, *p->dns, &detail);
      Record(&rule, phase_, p, std::move(detail));
      Forward(p, Departure(p, now));
      return;
    case ActionKind::kDnsNxdomain: {
      const DnsQuestion& q = *p->dns;
      std::vector<uint8_t> reply = BuildDnsResponse(q, 0x8183, std::nullopt, 0);
      IpFields ip{p->f.dst, p->f.src, 64, PickIpId({}), false};
      Emit(p, Side::kClient,
           ForgeUdpFrame(MacPair::Of(p->f, true), ip, p->f.dport, p->f.sport, reply));
      detail["qname"] = q.qname;
      detail["qtype"] = q.qtype;
      Record(&rule, phase_, p, std::move(detail));
      return;
    }
    case ActionKind::kDnsDrop:
      detail["qname"] = p->dns->qname;
      detail["qtype"] = p->dns->qtype;
      Record(&rule, phase_, p, std::move(detail));
      return;
    case ActionKind::kRstInject:
      detail.update(InjectRsts(rule.rst, p, false));
      add_residual();
      p->flow->killed = true;
      Record(&rule, phase_, p, std::move(detail));
      return;
    case ActionKind::kHttpBlockpage:
      InjectBlockpage(rule.blockpage, p, &detail);
      add_residual();
      p->flow->killed = true;
      Record(&rule, phase_, p, std::move(detail));
      return;
    case ActionKind::kDrop:
      if (LogOnce(&rule, p)) {
        add_residual();
        Record(&rule, phase_, p, std::move(detail));
      }
      return;
    case ActionKind::kDelay: {
      uint32_t ms = p->up ? rule.delay.up_ms : rule.delay.down_ms;
      if (LogOnce(&rule, p)) {
        detail["up_ms"] = rule.delay.up_ms;
        detail["down_ms"] = rule.delay.down_ms;
        Record(&rule, phase_, p, std::move(detail));
      }
      Forward(p, Departure(p, now + static_cast<int64_t>(ms) * kNsPerMs));
      return;
    }
    case ActionKind::kThrottle: {
      if (LogOnce(&rule, p)) {
        detail["rate_bps"] = rule.throttle.rate_bps;
        Record(&rule, phase_, p, std::move(detail));
      }
      auto at = ThrottleDeparture(rule.throttle, p);
      if (at) Forward(p, Departure(p, *at));
      return;
    }
    case ActionKind::kKeywordDrop:
      if (KeywordDrop(p)) {
        detail["bytes"] = p->f.payload_len;
        add_residual();
        Record(&rule, phase_, p, std::move(detail));
      } else {
        Forward(p, Departure(p, now));
      }
      return;
  }
}

bool Censor::LogOnce(const Rule* rule, Packet* p) {
  if (p->flow == nullptr) return false;
  auto& logged = p->flow->logged;
  if (std::find(logged.begin(), logged.end(), rule) != logged.end()) return false;
  logged.push_back(rule);
  return true;
}

void Censor::Record(const Rule* rule, int phase, Packet* p, nlohmann::json detail) {
  nlohmann::json flow = {{"proto", p->f.tcp ? "tcp" : p->f.udp ? "udp" : "ip"}};
  if (p->f.tcp || p->f.udp) {
    flow["src"] = p->key.client.ToString();
    flow["sport"] = p->key.client_port;
    flow["dst"] = p->key.server.ToString();
    flow["dport"] = p->key.server_port;
  } else {
    flow["src"] = p->client().ToString();
    flow["dst"] = p->server().ToString();
    flow["ip_proto"] = p->f.proto;
  }
  truth_->Record({{"t", p->now->wall},
                  {"phase", phase},
                  {"rule", rule->id},
                  {"action", ActionName(rule->action)},
                  {"flow", std::move(flow)},
                  {"detail", std::move(detail)}});
}

int64_t Censor::Departure(Packet* p, int64_t earliest_ns) {
  int64_t* last =
      p->flow != nullptr ? &p->flow->last_departure_ns[p->dir()] : &last_departure_ns_[p->dir()];
  int64_t at = std::max(earliest_ns, *last);
  *last = at;
  return at;
}

std::optional<int64_t> Censor::ThrottleDeparture(const ThrottleParams& t, Packet* p) {
  if (p->flow == nullptr) return p->now->mono_ns;
  const int64_t now = p->now->mono_ns;
  const double ns_per_byte = 8e9 / static_cast<double>(t.rate_bps);
  const auto burst_ns = static_cast<int64_t>(t.burst_bytes * ns_per_byte);
  int64_t& tat = p->flow->throttle_tat_ns[p->dir()];
  // GCRA shaper: a frame may leave once the theoretical arrival time is within the
  // burst allowance; a queue longer than queue_bytes is dropped, as a router would.
  int64_t depart = std::max(now, tat - burst_ns);
  if (static_cast<double>(depart - now) / ns_per_byte > t.queue_bytes) return std::nullopt;
  tat = std::max(tat, depart) + static_cast<int64_t>(p->f.bytes.size() * ns_per_byte);
  return depart;
}

void Censor::Emit(Packet* p, Side to, std::vector<uint8_t> frame, int64_t at_ns) {
  p->out->push_back({to, std::move(frame), at_ns});
}

void Censor::Forward(Packet* p, int64_t at_ns) {
  const Frame& f = p->f;
  std::vector<uint8_t> frame(f.bytes.begin(), f.bytes.end());
  if (p->flow != nullptr && f.tcp && !p->flow->cuts.empty()) RenumberForCuts(p, &frame);
  RepairChecksums(f, &frame);
  size_t mtu = mtu_[static_cast<int>(p->other())];
  if (f.ip_end - f.l3_offset <= mtu) {
    Emit(p, p->other(), std::move(frame), at_ns);
    return;
  }
  // A TSO/GSO super-segment from the sender's veth: cut it as its NIC would have.
  Frame repaired;
  ParseFrame(frame, &repaired);
  for (auto& seg : SplitTcpSuperSegment(repaired, mtu)) Emit(p, p->other(), std::move(seg), at_ns);
}

uint8_t Censor::PickTtl(const TtlSpec& ttl, const Packet& p) {
  switch (ttl.kind) {
    case TtlSpec::kCopy:
      return p.f.ttl;
    case TtlSpec::kRandom:
      return static_cast<uint8_t>(std::uniform_int_distribution<int>(ttl.lo, ttl.hi)(rng_));
    case TtlSpec::kFixed:
      break;
  }
  return ttl.lo;
}

uint16_t Censor::PickIpId(const IpIdSpec& id) {
  if (!id.random) return id.value;
  return static_cast<uint16_t>(std::uniform_int_distribution<int>(id.lo, id.hi)(rng_));
}

nlohmann::json Censor::InjectRsts(const RstParams& rst, Packet* p, bool residual) {
  const Frame& f = p->f;
  const bool to_client = rst.direction != RstDirection::kServer;
  const bool to_server = rst.direction != RstDirection::kClient;
  const bool syn = (f.tcp_flags & kTcpAck) == 0;
  // The ACK bit is needed for a client in SYN-SENT to accept the RST (RFC 793), so a
  // trigger without ACK always draws RST+ACK acknowledging it.
  uint8_t flags = static_cast<uint8_t>(kTcpRst | (rst.ack || syn ? kTcpAck : 0));
  uint8_t ttl = PickTtl(rst.ttl, *p);
  nlohmann::json ids = nlohmann::json::array();
  for (int i = 0; i < rst.count; ++i) {
    uint16_t id = PickIpId(rst.ip_id);
    ids.push_back(id);
    if (to_client) {
      // As if from the server: its next sequence number is what the client acked.
      IpFields ip{f.dst, f.src, ttl, id, rst.df};
      TcpFields tcp{f.dport, f.sport, syn ? 0u : f.ack, f.seq + f.SeqLength(), flags, 0};
      Emit(p, Side::kClient, ForgeTcpFrame(MacPair::Of(f, true), ip, tcp, rst.payload));
    }
    if (to_server && !(residual && syn)) {
      // The trigger is dropped, so the server still expects the trigger's own seq.
      IpFields ip{f.src, f.dst, ttl, id, rst.df};
      TcpFields tcp{f.sport, f.dport, f.seq, f.ack, flags, 0};
      Emit(p, Side::kServer, ForgeTcpFrame(MacPair::Of(f, false), ip, tcp, rst.payload));
    }
  }
  const char* dir = rst.direction == RstDirection::kBoth     ? "both"
                    : rst.direction == RstDirection::kClient ? "client"
                                                             : "server";
  return {{"rst_type", rst.type},
          {"count", rst.count},
          {"direction", dir},
          {"ttl", ttl},
          {"ip_ids", ids}};
}

void Censor::InjectDns(const Rule& rule, Packet* p, const DnsQuestion& q, nlohmann::json* detail) {
  const DnsInjectParams& d = rule.dns;
  const Frame& f = p->f;
  uint64_t h = Fnv1a(NormalizeDomain(q.qname));
  nlohmann::json answers = nlohmann::json::array();
  nlohmann::json ids = nlohmann::json::array();
  uint8_t ttl = PickTtl(d.ip_ttl, *p);
  for (int i = 0; i < d.copies; ++i) {
    std::optional<IpAddress> answer;
    uint64_t pick = d.random ? rng_() : h + static_cast<uint64_t>(i);
    if (q.qtype == kDnsTypeA && q.qclass == 1 && !d.pool.empty()) {
      answer = d.pool[pick % d.pool.size()];
    } else if (q.qtype == kDnsTypeAaaa && q.qclass == 1) {
      if (!d.pool6.empty()) {
        answer = d.pool6[pick % d.pool6.size()];
      } else {
        // Teredo-looking 2001::/32 addresses, as the GFW forges for AAAA.
        IpAddress a;
        a.v6 = true;
        a.bytes[0] = 0x20;
        a.bytes[1] = 0x01;
        a.bytes[12] = 0x1f;
        a.bytes[13] = 0x0d;
        a.bytes[14] = static_cast<uint8_t>(pick >> 8);
        a.bytes[15] = static_cast<uint8_t>(pick);
        answer = a;
      }
    }
    uint16_t id = PickIpId(d.ip_id);
    std::vector<uint8_t> reply = BuildDnsResponse(q, d.dns_flags, answer, d.answer_ttl);
    IpFields ip{f.dst, f.src, ttl, id, d.df};
    Emit(p, Side::kClient, ForgeUdpFrame(MacPair::Of(f, true), ip, f.dport, f.sport, reply));
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

void Censor::InjectBlockpage(const BlockpageParams& b, Packet* p, nlohmann::json* detail) {
  const Frame& f = p->f;
  std::string response = "HTTP/1.1 " + std::to_string(b.status) + " " + ReasonPhrase(b.status) +
                         "\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: " +
                         std::to_string(b.body.size()) + "\r\nConnection: close\r\n\r\n" + b.body;
  const uint32_t ack = f.seq + f.SeqLength();
  const size_t header = f.v6 ? 60 : 40;
  const size_t mss = mtu_[static_cast<int>(Side::kClient)] - header;
  MacPair back = MacPair::Of(f, true);
  uint32_t seq = f.ack;
  for (size_t off = 0; off < response.size(); off += mss) {
    std::string chunk = response.substr(off, mss);
    bool last = off + chunk.size() == response.size();
    IpFields ip{f.dst, f.src, 64, PickIpId({}), true};
    TcpFields tcp{f.dport,
                  f.sport,
                  seq,
                  ack,
                  static_cast<uint8_t>(kTcpAck | (last ? kTcpPsh : 0)),
                  p->flow->server_window};
    Emit(p, Side::kClient, ForgeTcpFrame(back, ip, tcp, chunk));
    seq += static_cast<uint32_t>(chunk.size());
  }
  IpFields ip{f.dst, f.src, 64, PickIpId({}), true};
  TcpFields close{f.dport,
                  f.sport,
                  seq,
                  ack,
                  static_cast<uint8_t>(b.then_rst ? (kTcpRst | kTcpAck) : (kTcpFin | kTcpAck)),
                  b.then_rst ? uint16_t{0} : p->flow->server_window};
  Emit(p, Side::kClient, ForgeTcpFrame(back, ip, close, ""));
  // The server never saw the request; reset it so it does not hold the connection.
  IpFields sip{f.src, f.dst, 64, PickIpId({}), true};
  TcpFields srst{f.sport, f.dport, f.seq, f.ack, static_cast<uint8_t>(kTcpRst | kTcpAck), 0};
  Emit(p, Side::kServer, ForgeTcpFrame(MacPair::Of(f, false), sip, srst, ""));
  (*detail)["status"] = b.status;
  (*detail)["then"] = b.then_rst ? "rst" : "fin";
  (*detail)["body_bytes"] = b.body.size();
}

bool Censor::KeywordDrop(Packet* p) {
  const Frame& f = p->f;
  if (!f.tcp) return true;  // a datagram just vanishes
  FlowState* flow = p->flow;
  if (f.payload_len == 0) return false;
  if (flow->cuts.size() >= kMaxCutsPerFlow) return false;
  // Cut the segment out of the stream and acknowledge it to the client as the server
  // would, then renumber the rest of the flow: the message is silently lost while
  // the connection carries on, as with WeChat's server-side filtering.
  uint32_t start = f.seq, end = f.seq + static_cast<uint32_t>(f.payload_len);
  flow->cuts.emplace_back(start, end);
  IpFields ip{f.dst, f.src, 64, PickIpId({}), true};
  TcpFields ack{f.dport, f.sport, f.ack, end, kTcpAck, flow->server_window};
  Emit(p, Side::kClient, ForgeTcpFrame(MacPair::Of(f, true), ip, ack, ""));
  return true;
}

bool Censor::ReackCutSegment(Packet* p) {
  const Frame& f = p->f;
  if (p->flow == nullptr || p->flow->cuts.empty() || f.payload_len == 0) return false;
  uint32_t end = f.seq + static_cast<uint32_t>(f.payload_len);
  for (const auto& [s, e] : p->flow->cuts) {
    if (!SeqBefore(f.seq, s) && !SeqBefore(e, end)) {
      // A retransmission of a segment we cut: our ACK was lost or late; repeat it.
      IpFields ip{f.dst, f.src, 64, PickIpId({}), true};
      TcpFields ack{f.dport, f.sport, f.ack, e, kTcpAck, p->flow->server_window};
      Emit(p, Side::kClient, ForgeTcpFrame(MacPair::Of(f, true), ip, ack, ""));
      return true;
    }
  }
  return false;
}

void Censor::RenumberForCuts(Packet* p, std::vector<uint8_t>* frame) {
  const Frame& f = p->f;
  const auto& cuts = p->flow->cuts;
  uint8_t* tcp = frame->data() + f.l4_offset;
  if (p->up) {
    // Client -> server: shift down by the bytes cut before this segment.
    uint32_t shift = 0;
    for (const auto& [s, e] : cuts) {
      if (!SeqBefore(f.seq, e)) shift += e - s;
    }
    Put32(tcp + 4, f.seq - shift);
    return;
  }
  // Server -> client: its ACK counts in the shifted space; map it back.
  uint32_t ack = Get32(tcp + 8);
  uint32_t shift = 0;
  for (const auto& [s, e] : cuts) {
    if (!SeqBefore(ack + shift, s)) shift += e - s;
  }
  Put32(tcp + 8, ack + shift);
  // SACK blocks are in the shifted space too; blank them (NOPs) rather than translate.
  size_t opt = f.l4_offset + 20;
  while (opt < f.payload_offset) {
    uint8_t kind = (*frame)[opt];
    if (kind == 0) break;
    if (kind == 1) {
      ++opt;
      continue;
    }
    if (opt + 1 >= f.payload_offset) break;
    size_t len = (*frame)[opt + 1];
    if (len < 2 || opt + len > f.payload_offset) break;
    if (kind == 5) std::memset(frame->data() + opt, 1, len);
    opt += len;
  }
}

}  // namespace vigil::lab
