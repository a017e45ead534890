#include "analysis/verdict/bogons.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstring>

#include "base/csv.h"

namespace vigil::analysis {
namespace {

uint32_t V4Value(const unsigned char* a) {
  return (uint32_t{a[0]} << 24) | (uint32_t{a[1]} << 16) | (uint32_t{a[2]} << 8) | uint32_t{a[3]};
}

uint32_t V4Mask(int bits) { return bits == 0 ? 0 : ~uint32_t{0} << (32 - bits); }

// True when the first `bits` bits of `a` and `b` agree.
bool SamePrefix(const unsigned char* a, const unsigned char* b, int bits) {
  const int bytes = bits / 8;
  if (std::memcmp(a, b, static_cast<size_t>(bytes)) != 0) return false;
  const int rest = bits % 8;
  if (rest == 0) return true;
  const unsigned char mask = static_cast<unsigned char>(0xff << (8 - rest));
  return (a[bytes] & mask) == (b[bytes] & mask);
}

// A line starting with # is a comment: blanked (its line end kept, so that line
// numbers stay those of the file) before the CSV is split.
std::string WithoutComments(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool line_start = true;
  bool in_comment = false;
  for (char c : text) {
    if (line_start && c == '#') in_comment = true;
    line_start = c == '\n';
    if (in_comment && c != '\n') continue;
    if (c == '\n') in_comment = false;
    out += c;
  }
  return out;
}

}  // namespace

Result<BogonList> BogonList::Parse(std::string_view text, const std::string& name) {
  BogonList list;
  std::vector<std::string> problems;
  auto problem = [&](int line, int column, const std::string& why) {
    problems.push_back(name + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " +
                       why);
  };
  const CsvText csv = ParseCsv(WithoutComments(text));
  const std::vector<CsvRecord>& rows = csv.records;
  for (const CsvSyntaxError& e : csv.errors) problem(e.line, e.column, e.message);
  auto blank = [](const CsvRecord& row) { return row.fields.size() == 1 && row.fields[0].empty(); };
  size_t r = 0;
  while (r < rows.size() && blank(rows[r])) ++r;
  if (r == rows.size()) {
    problem(1, 1, "no header: expected \"" + std::string(kHeader) + "\"");
  } else {
    std::string header;
    for (size_t i = 0; i < rows[r].fields.size(); ++i) {
      header += (i ? "," : "") + rows[r].fields[i];
    }
    if (header != kHeader) {
      problem(rows[r].line, 1,
              "header is \"" + header + "\", expected \"" + std::string(kHeader) + "\"");
      r = rows.size();
    } else {
      ++r;
    }
  }
  for (; r < rows.size(); ++r) {
    const CsvRecord& row = rows[r];
    if (blank(row)) continue;
    if (row.fields.size() != 2) {
      problem(row.line, static_cast<int>(std::min<size_t>(row.fields.size(), 3)),
              "expected 2 fields (prefix,name), found " + std::to_string(row.fields.size()));
      continue;
    }
    const std::string& prefix = row.fields[0];
    if (row.fields[1].empty()) problem(row.line, 2, "name: empty");
    const size_t slash = prefix.find('/');
    if (slash == std::string::npos) {
      problem(row.line, 1, "prefix: \"" + prefix + "\" has no /length");
      continue;
    }
    const std::string address = prefix.substr(0, slash);
    const std::string_view length = std::string_view(prefix).substr(slash + 1);
    int bits = -1;
    auto [end, ec] = std::from_chars(length.data(), length.data() + length.size(), bits);
    const bool length_ok =
        ec == std::errc() && end == length.data() + length.size() && !length.empty() && bits >= 0;
    unsigned char a[16];
    if (inet_pton(AF_INET, address.c_str(), a) == 1) {
      if (!length_ok || bits > 32) {
        problem(row.line, 1, "prefix: \"" + prefix + "\": the length must be 0 to 32");
        continue;
      }
      const uint32_t mask = V4Mask(bits);
      if ((V4Value(a) & ~mask) != 0) {
        problem(row.line, 1,
                "prefix: \"" + prefix + "\" has bits set past /" + std::string(length) +
                    " (a typo in the address or the length?)");
        continue;
      }
      list.v4_.push_back({V4Value(a), mask});
    } else if (inet_pton(AF_INET6, address.c_str(), a) == 1) {
      if (!length_ok || bits > 128) {
        problem(row.line, 1, "prefix: \"" + prefix + "\": the length must be 0 to 128");
        continue;
      }
      V6 net;
      std::copy(a, a + 16, net.base.begin());
      net.bits = bits;
      unsigned char masked[16] = {};
      std::copy(a, a + bits / 8, masked);
      if (bits % 8)
        masked[bits / 8] = a[bits / 8] & static_cast<unsigned char>(0xff << (8 - bits % 8));
      if (std::memcmp(masked, a, 16) != 0) {
        problem(row.line, 1,
                "prefix: \"" + prefix + "\" has bits set past /" + std::string(length) +
                    " (a typo in the address or the length?)");
        continue;
      }
      list.v6_.push_back(net);
    } else {
      problem(row.line, 1, "prefix: \"" + address + "\" is not an IPv4 or IPv6 address");
    }
  }
  if (!problems.empty()) return Error{JoinProblems(problems)};
  return list;
}

bool BogonList::Contains(const std::string& ip) const {
  unsigned char a[16];
  if (inet_pton(AF_INET, ip.c_str(), a) == 1) {
    const uint32_t v = V4Value(a);
    for (const V4& n : v4_) {
      if ((v & n.mask) == n.base) return true;
    }
    return false;
  }
  if (inet_pton(AF_INET6, ip.c_str(), a) == 1) {
    for (const V6& n : v6_) {
      if (SamePrefix(a, n.base.data(), n.bits)) return true;
    }
  }
  return false;
}

}  // namespace vigil::analysis
