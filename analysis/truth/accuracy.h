// Accuracy against the lab's ground truth: each scored measurement set beside what the
// censor did to it (attribution.h, technique.h) and labelled found (the censor acted and
// the analyzer flagged it with a matching blocking type), wrong_technique (flagged with
// another), missed (not flagged), false_positive (flagged, the censor did nothing) or ok
// (neither). `vigil analyze --truth` prints the table and totals per scenario and can
// write the same as JSON lines, from which docs/accuracy.md can be generated.
// A TruthComparison is filled from one thread; its reports are const.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "analysis/model/rows.h"
#include "analysis/truth/censor_truth.h"
#include "analysis/truth/technique.h"

namespace vigil::analysis {

enum class Label : uint8_t { kFound, kWrongTechnique, kMissed, kFalsePositive, kOk };

/// "found", "wrong_technique", "missed", "false_positive", "ok".
std::string_view LabelName(Label label);

/// What the analyzer said, as the comparison reads it.
struct AnalyzerCall {
  std::string outcome;        // the verdict class's name (ok, blocked, anomaly, down, ...)
  std::string blocking_type;  // "" when none
  bool flagged = false;       // what counts as "the analyzer says it is interfered with"
};

/// The one place that reads a verdict for the comparison: flagged is the verdict class
/// blocked or anomaly (a service the censor touched only partly is expected to be an
/// anomaly, not blocked); down, no_network and error are not claims of interference.
AnalyzerCall CallOf(const VerdictRow& verdict);

/// The label of a measurement the censor treated with `techniques` (none: untouched)
/// and the analyzer judged `call`.
Label LabelOf(const std::vector<Technique>& techniques, const AnalyzerCall& call);

/// One truth file and the scenario it was written under.
struct ScenarioTruth {
  std::string scenario;
  CensorTruth truth;
};

/// One measurement compared.
struct AccuracyRow {
  std::string scenario;
  int phase = -1;        // in force at the measurement's start
  std::string service;   // the input, else the service of an input-less test
  std::string test;      // test_name
  std::string probe_cc;  // the network: country and AS
  uint32_t probe_asn = 0;
  std::string measurement_uid;
  std::string source;  // file:line
  int64_t start_time = 0;
  std::vector<Technique> techniques;  // distinct, in the order the censor first used them
  std::vector<std::string> rules;     // distinct rule ids that acted
  size_t acts = 0;                    // truth records attributed
  AnalyzerCall call;
  Label label = Label::kOk;
};

/// Counts of labels.
struct AccuracyTotals {
  uint64_t found = 0, wrong_technique = 0, missed = 0, false_positive = 0, ok = 0;
  void Add(Label label);
  uint64_t acted() const { return found + wrong_technique + missed; }
  uint64_t untouched() const { return false_positive + ok; }
};

class TruthComparison {
 public:
  /// One entry per truth file. A measurement is compared with the truth whose censor
  /// started last at or before it (a truth without a phase start covers any time).
  explicit TruthComparison(std::vector<ScenarioTruth> scenarios);

  /// Compares one scored measurement; one that started before every censor is only
  /// counted (not_covered).
  void Add(const ExtractedMeasurement& m, const VerdictRow& verdict);

  /// Rows in scenario order (as given), then phase, service, test, network and time.
  std::vector<AccuracyRow> SortedRows() const;
  uint64_t not_covered() const { return not_covered_; }
  /// Totals of one scenario (or of all, for "").
  AccuracyTotals Totals(const std::string& scenario = "") const;

  /// The tables for a terminal: per scenario, one line per measurement and the totals;
  /// then the totals of all scenarios.
  std::string Table() const;
  /// The same as JSON lines: {"kind":"measurement",...} per row, then
  /// {"kind":"totals","scenario":...} per scenario and {"kind":"totals","scenario":null}.
  std::string JsonLines() const;

 private:
  std::vector<ScenarioTruth> scenarios_;
  std::vector<AccuracyRow> rows_;
  uint64_t not_covered_ = 0;
};

}  // namespace vigil::analysis
