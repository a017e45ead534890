#include "analysis/verdict/scorer_map.h"

#include <array>

namespace vigil::analysis {
namespace {

// Every other test (dns_injection, ndt, ...) is scored by ScoreGeneric from its steps.
constexpr std::array<TestScorer, 11> kTestScorers = {{
    {"web_connectivity", ScoreWebConnectivity},
    {"whatsapp", ScoreWhatsapp},
    {"telegram", ScoreTelegram},
    {"signal", ScoreSignal},
    {"facebook_messenger", ScoreFacebookMessenger},
    {"wechat", ScoreWechat},
    {"messaging", ScoreMessaging},
    {"dnscheck", ScoreDnscheck},
    {"sni_blocking", ScoreSniBlocking},
    {"stunreachability", ScoreStunReachability},
    {"stun_reachability", ScoreStunReachability},
}};

}  // namespace

std::span<const TestScorer> TestScorers() { return kTestScorers; }

Scorer ScorerFor(std::string_view test_name) {
  for (const TestScorer& t : kTestScorers) {
    if (t.test_name == test_name) return t.scorer;
  }
  return ScoreGeneric;
}

}  // namespace vigil::analysis
