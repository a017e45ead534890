// RuleConfig: one version of the verdict rules as read from a rules file
// (testlists/verdict/rules.json) and the bogon list it names: the thresholds, the lists of failures
// and hosts some scorers treat specially, and a (blocked, down, ok) triple for every rule id.
// Reading refuses an unknown key, a missing rule or a bad value with "file: key.path: reason". A
// RuleConfig is immutable once read and may be shared by any number of threads.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "analysis/verdict/bogons.h"
#include "analysis/verdict/rule_ids.h"
#include "base/result.h"

namespace vigil::analysis {

/// OONI v5's per-layer outcome weights for one rule.
struct Triple {
  double blocked = 0, down = 0, ok = 0;
};

struct RuleConfig {
  std::string version;
  double anomaly_threshold = 0;
  double mask_threshold = 0;
  int64_t max_future_skew_seconds = 0;
  std::vector<std::string> ignored_scopes;
  std::vector<std::string> no_route_failures;
  std::vector<std::string> ignored_failures;
  // TLS failures after which the server had answered with its certificate (one naming
  // other hosts): the handshake was not interrupted, so the name passed the network.
  std::vector<std::string> tls_answered_failures;
  std::vector<std::string> signal_unreliable_failures;
  std::vector<std::string> signal_ignored_hosts;
  std::vector<std::string> dnscheck_answered_failures;
  std::array<Triple, kRuleCount> triples{};  // indexed by Rule
  BogonList bogons;                          // from the file the rules name ("bogons")

  const Triple& TripleOf(Rule rule) const { return triples[static_cast<size_t>(rule)]; }
};

/// Reads a rules file's text and the bogon list it names. Messages name `rules_file`,
/// and a relative "bogons" is found beside it.
Result<RuleConfig> ReadRuleConfig(std::string_view text, const std::string& rules_file);

/// Reads the rules file at `path`.
Result<RuleConfig> LoadRuleConfig(const std::string& path);

/// True when `list` holds `s`.
bool Contains(const std::vector<std::string>& list, std::string_view s);

}  // namespace vigil::analysis
