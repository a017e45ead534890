#include "apps/vigil/run_judge.h"

#include <ctime>
#include <memory>

#include "analysis/ingest/ingest.h"
#include "analysis/verdict/rules.h"

namespace vigil::cli {
namespace {

RunVerdict RunVerdictOf(analysis::VerdictClass verdict) {
  switch (verdict) {
    case analysis::VerdictClass::kOk:
      return RunVerdict::kOk;
    case analysis::VerdictClass::kBlocked:
      return RunVerdict::kBlocked;
    case analysis::VerdictClass::kAnomaly:
      return RunVerdict::kAnomaly;
    case analysis::VerdictClass::kDown:
      return RunVerdict::kDown;
    case analysis::VerdictClass::kNoNetwork:
      return RunVerdict::kNoNetwork;
    case analysis::VerdictClass::kError:
      return RunVerdict::kError;
  }
  return RunVerdict::kError;
}

struct Judge {
  analysis::VerdictEngine engine;
  analysis::IngestOptions options;
  std::unique_ptr<analysis::MeasurementExtractor> extractor;
  analysis::ExtractedMeasurement facts;
};

}  // namespace

Result<RunJudge> MakeRunJudge(const std::string& data_dir) {
  auto engine =
      analysis::VerdictEngine::Load(data_dir + "/verdict/rules.json", data_dir + "/fingerprints");
  if (!engine.ok()) return Error{"verdict rules: " + engine.error()};
  auto judge = std::make_shared<Judge>();
  judge->engine = std::move(*engine);
  judge->extractor = std::make_unique<analysis::MeasurementExtractor>(judge->options);
  return RunJudge([judge](const std::string& line, RunSummary& summary) {
    auto extracted = judge->extractor->Extract(line, &judge->facts);
    if (!extracted.ok()) {
      // Cannot happen for a measurement this program rendered; if it does, say so
      // rather than show a verdict nobody made.
      summary.verdict = RunVerdict::kError;
      summary.blocking.clear();
      summary.evidence = "the analyzer could not read it: " + extracted.error();
      return;
    }
    const analysis::VerdictRow row = judge->engine.Score(judge->facts, std::time(nullptr));
    summary.verdict = RunVerdictOf(row.verdict);
    const bool flagged = row.verdict == analysis::VerdictClass::kBlocked ||
                         row.verdict == analysis::VerdictClass::kAnomaly;
    summary.blocking = flagged ? row.blocking_type : "";
    summary.technique = flagged ? row.technique : "";
    if (flagged && row.confirmed && !row.fingerprint.empty()) {
      summary.technique += (summary.technique.empty() ? "" : " ") + ("(" + row.fingerprint + ")");
    }
    if (row.verdict == analysis::VerdictClass::kNoNetwork) {
      summary.evidence = "this machine's network did not work (x_network); " + summary.evidence;
    } else if (row.verdict == analysis::VerdictClass::kError && !row.failure_reason.empty()) {
      summary.evidence = row.failure_reason + "; " + summary.evidence;
    }
  });
}

}  // namespace vigil::cli
