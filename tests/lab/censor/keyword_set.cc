#include "tests/lab/censor/keyword_set.h"

#include <algorithm>
#include <cstring>

namespace vigil::lab {

KeywordSet::KeywordSet(const Scenario& scenario) {
  for (const Phase& phase : scenario.phases) {
    for (const Rule& rule : phase.rules) {
      for (const auto& combo : rule.match.keywords) {
        for (const auto& w : combo) {
          if (std::find(words_.begin(), words_.end(), w) == words_.end()) words_.push_back(w);
          longest_word_ = std::max(longest_word_, w.size());
        }
      }
    }
  }
}

void KeywordSet::Scan(std::span<const uint8_t> data, FlowState* flow,
                      std::vector<bool>* words_now) const {
  if (words_.empty() || data.empty()) return;
  flow->words_seen.resize(words_.size());
  words_now->assign(words_.size(), false);
  std::string text = flow->tail;
  text.append(reinterpret_cast<const char*>(data.data()), data.size());
  for (size_t i = 0; i < words_.size(); ++i) {
    // Only occurrences that include a new byte: the tail alone was scanned before.
    const std::string& w = words_[i];
    size_t from = flow->tail.size() >= w.size() ? flow->tail.size() - w.size() + 1 : 0;
    if (memmem(text.data() + from, text.size() - from, w.data(), w.size()) != nullptr) {
      (*words_now)[i] = true;
      flow->words_seen[i] = true;
    }
  }
  // Keep just enough to find a word that straddles this packet and the next one.
  size_t keep = std::min(text.size(), longest_word_ > 0 ? longest_word_ - 1 : 0);
  flow->tail = text.substr(text.size() - keep);
}

const std::vector<std::string>* KeywordSet::MatchingCombo(
    const std::vector<std::vector<std::string>>& combos, const FlowState& flow,
    const std::vector<bool>& words_now) const {
  for (const auto& combo : combos) {
    bool all_seen = true, one_now = false;
    for (const auto& w : combo) {
      size_t i = static_cast<size_t>(std::find(words_.begin(), words_.end(), w) - words_.begin());
      all_seen = all_seen && flow.words_seen[i];
      one_now = one_now || words_now[i];
    }
    if (all_seen && one_now) return &combo;
  }
  return nullptr;
}

}  // namespace vigil::lab
