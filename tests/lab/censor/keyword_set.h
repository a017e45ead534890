// KeywordSet: every keyword a scenario's rules mention, found in a client's stream
// even when a word straddles two packets, and matched against a rule's keyword
// combinations. Immutable after construction apart from the flows it scans; not
// thread-safe on a shared flow.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "tests/lab/censor/flow_table.h"
#include "tests/lab/censor/scenario.h"

namespace vigil::lab {

class KeywordSet {
 public:
  /// Collects the words of every rule of every phase.
  explicit KeywordSet(const Scenario& scenario);

  /// Scans `data`, the flow's next client bytes, for every word; marks the words found
  /// in flow->words_seen and in `*words_now` (both indexed like the set), and keeps
  /// the flow's tail for the next call. Does nothing without words or bytes.
  void Scan(std::span<const uint8_t> data, FlowState* flow, std::vector<bool>* words_now) const;

  /// The first of `combos` whose words were all seen in `flow`, one of them in this
  /// packet (`words_now`), or nullptr: packets without any of its words pass.
  const std::vector<std::string>* MatchingCombo(const std::vector<std::vector<std::string>>& combos,
                                                const FlowState& flow,
                                                const std::vector<bool>& words_now) const;

 private:
  std::vector<std::string> words_;
  size_t longest_word_ = 0;
};

}  // namespace vigil::lab
