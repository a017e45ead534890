#include "tests/lab/censor/name_pattern.h"

namespace vigil::lab {

std::shared_ptr<const Regex> Regex::Compile(const std::string& pattern, bool icase,
                                            std::string* error) {
  std::shared_ptr<Regex> r(new Regex());
  int flags = REG_EXTENDED | REG_NOSUB | (icase ? REG_ICASE : 0);
  int rc = regcomp(&r->compiled_, pattern.c_str(), flags);
  if (rc != 0) {
    char buf[256];
    regerror(rc, &r->compiled_, buf, sizeof buf);
    *error = buf;
    // regcomp leaves nothing to free on failure; mark the object so the destructor
    // does not call regfree on it.
    r->pattern_.clear();
    r->failed_ = true;
    return nullptr;
  }
  r->pattern_ = pattern;
  return r;
}

Regex::~Regex() {
  if (!failed_) regfree(&compiled_);
}

bool Regex::Matches(std::string_view text) const {
  // regexec needs a NUL-terminated string; names and paths are short and bounded by
  // the parsers, and an embedded NUL simply ends the subject early.
  std::string subject(text);
  return regexec(&compiled_, subject.c_str(), 0, nullptr, 0) == 0;
}

std::string NormalizeDomain(std::string_view name) {
  std::string out(name);
  if (!out.empty() && out.back() == '.') out.pop_back();
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::optional<std::string> NamePattern::Match(std::string_view raw) const {
  std::string value = domain ? NormalizeDomain(raw) : std::string(raw);
  for (const auto& e : exact) {
    if (value == e) return "exact:" + e;
  }
  for (const auto& s : suffix) {
    if (domain) {
      if (value == s || (value.size() > s.size() && value.ends_with(s) &&
                         value[value.size() - s.size() - 1] == '.')) {
        return "suffix:" + s;
      }
    } else if (value.ends_with(s)) {
      return "suffix:" + s;
    }
  }
  for (const auto& p : prefix) {
    if (value.starts_with(p)) return "prefix:" + p;
  }
  for (const auto& r : regex) {
    if (r->Matches(value)) return "regex:" + r->pattern();
  }
  return std::nullopt;
}

}  // namespace vigil::lab
