#include "analysis/verdict/fingerprints.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <mutex>
#include <regex>
#include <sstream>
#include <unordered_map>

#include "base/csv.h"
#include "base/whole_file.h"

namespace vigil::analysis {
namespace {

bool IsToken(std::string_view s, bool allow_dash) {
  if (s.empty()) return false;
  for (char c : s) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || (allow_dash && c == '-');
    if (!ok) return false;
  }
  return true;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// --- Regular expressions: OONI writes Python's; std::regex reads ECMAScript ----------

// A brace that does not open a {n}, {n,} or {n,m} quantifier is a literal in Python
// and an error in ECMAScript: escape it.
std::string ToEcmaScript(std::string_view re) {
  std::string out;
  for (size_t i = 0; i < re.size(); ++i) {
    const char c = re[i];
    if (c == '\\' && i + 1 < re.size()) {
      out += c;
      out += re[++i];
      continue;
    }
    if (c == '{') {
      size_t j = i + 1;
      bool digits = false;
      while (j < re.size() && re[j] >= '0' && re[j] <= '9') digits = true, ++j;
      if (digits && j < re.size() && re[j] == ',') {
        ++j;
        while (j < re.size() && re[j] >= '0' && re[j] <= '9') ++j;
      }
      if (digits && j < re.size() && re[j] == '}') {
        out.append(re.substr(i, j - i + 1));
        i = j;
      } else {
        out += "\\{";
      }
      continue;
    }
    if (c == '}') {
      out += "\\}";
      continue;
    }
    out += c;
  }
  return out;
}

// The longest run of literal bytes that every match must contain, or "" when none can
// be told (alternation at the top, or only metacharacters).
std::string RequiredLiteral(std::string_view re) {
  std::string best;
  std::string run;
  auto flush = [&] {
    if (run.size() > best.size()) best = run;
    run.clear();
  };
  int depth = 0;
  for (size_t i = 0; i < re.size(); ++i) {
    const char c = re[i];
    const char next = i + 1 < re.size() ? re[i + 1] : '\0';
    const bool quantified = next == '*' || next == '?' || next == '{';
    if (c == '|' && depth == 0) return "";
    if (c == '(') {
      ++depth;
      flush();
      continue;
    }
    if (c == ')') {
      if (depth > 0) --depth;
      flush();
      continue;
    }
    if (depth > 0) continue;  // a group's content may be optional
    if (c == '[') {
      flush();
      while (i < re.size() && re[i] != ']') i += re[i] == '\\' ? 2 : 1;
      continue;
    }
    if (c == '\\' && i + 1 < re.size()) {
      const char e = re[i + 1];
      const char after = i + 2 < re.size() ? re[i + 2] : '\0';
      const bool escaped_literal =
          !((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z') || (e >= '0' && e <= '9'));
      ++i;
      if (!escaped_literal || after == '*' || after == '?' || after == '{') {
        flush();
        continue;
      }
      run += e;
      if (after == '+') flush();
      continue;
    }
    if (std::strchr(".^$*+?{}", c) != nullptr) {
      flush();
      continue;
    }
    if (quantified) {
      flush();
      continue;
    }
    run += c;
    if (next == '+') flush();
  }
  flush();
  return best;
}

uint32_t Load4(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

constexpr int kBucketBits = 16;
constexpr uint32_t kBuckets = 1u << kBucketBits;

uint32_t Bucket(uint32_t four) { return (four * 2654435761u) >> (32 - kBucketBits); }

// Bytes that every HTML page is full of: an anchor made of them is checked too often.
int Commonness(std::string_view gram) {
  int n = 0;
  for (char c : gram) {
    if (std::strchr(" <>/=\"'\t\r\nateoinsrl:.-", c) != nullptr) ++n;
  }
  return n;
}

}  // namespace

// A regular expression compiled on first use, once, whichever thread gets there first.
struct LazyRegex {
  std::string ecma;
  std::once_flag once;
  std::unique_ptr<std::regex> re;
  std::string error;

  const std::regex* Get() {
    std::call_once(once, [this] {
      try {
        re = std::make_unique<std::regex>(ecma, std::regex::ECMAScript | std::regex::optimize);
      } catch (const std::regex_error& e) {
        error = e.what();
      }
    });
    return re.get();
  }
};

// The patterns of one location (DNS, the body, or one header's values).
struct PatternIndex {
  struct Anchored {
    uint32_t id;
    uint32_t offset;  // where the anchor sits in the literal
  };
  struct Literal {
    std::string text;
    uint32_t id;
    int regex = -1;  // index into regexes when the literal only gates a regexp
  };

  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, std::vector<uint32_t>, StringHash, std::equal_to<>> full;
  std::unordered_map<uint32_t, std::vector<uint32_t>> prefix4;  // by the first 4 bytes
  std::vector<uint32_t> prefix_short;                           // prefixes under 4 bytes
  std::vector<Literal> literals;         // contains patterns and regexp gates
  std::vector<uint32_t> bucket_start;    // CSR over kBuckets buckets of anchors
  std::vector<Anchored> anchors;         // into literals
  std::vector<uint64_t> bucket_bits;     // kBuckets bits: bucket not empty
  std::vector<uint32_t> short_literals;  // literals under 4 bytes, scanned with find
  std::vector<int> ungated_regexes;      // regexps without a usable literal
  std::vector<std::unique_ptr<LazyRegex>> regexes;
  std::vector<uint32_t> regex_ids;  // fingerprint id of each regex

  void AddRegex(uint32_t id, std::string_view pattern) {
    auto lazy = std::make_unique<LazyRegex>();
    lazy->ecma = ToEcmaScript(pattern);
    const int index = static_cast<int>(regexes.size());
    regexes.push_back(std::move(lazy));
    regex_ids.push_back(id);
    std::string gate = RequiredLiteral(pattern);
    if (gate.empty()) {
      ungated_regexes.push_back(index);
    } else {
      literals.push_back({std::move(gate), id, index});
    }
  }

  void Add(uint32_t id, PatternType type, const std::string& pattern) {
    switch (type) {
      case PatternType::kFull:
        full[pattern].push_back(id);
        break;
      case PatternType::kPrefix:
        if (pattern.size() >= 4) {
          prefix4[Load4(pattern.data())].push_back(id);
        } else {
          prefix_short.push_back(id);
        }
        break;
      case PatternType::kContains:
        literals.push_back({pattern, id, -1});
        break;
      case PatternType::kRegexp:
        AddRegex(id, pattern);
        break;
    }
  }

  // Picks each literal's anchor (the 4 bytes whose bucket is emptiest so far, avoiding
  // bytes every page is full of) and lays the buckets out.
  void Build() {
    std::vector<uint32_t> load(kBuckets, 0);
    std::vector<std::pair<uint32_t, Anchored>> chosen;  // (bucket, anchor)
    for (uint32_t li = 0; li < literals.size(); ++li) {
      const std::string& text = literals[li].text;
      if (text.size() < 4) {
        short_literals.push_back(li);
        continue;
      }
      uint32_t best_offset = 0;
      uint64_t best_cost = UINT64_MAX;
      for (uint32_t off = 0; off + 4 <= text.size(); ++off) {
        const uint32_t b = Bucket(Load4(text.data() + off));
        const uint64_t cost =
            static_cast<uint64_t>(Commonness(std::string_view(text).substr(off, 4))) * 1000 +
            load[b];
        if (cost < best_cost) best_cost = cost, best_offset = off;
      }
      const uint32_t b = Bucket(Load4(text.data() + best_offset));
      ++load[b];
      chosen.push_back({b, {li, best_offset}});
    }
    bucket_start.assign(kBuckets + 1, 0);
    for (const auto& [b, a] : chosen) ++bucket_start[b + 1];
    for (uint32_t b = 0; b < kBuckets; ++b) bucket_start[b + 1] += bucket_start[b];
    anchors.resize(chosen.size());
    std::vector<uint32_t> fill(bucket_start.begin(), bucket_start.end() - 1);
    for (const auto& [b, a] : chosen) anchors[fill[b]++] = a;
    bucket_bits.assign(kBuckets / 64, 0);
    for (const auto& [b, a] : chosen) bucket_bits[b / 64] |= 1ull << (b % 64);
  }

  void LiteralFound(uint32_t li, std::string_view text, std::vector<uint32_t>* hits) const {
    const Literal& lit = literals[li];
    if (lit.regex < 0) {
      hits->push_back(lit.id);
      return;
    }
    RegexMatches(lit.regex, text, hits);
  }

  void RegexMatches(int index, std::string_view text, std::vector<uint32_t>* hits) const {
    const std::regex* re = regexes[index]->Get();
    if (re != nullptr && std::regex_search(text.begin(), text.end(), *re)) {
      hits->push_back(regex_ids[index]);
    }
  }

  void Match(std::string_view text, std::vector<uint32_t>* out) const {
    const size_t first = out->size();
    if (!full.empty()) {
      if (auto it = full.find(text); it != full.end()) {
        out->insert(out->end(), it->second.begin(), it->second.end());
      }
    }
    if (text.size() >= 4 && !prefix4.empty()) {
      if (auto it = prefix4.find(Load4(text.data())); it != prefix4.end()) {
        // The key holds 4 bytes; the pattern may be longer.
        for (uint32_t id : it->second) out->push_back(id | 0x80000000u);
      }
    }
    for (uint32_t id : prefix_short) out->push_back(id | 0x80000000u);
    if (!anchors.empty() && text.size() >= 4) {
      const char* data = text.data();
      const size_t n = text.size();
      for (size_t i = 0; i + 4 <= n; ++i) {
        const uint32_t b = Bucket(Load4(data + i));
        if ((bucket_bits[b / 64] >> (b % 64) & 1) == 0) continue;
        for (uint32_t k = bucket_start[b]; k < bucket_start[b + 1]; ++k) {
          const Anchored& a = anchors[k];
          const std::string& lit = literals[a.id].text;
          if (i < a.offset || i - a.offset + lit.size() > n) continue;
          if (std::memcmp(data + i - a.offset, lit.data(), lit.size()) == 0) {
            LiteralFound(a.id, text, out);
          }
        }
      }
    }
    for (uint32_t li : short_literals) {
      if (text.find(literals[li].text) != std::string_view::npos) LiteralFound(li, text, out);
    }
    for (int index : ungated_regexes) RegexMatches(index, text, out);
    if (out->size() - first < 2) return;
    // Sort, drop duplicates (a literal found twice), and settle the prefix candidates
    // (marked with the top bit) by the caller, who knows the patterns.
    std::sort(out->begin() + static_cast<std::ptrdiff_t>(first), out->end());
    out->erase(std::unique(out->begin() + static_cast<std::ptrdiff_t>(first), out->end()),
               out->end());
  }
};

struct FingerprintSet::Index {
  PatternIndex dns;
  PatternIndex body;
  std::unordered_map<std::string, PatternIndex> headers;
};

bool Fingerprint::Confirms(std::string_view probe_cc) const {
  if (scope == "isp" || scope == "nat") return true;
  if (probe_cc.empty() || probe_cc == "ZZ") return false;
  return std::find(expected_countries.begin(), expected_countries.end(), probe_cc) !=
         expected_countries.end();
}

FingerprintSet::FingerprintSet() : index_(std::make_unique<Index>()) {}
FingerprintSet::~FingerprintSet() = default;
FingerprintSet::FingerprintSet(FingerprintSet&&) noexcept = default;
FingerprintSet& FingerprintSet::operator=(FingerprintSet&&) noexcept = default;

Result<FingerprintSet> FingerprintSet::LoadDir(const std::string& dir) {
  return LoadFiles({dir + "/fingerprints_dns.csv", dir + "/fingerprints_http.csv"});
}

Result<FingerprintSet> FingerprintSet::LoadFiles(const std::vector<std::string>& paths) {
  std::vector<std::pair<std::string, std::string>> texts;
  for (const std::string& path : paths) {
    auto text = ReadWholeFile(path);
    if (!text.ok()) return Error{text.error()};
    texts.emplace_back(path, std::move(*text));
  }
  return Parse(texts);
}

Result<FingerprintSet> FingerprintSet::Parse(
    const std::vector<std::pair<std::string, std::string>>& named_texts) {
  FingerprintSet set;
  std::vector<std::string> problems;
  auto problem = [&](const std::string& path, int line, int column, const std::string& why) {
    problems.push_back(path + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " +
                       why);
  };
  for (const auto& [path, text] : named_texts) {
    const CsvText csv = ParseCsv(text);
    const std::vector<CsvRecord>& rows = csv.records;
    for (const CsvSyntaxError& e : csv.errors) problem(path, e.line, e.column, e.message);
    if (rows.empty()) {
      problem(path, 1, 1, "empty file: expected the header " + std::string(kFingerprintHeader));
      continue;
    }
    std::string header;
    for (size_t i = 0; i < rows[0].fields.size(); ++i) {
      header += (i ? "," : "") + rows[0].fields[i];
    }
    if (header != kFingerprintHeader) {
      problem(path, rows[0].line, 1,
              "header is \"" + header + "\", expected \"" + std::string(kFingerprintHeader) + "\"");
      continue;
    }
    for (size_t r = 1; r < rows.size(); ++r) {
      const CsvRecord& row = rows[r];
      if (row.fields.size() == 1 && row.fields[0].empty()) continue;  // blank line
      if (row.fields.size() != 11) {
        problem(path, row.line, static_cast<int>(std::min<size_t>(row.fields.size(), 12)),
                "expected 11 fields, found " + std::to_string(row.fields.size()));
        continue;
      }
      const auto& f = row.fields;
      Fingerprint fp;
      fp.file = path;
      fp.line = row.line;
      bool bad = false;
      auto reject = [&](int column, const std::string& why) {
        problem(path, row.line, column, why);
        bad = true;
      };
      fp.name = f[0];
      if (fp.name.empty()) reject(1, "name: empty");
      fp.scope = f[1];
      if (!IsToken(fp.scope, false)) reject(2, "scope: \"" + f[1] + "\" is not a lowercase word");
      fp.other_names = f[2];
      if (f[3] == "dns") {
        fp.location = FingerprintLocation::kDns;
      } else if (f[3] == "body") {
        fp.location = FingerprintLocation::kBody;
      } else if (f[3].starts_with("header.") && IsToken(f[3].substr(7), true)) {
        fp.location = FingerprintLocation::kHeader;
        fp.header = f[3].substr(7);
      } else {
        reject(4, "location_found: \"" + f[3] + "\" is none of dns, body, header.<lowercase name>");
      }
      if (f[4] == "full") {
        fp.pattern_type = PatternType::kFull;
      } else if (f[4] == "prefix") {
        fp.pattern_type = PatternType::kPrefix;
      } else if (f[4] == "contains") {
        fp.pattern_type = PatternType::kContains;
      } else if (f[4] == "regexp") {
        fp.pattern_type = PatternType::kRegexp;
      } else {
        reject(5, "pattern_type: \"" + f[4] + "\" is none of full, prefix, contains, regexp");
      }
      fp.pattern = f[5];
      if (fp.pattern.empty()) reject(6, "pattern: empty");
      {
        const std::string& c = f[6];
        int value = -1;
        if (!c.empty() && c.size() <= 2 &&
            std::all_of(c.begin(), c.end(), [](char ch) { return ch >= '0' && ch <= '9'; })) {
          value = std::stoi(c);
        }
        if (value < 0 || value > 10) {
          reject(7, "confidence_no_fp: \"" + c + "\" is not a whole number from 0 to 10");
        }
        fp.confidence_no_fp = value;
      }
      if (!f[7].empty()) {
        size_t start = 0;
        for (;;) {
          const size_t comma = f[7].find(',', start);
          std::string cc = f[7].substr(start, comma == std::string::npos ? comma : comma - start);
          while (!cc.empty() && cc.front() == ' ') cc.erase(cc.begin());
          while (!cc.empty() && cc.back() == ' ') cc.pop_back();
          if (cc.size() != 2 || cc[0] < 'A' || cc[0] > 'Z' || cc[1] < 'A' || cc[1] > 'Z') {
            reject(8, "expected_countries: \"" + cc + "\" is not a two-letter country code");
            break;
          }
          fp.expected_countries.push_back(cc);
          if (comma == std::string::npos) break;
          start = comma + 1;
        }
      }
      fp.source = f[8];
      fp.exp_url = f[9];
      fp.notes = f[10];
      if (!bad) set.fingerprints_.push_back(std::move(fp));
    }
  }
  if (!problems.empty()) return Error{JoinProblems(problems)};
  for (uint32_t id = 0; id < set.fingerprints_.size(); ++id) {
    const Fingerprint& fp = set.fingerprints_[id];
    PatternIndex* index = nullptr;
    switch (fp.location) {
      case FingerprintLocation::kDns:
        index = &set.index_->dns;
        break;
      case FingerprintLocation::kBody:
        index = &set.index_->body;
        break;
      case FingerprintLocation::kHeader:
        index = &set.index_->headers[fp.header];
        break;
    }
    index->Add(id, fp.pattern_type, fp.pattern);
  }
  set.index_->dns.Build();
  set.index_->body.Build();
  for (auto& [name, index] : set.index_->headers) index.Build();
  return set;
}

namespace {

// PatternIndex::Match leaves prefix candidates marked; keep those whose whole pattern
// is a prefix of `text`.
void SettlePrefixes(const std::vector<Fingerprint>& all, std::string_view text, size_t first,
                    std::vector<uint32_t>* out) {
  if (out->size() == first) return;
  size_t w = first;
  for (size_t r = first; r < out->size(); ++r) {
    uint32_t id = (*out)[r];
    if (id & 0x80000000u) {
      id &= 0x7fffffffu;
      if (!text.starts_with(all[id].pattern)) continue;
    }
    (*out)[w++] = id;
  }
  out->resize(w);
  std::sort(out->begin() + static_cast<std::ptrdiff_t>(first), out->end());
  out->erase(std::unique(out->begin() + static_cast<std::ptrdiff_t>(first), out->end()),
             out->end());
}

}  // namespace

void FingerprintSet::MatchDns(std::string_view answer, std::vector<uint32_t>* out) const {
  const size_t first = out->size();
  index_->dns.Match(answer, out);
  SettlePrefixes(fingerprints_, answer, first, out);
}

void FingerprintSet::MatchBody(std::string_view body, std::vector<uint32_t>* out) const {
  const size_t first = out->size();
  index_->body.Match(body, out);
  SettlePrefixes(fingerprints_, body, first, out);
}

void FingerprintSet::MatchHeader(std::string_view name, std::string_view value,
                                 std::vector<uint32_t>* out) const {
  if (index_->headers.empty()) return;
  auto it = index_->headers.find(Lower(name));
  if (it == index_->headers.end()) return;
  const size_t first = out->size();
  it->second.Match(value, out);
  SettlePrefixes(fingerprints_, value, first, out);
}

const Fingerprint* FingerprintSet::Best(const std::vector<uint32_t>& ids,
                                        std::string_view probe_cc) const {
  for (uint32_t id : ids) {
    if (fingerprints_[id].Confirms(probe_cc)) return &fingerprints_[id];
  }
  return ids.empty() ? nullptr : &fingerprints_[ids.front()];
}

Result<size_t> FingerprintSet::CompileAllRegexps() const {
  size_t count = 0;
  auto compile = [&](const PatternIndex& index) -> std::string {
    for (size_t i = 0; i < index.regexes.size(); ++i) {
      if (index.regexes[i]->Get() == nullptr) {
        const Fingerprint& fp = fingerprints_[index.regex_ids[i]];
        return fp.file + ":" + std::to_string(fp.line) + ": pattern: " + index.regexes[i]->error;
      }
      ++count;
    }
    return "";
  };
  std::string error = compile(index_->dns);
  if (error.empty()) error = compile(index_->body);
  for (const auto& [name, index] : index_->headers) {
    if (error.empty()) error = compile(index);
  }
  if (!error.empty()) return Error{error};
  return count;
}

}  // namespace vigil::analysis
