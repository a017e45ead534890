// ScoreInjection: the rules every test shares that rest on the probe's packet evidence,
// test_keys.x_injection (docs/evidence.md): an entry per injection the probe proved.
// The entries are claims, so each is accepted only when well-formed — a known layer, the
// technique that layer's injection uses, for a reset an injector label, for DNS a flag
// that proves forgery — and when the capture (x_packets) does not name the server as the
// sender of the flow's resets. An accepted entry fires its layer's injection rule; any
// other is noted (Scoring::injection_malformed) and proves nothing.
#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "analysis/verdict/scorers/scorers.h"
#include "analysis/verdict/scoring.h"

namespace vigil::analysis {
namespace {

constexpr std::string_view kInjectors[] = {"gfw_type1", "gfw_type2", "gfw_type3", "henan",
                                           "unknown_injected"};

template <size_t N>
bool OneOf(std::string_view s, const std::string_view (&names)[N]) {
  for (std::string_view name : names) {
    if (s == name) return true;
  }
  return false;
}

// A JSON integer (transaction ids), or nullopt.
std::optional<int64_t> IntOf(std::optional<simdjson::dom::element> v) {
  if (!v || !v->is_int64()) return std::nullopt;
  return v->get_int64().value_unsafe();
}

// Whether the capture saw the server itself reset the flow `entry` names (same address,
// and the same transaction when both say): then the reset was no injection.
bool ServerReset(const Summary& summary, simdjson::dom::element entry) {
  auto packets = summary.Get("x_packets");
  auto available = Summary::Field(packets, "available");
  if (!available || !available->is_bool() || !available->get_bool().value_unsafe()) return false;
  auto flows = Summary::Field(packets, "tcp_flows");
  auto address = Summary::StrOf(Summary::Field(entry, "address"));
  if (!flows || !flows->is_array() || !address) return false;
  const std::optional<int64_t> id = IntOf(Summary::Field(entry, "transaction_id"));
  const simdjson::dom::array list = flows->get_array().value_unsafe();
  for (auto flow : list) {
    if (!IsStr(Summary::StrOf(Summary::Field(flow, "address")), *address)) continue;
    const std::optional<int64_t> flow_id = IntOf(Summary::Field(flow, "transaction_id"));
    if (id && flow_id && *id != *flow_id) continue;
    if (IsStr(Summary::StrOf(Summary::Field(flow, "reset_source")), "server")) return true;
  }
  return false;
}

// The rule an accepted entry fires and the fingerprint it names.
struct Claim {
  Rule rule;
  std::string fingerprint;
};

// The claim of one x_injection entry, or nullopt when it proves nothing.
std::optional<Claim> ClaimOf(const Summary& summary, simdjson::dom::element entry) {
  auto layer = Summary::StrOf(Summary::Field(entry, "layer"));
  auto technique = Summary::StrOf(Summary::Field(entry, "technique"));
  if (!layer || !technique) return std::nullopt;
  if (*layer == "dns") {
    if (*technique != "dns_injection") return std::nullopt;
    auto flags = Summary::Field(entry, "flags");
    if (!flags) return std::nullopt;
    std::optional<std::string> fingerprint = DnsInjectionFingerprint(*flags);
    if (!fingerprint) return std::nullopt;
    return Claim{Rule::kDnsInjected, std::move(*fingerprint)};
  }
  Rule rule;
  if (*layer == "tcp") {
    rule = Rule::kTcpRstInjected;
  } else if (*layer == "tls") {
    rule = Rule::kTlsRstInjected;
  } else if (*layer == "http") {
    rule = Rule::kHttpRstInjected;
  } else {
    return std::nullopt;
  }
  auto injector = Summary::StrOf(Summary::Field(entry, "injector"));
  if (*technique != "rst_injection" || !injector || !OneOf(*injector, kInjectors)) {
    return std::nullopt;
  }
  if (ServerReset(summary, entry)) return std::nullopt;
  return Claim{rule, std::string(*injector)};
}

}  // namespace

std::optional<std::string> DnsInjectionFingerprint(simdjson::dom::element flags) {
  static constexpr std::string_view kFlags[] = {"multiple_answers", "answer_from_non_resolver",
                                                "teredo_answer", "known_forged_ip"};
  static constexpr std::string_view kProofFlags[] = {"multiple_answers", "answer_from_non_resolver",
                                                     "known_forged_ip"};
  if (!flags.is_array()) return std::nullopt;
  std::string fingerprint = "dns:";
  bool proof = false, first = true;
  const simdjson::dom::array list = flags.get_array().value_unsafe();
  for (auto f : list) {
    if (!f.is_string()) return std::nullopt;
    const std::string_view flag = f.get_string().value_unsafe();
    // A flag this analyzer does not know proves nothing; the known ones are named once.
    if (!OneOf(flag, kFlags)) continue;
    if (fingerprint.find(flag) != std::string::npos) continue;
    proof = proof || OneOf(flag, kProofFlags);
    if (!first) fingerprint += ',';
    fingerprint += flag;
    first = false;
  }
  if (!proof) return std::nullopt;
  return fingerprint;
}

void ScoreInjection(Scoring& c) {
  auto entries = c.summary.Get("x_injection");
  if (!entries || entries->is_null()) return;
  if (!entries->is_array()) {
    c.injection_malformed = true;
    return;
  }
  // The first accepted claim of each layer, fired in the order the layers are reached.
  std::array<std::optional<Claim>, kLayerCount> claims;
  const simdjson::dom::array list = entries->get_array().value_unsafe();
  for (auto entry : list) {
    // Forged replies that lost the race to the genuine one (the reply the measurement
    // took was not forged): the censor tried, but this measurement was not blocked by it.
    auto accepted_forged = Summary::Field(entry, "accepted_forged");
    if (accepted_forged && accepted_forged->is_bool() &&
        !accepted_forged->get_bool().value_unsafe()) {
      continue;
    }
    std::optional<Claim> claim = ClaimOf(c.summary, entry);
    if (!claim) {
      c.injection_malformed = true;
      continue;
    }
    std::optional<Claim>& slot = claims[static_cast<size_t>(InfoOf(claim->rule).layer)];
    if (!slot) slot = std::move(claim);
  }
  for (const std::optional<Claim>& claim : claims) {
    if (!claim || !c.Fire(claim->rule)) continue;
    if (c.row.confirmed && c.row.fingerprint.empty()) c.row.fingerprint = claim->fingerprint;
  }
}

}  // namespace vigil::analysis
