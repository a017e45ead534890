#include "tests/lab/censor/censor.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "tests/lab/censor/blockpage.h"
#include "tests/lab/censor/client_stream.h"
#include "tests/lab/censor/dns_injection.h"
#include "tests/lab/censor/forwarding.h"
#include "tests/lab/censor/icmp_unreachable.h"
#include "tests/lab/censor/pacing.h"
#include "tests/lab/censor/rst_injection.h"
#include "tests/lab/censor/rule_match.h"
#include "tests/lab/censor/stream_cut.h"
#include "tests/lab/censor/tls_records.h"
#include "tests/lab/censor/truth_record.h"

namespace vigil::lab {
namespace {

constexpr size_t kMaxFlows = 65536;
constexpr int64_t kFlowIdleNs = 120'000'000'000;
constexpr size_t kMaxStreamTotal = 64 * 1024 * 1024;
constexpr int64_t kExpireEveryNs = 1'000'000'000;
constexpr int64_t kNsPerMs = 1'000'000;

// Where the server's byte stream stands, when the flow has seen it.
std::optional<uint32_t> ServerNextSeq(const Packet* p) {
  if (p->flow == nullptr || !p->flow->have_server_next_seq) return std::nullopt;
  return p->flow->server_next_seq;
}

}  // namespace

Censor::Censor(Scenario scenario, TruthSink* truth, uint64_t seed)
    : scenario_(std::move(scenario)),
      truth_(truth),
      rng_(seed),
      phases_(&scenario_.phases),
      flows_(kMaxFlows, kFlowIdleNs, kMaxStreamTotal),
      keywords_(scenario_) {}

void Censor::Start(const Clock& now) {
  phases_.Start(now.mono_ns);
  if (LabSettingsDiffer(scenario_.lab)) truth_->Record(LabSettingsRecord(now.wall, scenario_.lab));
  last_expire_ns_ = now.mono_ns;
  EnterDuePhases(now);
}

void Censor::EnterDuePhases(const Clock& now) {
  while (phases_.EnterNextIfDue(now.mono_ns)) {
    truth_->Record(PhaseStartRecord(now.wall, phases_.current()));
  }
}

int64_t Censor::Tick(const Clock& now) {
  EnterDuePhases(now);
  if (now.mono_ns - last_expire_ns_ > kExpireEveryNs) {
    flows_.Expire(now.mono_ns);
    last_expire_ns_ = now.mono_ns;
  }
  return phases_.NextStartNs();
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
    TrackFlow(&p);
    if (p.flow->killed) return;
  }
  if (p.up && p.f.tcp && HandleResidual(&p)) return;
  if (p.up && p.f.tcp && ReackCutSegment(p.f, p.flow, &rng_, p.out)) return;
  nlohmann::json detail = nlohmann::json::object();
  const Rule* rule = FirstMatch(&p, &detail);
  if (rule == nullptr) {
    Forward(&p, Departure(&p, now.mono_ns));
    return;
  }
  Act(*rule, &p, std::move(detail));
}

// Finds (or starts) the packet's flow and learns what the packet tells of it.
void Censor::TrackFlow(Packet* p) {
  const Frame& f = p->f;
  p->key.proto = f.tcp ? kIpProtoTcp : kIpProtoUdp;
  p->key.client = p->client();
  p->key.server = p->server();
  p->key.client_port = p->up ? f.sport : f.dport;
  p->key.server_port = p->server_port();
  p->flow = flows_.Get(p->key, p->now->mono_ns);
  // A fresh SYN on a known 4-tuple is a new connection: forget the old one.
  if (p->up && f.tcp && (f.tcp_flags & (kTcpSyn | kTcpAck)) == kTcpSyn &&
      (p->flow->have_next_seq && p->flow->next_seq != f.seq + 1)) {
    flows_.Reset(p->flow);
  }
  if (p->flow->killed) return;
  if (p->up) {
    std::span<const uint8_t> fresh = f.udp ? f.payload() : AdvanceClientStream(f, p->flow, &flows_);
    keywords_.Scan(fresh, p->flow, &p->words_now);
    if (f.tcp) p->app_data_now = AdvanceTlsRecords(fresh, &p->flow->tls_records);
  } else if (f.tcp) {
    p->flow->server_window = f.window;
    const uint32_t next = f.seq + f.SeqLength();
    if (!p->flow->have_server_next_seq ||
        static_cast<int32_t>(next - p->flow->server_next_seq) > 0) {
      p->flow->server_next_seq = next;
      p->flow->have_server_next_seq = true;
    }
    if (f.payload_len > 0 && !p->flow->server_data_seen) {
      p->flow->server_data_seen = true;
      p->response_now = true;
    }
  }
}

