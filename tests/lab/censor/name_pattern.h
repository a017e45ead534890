// NamePattern: the exact / suffix / prefix / regex alternatives a scenario gives for
// a DNS name, SNI, HTTP Host or HTTP path; a value matches if any alternative does.
// Immutable after construction, so safe to share between threads.
#pragma once

#include <regex.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::lab {

/// A POSIX extended regular expression. POSIX rather than std::regex because
/// libstdc++'s matcher recurses per input character and the input is hostile.
class Regex {
 public:
  /// The compiled `pattern`, or the compiler's message in `*error`.
  static std::shared_ptr<const Regex> Compile(const std::string& pattern, bool icase,
                                              std::string* error);
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  bool Matches(std::string_view text) const;
  const std::string& pattern() const { return pattern_; }

 private:
  Regex() = default;
  regex_t compiled_{};
  bool failed_ = false;
  std::string pattern_;
};

struct NamePattern {
  /// Domain-style patterns (qname, SNI, Host) compare case-insensitively and a
  /// suffix matches at a label boundary: "whatsapp.net" matches "whatsapp.net" and
  /// "mmg.whatsapp.net", not "notwhatsapp.net". Paths compare bytewise.
  bool domain = true;
  std::vector<std::string> exact;
  std::vector<std::string> suffix;
  std::vector<std::string> prefix;
  std::vector<std::shared_ptr<const Regex>> regex;

  /// The alternative that matched `value` ("suffix:whatsapp.net"), or nullopt.
  std::optional<std::string> Match(std::string_view value) const;
};

/// Lower-cases ASCII and drops one trailing dot: the form names are compared in.
std::string NormalizeDomain(std::string_view name);

}  // namespace vigil::lab
