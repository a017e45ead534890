#include "analysis/verdict/scorer_map.h"

#include <array>

namespace vigil::analysis {
namespace {

// Every ScorerKind once; a test with its own rules gets a kind in the catalog and a
// row here.
constexpr std::array<KindScorer, 15> kKindScorers = {{
    {ScorerKind::kGeneric, ScoreGeneric},
    {ScorerKind::kWebConnectivity, ScoreWebConnectivity},
    {ScorerKind::kWhatsapp, ScoreWhatsapp},
    {ScorerKind::kTelegram, ScoreTelegram},
    {ScorerKind::kSignal, ScoreSignal},
    {ScorerKind::kFacebookMessenger, ScoreFacebookMessenger},
    {ScorerKind::kWechat, ScoreWechat},
    {ScorerKind::kMessaging, ScoreMessaging},
    {ScorerKind::kDnscheck, ScoreDnscheck},
    {ScorerKind::kSniBlocking, ScoreSniBlocking},
    {ScorerKind::kStun, ScoreStunReachability},
    {ScorerKind::kDelivery, ScoreDelivery},
    {ScorerKind::kDnsInjection, ScoreDnsInjection},
    {ScorerKind::kResidualBlocking, ScoreResidualBlocking},
    {ScorerKind::kCensorHop, ScoreCensorHop},
}};

}  // namespace

std::span<const KindScorer> KindScorers() { return kKindScorers; }

Scorer ScorerFor(ScorerKind kind) {
  for (const KindScorer& k : kKindScorers) {
    if (k.kind == kind) return k.scorer;
  }
  return ScoreGeneric;
}

Scorer ScorerFor(std::string_view test_name) {
  const ExperimentDescriptor* experiment = ExperimentCatalog::Active().Find(test_name);
  return ScorerFor(experiment ? experiment->scorer : ScorerKind::kGeneric);
}

}  // namespace vigil::analysis