bool Censor::HandleResidual(Packet* p) {
  const ResidualBlock* block = residual_.Find(p->f.src, p->f.dst, p->f.dport, p->now->mono_ns);
  if (block == nullptr) return false;
  const Rule& rule = *block->rule;
  nlohmann::json detail = {{"residual", true}};
  if (rule.action == ActionKind::kRstInject) {
    detail.update(InjectRsts(rule.rst, p->f, true, true, &rng_, p->out, ServerNextSeq(p)));
  } else if (rule.action == ActionKind::kHttpBlockpage) {
    detail.update(InjectRsts(ResidualRstAfterBlockpage(), p->f, true, true, &rng_, p->out));
  } else if (rule.action == ActionKind::kIcmpUnreachable) {
    detail.update(InjectUnreachable(rule.icmp, p->f, &rng_, p->out));
  }
  Record(rule, block->phase, p, std::move(detail));
  return true;
}

const Rule* Censor::FirstMatch(Packet* p, nlohmann::json* detail) {
  const std::vector<Rule>* rules = phases_.rules();
  if (rules == nullptr) return nullptr;
  for (const Rule& rule : *rules) {
    if (!p->up && !ActsOnServerTraffic(rule.action) && rule.at != ActAt::kResponse) continue;
    if (p->flow != nullptr && std::find(p->flow->injected.begin(), p->flow->injected.end(),
                                        &rule) != p->flow->injected.end()) {
      continue;
    }
    nlohmann::json d = nlohmann::json::object();
    if (RuleMatches(rule, p, keywords_, &d)) {
      *detail = std::move(d);
      return &rule;
    }
  }
  return nullptr;
}

void Censor::Act(const Rule& rule, Packet* p, nlohmann::json detail) {
  switch (rule.action) {
    case ActionKind::kDnsInject:
      InjectDnsAnswers(rule.dns, p->f, *p->dns(), p->now->mono_ns, &rng_, p->out, &detail);
      Record(rule, phases_.current(), p, std::move(detail));
      // The real answer follows the forged ones (unless they are held back for longer
      // than its round trip): the race is the measurement.
      Forward(p, Departure(p, p->now->mono_ns));
      return;
    case ActionKind::kDnsNxdomain:
      InjectNxdomain(p->f, *p->dns(), &rng_, p->out, &detail);
      Record(rule, phases_.current(), p, std::move(detail));
      return;
    case ActionKind::kDnsDrop:
      detail["qname"] = p->dns()->qname;
      detail["qtype"] = p->dns()->qtype;
      Record(rule, phases_.current(), p, std::move(detail));
      return;
    case ActionKind::kRstInject:
    case ActionKind::kHttpBlockpage:
    case ActionKind::kDrop:
    case ActionKind::kKeywordDrop:
    case ActionKind::kIcmpUnreachable:
      Block(rule, p, std::move(detail));
      return;
    case ActionKind::kDelay:
    case ActionKind::kThrottle:
      Pace(rule, p, std::move(detail));
      return;
  }
}

