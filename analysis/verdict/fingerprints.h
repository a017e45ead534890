// FingerprintSet: the known DNS answers and block pages of censors
// (testlists/fingerprints/, OONI's blocking-fingerprints CSV format), indexed so that a
// DNS answer, a body or a header is matched against all of them in one pass: literal
// patterns through hash tables and a 4-byte-anchor scan, regular expressions only behind
// a literal they require, each compiled the first time that literal is seen.
// Loading is not thread-safe; matching is (const, and the lazy compiles are guarded).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"

namespace vigil::analysis {

enum class FingerprintLocation : uint8_t { kDns, kBody, kHeader };
enum class PatternType : uint8_t { kFull, kPrefix, kContains, kRegexp };

/// One CSV row.
struct Fingerprint {
  std::string name;
  std::string scope;  // nat, isp, prod, inst, vbw, fp, ...
  std::string other_names;
  FingerprintLocation location = FingerprintLocation::kBody;
  std::string header;  // lowercase header name when location is kHeader
  PatternType pattern_type = PatternType::kContains;
  std::string pattern;
  int confidence_no_fp = 0;
  std::vector<std::string> expected_countries;
  std::string source;
  std::string exp_url;
  std::string notes;
  std::string file;  // where the row came from
  int line = 0;

  /// OONI fastpath's rule: a match confirms blocking when `probe_cc` (not "ZZ") is one
  /// of expected_countries, or the scope is "isp" or "nat".
  bool Confirms(std::string_view probe_cc) const;
};

/// The header both CSV files start with.
inline constexpr std::string_view kFingerprintHeader =
    "name,scope,other_names,location_found,pattern_type,pattern,confidence_no_fp,"
    "expected_countries,source,exp_url,notes";

class FingerprintSet {
 public:
  FingerprintSet();
  ~FingerprintSet();
  FingerprintSet(FingerprintSet&&) noexcept;
  FingerprintSet& operator=(FingerprintSet&&) noexcept;

  /// fingerprints_dns.csv and fingerprints_http.csv from `dir`.
  static Result<FingerprintSet> LoadDir(const std::string& dir);
  /// Any number of CSV files, read as one set.
  static Result<FingerprintSet> LoadFiles(const std::vector<std::string>& paths);
  /// The same from texts already in memory: (path for messages, text) pairs. Every bad
  /// row is reported, one "path:line:column: reason" a line (column = field number).
  static Result<FingerprintSet> Parse(
      const std::vector<std::pair<std::string, std::string>>& named_texts);

  const std::vector<Fingerprint>& all() const { return fingerprints_; }
  size_t size() const { return fingerprints_.size(); }

  /// Appends to `out` the indices (into all()) of the fingerprints that match, each once,
  /// in increasing order.
  void MatchDns(std::string_view answer, std::vector<uint32_t>* out) const;
  void MatchBody(std::string_view body, std::vector<uint32_t>* out) const;
  /// `name` in any case.
  void MatchHeader(std::string_view name, std::string_view value, std::vector<uint32_t>* out) const;

  /// Of the matches `ids`, the first that confirms for `probe_cc`, else the first one;
  /// nullptr when `ids` is empty.
  const Fingerprint* Best(const std::vector<uint32_t>& ids, std::string_view probe_cc) const;

  /// Compiles every regular expression now (they are otherwise compiled on first use);
  /// the error names the first that does not compile, as "file:line: reason".
  Result<size_t> CompileAllRegexps() const;

  struct Index;  // defined in the .cc

 private:
  std::vector<Fingerprint> fingerprints_;
  std::unique_ptr<Index> index_;
};

}  // namespace vigil::analysis
