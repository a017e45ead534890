// VerdictEngine: turns one measurement's facts (an ExtractedMeasurement) into its
// verdict (a VerdictRow) under one version of the rules. The rules follow OONI's v5
// pipeline: per layer (dns, tcp, tls, http, delivery) the first rule that matches gives a
// (blocked, down, ok) triple and names itself; a layer after a blocked one is masked; the
// score is the largest blocked value; the flags follow OONI's aggregation (ok, anomaly,
// confirmed and failure do not overlap). Every score and threshold comes from the rules
// file (testlists/verdict/rules.json), none from code, so a new file re-scores history.
// Load once; Score() is const and may be called from many threads at once.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "analysis/model/rows.h"
#include "analysis/verdict/fingerprints.h"
#include "base/result.h"

namespace vigil::analysis {

/// Every rule id the engine can fire, in the rules file's order. A rules file must give
/// a triple for each of them and for nothing else.
const std::vector<std::string_view>& VerdictRuleIds();

/// Why a measurement is a failure (VerdictRow::failure_reason values).
const std::vector<std::string_view>& VerdictFailureReasons();

class VerdictEngine {
 public:
  VerdictEngine();
  ~VerdictEngine();
  VerdictEngine(VerdictEngine&&) noexcept;
  VerdictEngine& operator=(VerdictEngine&&) noexcept;

  /// Reads the rules file and the fingerprints (fingerprints_dns.csv and
  /// fingerprints_http.csv in `fingerprints_dir`). A rules file with an unknown key, a
  /// missing rule or a bad value is refused with "file: key.path: reason".
  static Result<VerdictEngine> Load(const std::string& rules_file,
                                    const std::string& fingerprints_dir);
  /// The same from a rules file's text (`name` is used in messages) and fingerprints
  /// already loaded.
  static Result<VerdictEngine> FromText(std::string_view rules_json, const std::string& name,
                                        FingerprintSet fingerprints);

  /// The rules file's "version".
  const std::string& version() const;
  const FingerprintSet& fingerprints() const;

  /// The verdict of one measurement under these rules.
  VerdictRow Score(const ExtractedMeasurement& m) const;

  /// The rule ids that fired in `row`, "layer:rule_id" joined by commas, for reports.
  static std::string RulesFired(const VerdictRow& row);

  struct Config;  // defined in the .cc

 private:
  std::unique_ptr<Config> config_;
  FingerprintSet fingerprints_;
};

}  // namespace vigil::analysis