// The actions that can leave a residual block behind.
void Censor::Block(const Rule& rule, Packet* p, nlohmann::json detail) {
  const int phase = phases_.current();
  switch (rule.action) {
    case ActionKind::kRstInject:
      // On-path, the trigger goes on to the server before the RST that follows it.
      if (rule.rst.pass_trigger) PassTrigger(rule, p);
      detail.update(InjectRsts(rule.rst, p->f, p->up, false, &rng_, p->out, ServerNextSeq(p)));
      AddResidual(rule, p, &detail);
      p->flow->killed = !rule.rst.pass_trigger;
      Record(rule, phase, p, std::move(detail));
      return;
    case ActionKind::kHttpBlockpage:
      InjectBlockpage(rule.blockpage, p->f, mtu_[static_cast<int>(Side::kClient)],
                      p->flow->server_window, &rng_, p->out, &detail);
      if (rule.blockpage.pass_trigger) PassTrigger(rule, p);
      AddResidual(rule, p, &detail);
      p->flow->killed = !rule.blockpage.pass_trigger;
      Record(rule, phase, p, std::move(detail));
      return;
    case ActionKind::kIcmpUnreachable:
      // Each packet matched draws its error (a SYN's retransmissions, every datagram).
      detail.update(InjectUnreachable(rule.icmp, p->f, &rng_, p->out));
      AddResidual(rule, p, &detail);
      Record(rule, phase, p, std::move(detail));
      return;
    case ActionKind::kDrop:
      // A drop that waited for a later packet blackholes the flow from that packet on.
      if (rule.at != ActAt::kMatch) p->flow->killed = true;
      if (LogOnce(rule, p)) {
        AddResidual(rule, p, &detail);
        Record(rule, phase, p, std::move(detail));
      }
      return;
    case ActionKind::kKeywordDrop:
      if (CutSegment(p->f, p->flow, &rng_, p->out)) {
        detail["bytes"] = p->f.payload_len;
        AddResidual(rule, p, &detail);
        Record(rule, phase, p, std::move(detail));
      } else {
        Forward(p, Departure(p, p->now->mono_ns));
      }
      return;
    default:
      return;
  }
}

// Delay and throttle: the packet passes, later.
void Censor::Pace(const Rule& rule, Packet* p, nlohmann::json detail) {
  const int64_t now = p->now->mono_ns;
  if (rule.action == ActionKind::kDelay) {
    uint32_t ms = p->up ? rule.delay.up_ms : rule.delay.down_ms;
    if (LogOnce(rule, p)) {
      detail["up_ms"] = rule.delay.up_ms;
      detail["down_ms"] = rule.delay.down_ms;
      Record(rule, phases_.current(), p, std::move(detail));
    }
    Forward(p, Departure(p, now + static_cast<int64_t>(ms) * kNsPerMs));
    return;
  }
  if (LogOnce(rule, p)) {
    detail["rate_bps"] = rule.throttle.rate_bps;
    Record(rule, phases_.current(), p, std::move(detail));
  }
  std::optional<int64_t> at = p->flow == nullptr
                                  ? std::optional<int64_t>(now)
                                  : ThrottleDeparture(rule.throttle, now, p->f.bytes.size(),
                                                      &p->flow->throttle_tat_ns[p->dir()]);
  if (at) Forward(p, Departure(p, *at));
}

// An on-path injector sees the trigger go by: it is forwarded, and the rule stays
// quiet for the rest of the flow.
void Censor::PassTrigger(const Rule& rule, Packet* p) {
  Forward(p, Departure(p, p->now->mono_ns));
  p->flow->injected.push_back(&rule);
}

void Censor::AddResidual(const Rule& rule, Packet* p, nlohmann::json* detail) {
  if (rule.residual_seconds > 0 && p->f.tcp) {
    residual_.Add(p->client(), p->server(), p->server_port(), &rule, phases_.current(),
                  p->now->mono_ns);
    (*detail)["residual_seconds"] = rule.residual_seconds;
  }
}

bool Censor::LogOnce(const Rule& rule, Packet* p) {
  if (p->flow == nullptr) return false;
  auto& logged = p->flow->logged;
  if (std::find(logged.begin(), logged.end(), &rule) != logged.end()) return false;
  logged.push_back(&rule);
  return true;
}

void Censor::Record(const Rule& rule, int phase, Packet* p, nlohmann::json detail) {
  truth_->Record(RuleActedRecord(rule, phase, *p, std::move(detail)));
}

int64_t Censor::Departure(Packet* p, int64_t earliest_ns) {
  int64_t* last =
      p->flow != nullptr ? &p->flow->last_departure_ns[p->dir()] : &last_departure_ns_[p->dir()];
  return OrderedDeparture(earliest_ns, last);
}

void Censor::Forward(Packet* p, int64_t at_ns) {
  ForwardFrame(p->f, p->up, p->flow, p->other(), mtu_[static_cast<int>(p->other())], at_ns, p->out);
}

}  // namespace vigil::lab
