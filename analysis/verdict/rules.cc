#include "analysis/verdict/rules.h"

#include "analysis/verdict/classify.h"
#include "analysis/verdict/flags.h"
#include "analysis/verdict/masking.h"
#include "analysis/verdict/rule_config.h"
#include "analysis/verdict/scorer_map.h"
#include "analysis/verdict/scoring.h"
#include "analysis/verdict/summary.h"
#include "analysis/verdict/technique.h"

namespace vigil::analysis {
namespace {

// Whether a layer's blocked weight alone would flag the measurement.
bool AnyBlocked(const VerdictRow& row, double anomaly_threshold) {
  for (const LayerVerdict& l : row.layers) {
    if (l.measured && l.blocked > anomaly_threshold) return true;
  }
  return false;
}

}  // namespace

VerdictEngine::VerdictEngine() = default;
VerdictEngine::~VerdictEngine() = default;
VerdictEngine::VerdictEngine(VerdictEngine&&) noexcept = default;
VerdictEngine& VerdictEngine::operator=(VerdictEngine&&) noexcept = default;

Result<VerdictEngine> VerdictEngine::Load(const std::string& rules_file,
                                          const std::string& fingerprints_dir) {
  auto config = LoadRuleConfig(rules_file);
  if (!config.ok()) return Error{config.error()};
  auto fingerprints = FingerprintSet::LoadDir(fingerprints_dir);
  if (!fingerprints.ok()) return Error{fingerprints.error()};
  VerdictEngine engine;
  engine.config_ = std::make_unique<RuleConfig>(std::move(config).value());
  engine.fingerprints_ = std::move(fingerprints).value();
  return engine;
}

Result<VerdictEngine> VerdictEngine::FromText(std::string_view rules_json, const std::string& name,
                                              FingerprintSet fingerprints) {
  auto config = ReadRuleConfig(rules_json, name);
  if (!config.ok()) return Error{config.error()};
  VerdictEngine engine;
  engine.config_ = std::make_unique<RuleConfig>(std::move(config).value());
  engine.fingerprints_ = std::move(fingerprints);
  return engine;
}

const std::string& VerdictEngine::version() const { return config_->version; }
const FingerprintSet& VerdictEngine::fingerprints() const { return fingerprints_; }

std::string VerdictEngine::RulesFired(const VerdictRow& row) {
  std::string out;
  for (size_t i = 0; i < kLayerCount; ++i) {
    const LayerVerdict& l = row.layers[i];
    if (l.rule_id.empty()) continue;
    if (!out.empty()) out += ',';
    out += l.rule_id;
    if (l.masked) out += "(masked)";
  }
  if (!row.failure_reason.empty()) out += (out.empty() ? "" : ",") + row.failure_reason;
  return out;
}

VerdictRow VerdictEngine::Score(const ExtractedMeasurement& m, int64_t now) const {
  VerdictRow row;
  row.measurement_uid = m.measurement.measurement_uid;
  row.rules_version = config_->version;
  const Summary summary(m.summary_json);
  Scoring c{m, *config_, fingerprints_, summary, row};

  ScoreFingerprints(c);
  ScoreInjection(c);
  ScorerFor(m.measurement.test_name)(c);
  if (c.dns_unconfirmed) c.Fire(Rule::kDnsFingerprintUnconfirmed);
  if (c.http_unconfirmed) c.Fire(Rule::kHttpFingerprintUnconfirmed);
  // An injection claim the analyzer could not accept proves nothing, but a measurement
  // that carries one is not ok either: without another blocked layer it is no verdict.
  if (c.injection_malformed && !AnyBlocked(row, config_->anomaly_threshold))
    c.Fail("injection.malformed");

  const int worst = MaskLayers(config_->mask_threshold, row);
  SetFlags(*config_, m.measurement, now, worst, row);
  row.verdict = ClassOf(*config_, summary, row);
  // A measurement OONI's aggregation fails for its envelope alone still names the
  // blocking its verdict rests on.
  if ((row.verdict == VerdictClass::kBlocked || row.verdict == VerdictClass::kAnomaly) &&
      row.blocking_type.empty() && worst >= 0) {
    row.blocking_type =
        std::string(BlockingType(row.worst_layer, row.layers[static_cast<size_t>(worst)].rule_id));
  }
  for (size_t i = 0; i < kLayerCount; ++i) {
    const LayerVerdict& l = row.layers[i];
    if (l.measured && !l.masked && l.blocked > 0 && l.blocked >= config_->mask_threshold) {
      row.blocked_layers |= static_cast<uint8_t>(1u << i);
    }
  }
  row.technique = std::string(BlockingTechnique(m, row));
  return row;
}

}  // namespace vigil::analysis
