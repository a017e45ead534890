// Agreement with OONI: our verdicts set against the anomaly / confirmed / failure flags
// that OONI's own sources state for real measurements (the reference data's
// ooni-measurements/expected.csv, cross-checked with index.csv), as a confusion table of
// the four non-overlapping outcomes and a list of every disagreement.
// Plain functions over values; safe from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "analysis/model/rows.h"
#include "analysis/verdict/rules.h"
#include "base/result.h"

namespace vigil::analysis {

/// OONI's flags for one measurement line: key = (file name without directory, line).
using OoniVerdicts = std::map<std::pair<std::string, uint64_t>, Outcome>;

/// Reads the measurements OONI gives all three flags for from `reference_dir`
/// (ooni-measurements/expected.csv rows anomaly, confirmed, msm_failure), and checks them
/// against index.csv's ooni_anomaly / ooni_confirmed / ooni_failure columns; a line with
/// some flags but not all, or where the two files disagree, is an error.
Result<OoniVerdicts> LoadOoniVerdicts(const std::string& reference_dir);

struct Disagreement {
  std::string file;  // as in expected.csv's key (no directory)
  uint64_t line = 0;
  std::string test_name;
  std::string input;
  Outcome ours = Outcome::kOk;
  Outcome ooni = Outcome::kOk;
  std::string rules;  // VerdictEngine::RulesFired
};

struct AgreementReport {
  std::string rules_version;
  /// counts[ours][ooni], indexed by Outcome.
  std::array<std::array<int, 4>, 4> counts{};
  int compared = 0;  // measurements OONI gives flags for and that were scored
  int agreed = 0;
  int not_in_reference = 0;  // measurements without OONI flags
  int missing = 0;           // OONI verdicts whose measurement was not among the input
  std::vector<Disagreement> disagreements;  // in (file, line) order

  /// The table and the disagreements, as text for a terminal.
  std::string ToText() const;
};

/// Scores every measurement (whose EnvelopeRow::source_file / source_line locate it)
/// and compares the outcome with OONI's.
AgreementReport CompareWithOoni(const VerdictEngine& engine,
                                const std::vector<ExtractedMeasurement>& measurements,
                                const OoniVerdicts& ooni);

/// LoadOoniVerdicts + CompareWithOoni + ToText: what `vigil analyze --agreement` prints.
Result<std::string> AgreementReportText(const VerdictEngine& engine,
                                        const std::vector<ExtractedMeasurement>& measurements,
                                        const std::string& reference_dir);

}  // namespace vigil::analysis
