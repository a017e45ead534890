// VerdictEngine: turns one measurement's facts (an ExtractedMeasurement) into its
// verdict (a VerdictRow) under one version of the rules. The rules follow OONI's v5
// pipeline: per layer (dns, tcp, tls, http) the first rule that matches gives a
// (blocked, down, ok) triple and names itself; a layer after a blocked one is masked; the
// score is the largest blocked value; the flags follow OONI's aggregation (ok, anomaly,
// confirmed and failure do not overlap). Every score and threshold comes from the rules
// file (testlists/verdict/rules.json), none from code, so a new file re-scores history.
// The pieces: rule_ids.h (the names), rule_config.h (the file), scorer_map.h (which
// scorer judges which test), scorers/ (one per test or family), masking.h, flags.h.
// Load once; Score() is const and may be called from many threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "analysis/model/rows.h"
#include "analysis/verdict/fingerprints.h"
#include "analysis/verdict/rule_ids.h"
#include "base/result.h"

namespace vigil::analysis {

struct RuleConfig;

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

  /// The verdict of one measurement under these rules. `now` (Unix seconds, UTC) stands
  /// in for the upload time of a measurement without one: a start more than
  /// max_future_skew_seconds after it is a failure. Score reads no clock: the same
  /// measurement and `now` always give the same verdict.
  VerdictRow Score(const ExtractedMeasurement& m, int64_t now) const;

  /// The rule ids that fired in `row`, "layer:rule_id" joined by commas, for reports.
  static std::string RulesFired(const VerdictRow& row);

 private:
  std::unique_ptr<RuleConfig> config_;
  FingerprintSet fingerprints_;
};

}  // namespace vigil::analysis
