// ScoreCensorHop: the censor_hop experiment (docs/evidence.md), which sends the target's
// handshake and a control's with growing IP TTLs. At the TTL where they part, a reset
// to the target while the control's packet expired at a router (time_exceeded) came
// from a box on the path before the server: an injector, located — tls.censor_located,
// confirmed, named by that TTL and router. A parting by silence alone (a drop, or a
// router's ICMP rate limit) proves nothing (censor_hop.unproven); a target never
// treated differently is tls.ok; no capture, or an inconclusive run, is no verdict.
#include "analysis/verdict/scorers/scorers.h"
#include "analysis/verdict/scoring.h"

namespace vigil::analysis {
namespace {

// The hop the probe located the censor at, when the record bears it out: the reset
// to the target and the control's expiry at censor_ttl.
std::optional<simdjson::dom::element> LocatedHop(const Summary& summary) {
  auto censor_ttl = summary.Get("censor_ttl");
  auto hops = summary.Get("hops");
  if (!censor_ttl || !censor_ttl->is_int64() || !hops || !hops->is_array()) return std::nullopt;
  const int64_t ttl = censor_ttl->get_int64().value_unsafe();
  const simdjson::dom::array list = hops->get_array().value_unsafe();
  for (auto hop : list) {
    auto hop_ttl = Summary::Field(hop, "ttl");
    if (!hop_ttl || !hop_ttl->is_int64() || hop_ttl->get_int64().value_unsafe() != ttl) continue;
    if (IsStr(Summary::StrOf(Summary::Field(hop, "target")), "rst") &&
        IsStr(Summary::StrOf(Summary::Field(hop, "control")), "time_exceeded")) {
      return hop;
    }
  }
  return std::nullopt;
}

}  // namespace

void ScoreCensorHop(Scoring& c) {
  auto verdict = c.summary.Str("verdict");
  if (auto available = c.summary.Bool("available");
      (available && !*available) || IsStr(verdict, "unavailable")) {
    c.Fail("censor_hop.unavailable");
    return;
  }
  if (IsStr(verdict, "located")) {
    if (!LocatedHop(c.summary)) {
      c.Fail("censor_hop.unproven");
      return;
    }
    // The layer is the trigger's: a ClientHello's SNI (tls, the default) or an HTTP
    // request's Host. x_injection's entry of that layer (ScoreInjection) may have
    // decided it already, and named the injector.
    const Rule located = IsStr(c.summary.Str("trigger"), "http") ? Rule::kHttpCensorLocated
                                                                 : Rule::kTlsCensorLocated;
    if (c.Fire(located) && c.row.fingerprint.empty()) {
      c.row.fingerprint =
          "censor_ttl:" + std::to_string(c.summary.Get("censor_ttl")->get_int64().value_unsafe());
      if (auto router = c.summary.Str("router_at")) {
        c.row.fingerprint += ",router:";
        c.row.fingerprint += *router;
      }
    }
  } else if (IsStr(verdict, "not_triggered")) {
    c.Fire(IsStr(c.summary.Str("trigger"), "http") ? Rule::kHttpOk : Rule::kTlsOk);
  } else if (IsStr(verdict, "inconclusive")) {
    c.Fail("censor_hop.inconclusive");
  } else {
    c.Fail("censor_hop.no_verdict");
  }
}

}  // namespace vigil::analysis
