// Scrubbing scans the text once for runs of address characters (IPv4: digits and dots;
// IPv6: hex digits, ':' and '.'), skipping JSON escapes, turns each run into at most a
// few candidates by the boundary rules in scrub.h, and compares each candidate's bytes
// with the probe's addresses (IPv4 as IPv4-mapped IPv6, so every spelling is 16 bytes).
#include "vantage/geo/scrub.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <optional>

namespace vigil {
namespace {

using Address = std::array<unsigned char, 16>;

constexpr std::string_view kScrubbed = "[scrubbed]";
constexpr std::string_view kLocalhost = "\"127.0.0.1\"";
// The longest IPv6 text inet_pton can take ("ffff:...:255.255.255.255").
constexpr size_t kMaxV6Text = INET6_ADDRSTRLEN - 1;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

Address Mapped(const unsigned char v4[4]) {
  Address a{};
  a[10] = 0xff;
  a[11] = 0xff;
  std::memcpy(a.data() + 12, v4, 4);
  return a;
}

// Dotted quad, each part 1-3 decimal digits up to 255 (zero padding allowed: some tools
// print "010.000.000.001", and reading it as decimal is the safe side).
std::optional<Address> ParseV4(std::string_view s) {
  unsigned char bytes[4];
  size_t part = 0;
  size_t i = 0;
  while (true) {
    if (part == 4) return std::nullopt;
    size_t digits = 0;
    unsigned value = 0;
    while (i < s.size() && IsDigit(s[i]) && digits < 4) {
      value = value * 10 + static_cast<unsigned>(s[i] - '0');
      ++i;
      ++digits;
    }
    if (digits == 0 || digits > 3 || value > 255) return std::nullopt;
    bytes[part++] = static_cast<unsigned char>(value);
    if (i == s.size()) break;
    if (s[i] != '.') return std::nullopt;
    ++i;
  }
  if (part != 4) return std::nullopt;
  return Mapped(bytes);
}

std::optional<Address> ParseV6(std::string_view s) {
  if (s.size() > kMaxV6Text) return std::nullopt;
  char buffer[INET6_ADDRSTRLEN];
  std::memcpy(buffer, s.data(), s.size());
  buffer[s.size()] = '\0';
  Address a{};
  if (::inet_pton(AF_INET6, buffer, a.data()) != 1) return std::nullopt;
  return a;
}

// Loopback and unspecified addresses, in either family, identify no one.
bool Identifies(const Address& a) {
  static const Address kZero{};
  Address loopback6{};
  loopback6[15] = 1;
  const bool mapped =
      std::all_of(a.begin(), a.begin() + 10, [](unsigned char b) { return b == 0; }) &&
      a[10] == 0xff && a[11] == 0xff;
  if (a == kZero || a == loopback6) return false;
  if (mapped && (a[12] == 127 || (a[12] == 0 && a[13] == 0 && a[14] == 0 && a[15] == 0)))
    return false;
  return true;
}

// One probe address as a caller may write it: bare, in brackets, with a "%zone".
std::optional<Address> ParseProbeAddress(std::string_view s) {
  if (s.size() >= 2 && s.front() == '[' && s.back() == ']') s = s.substr(1, s.size() - 2);
  if (const size_t zone = s.find('%'); zone != std::string_view::npos) s = s.substr(0, zone);
  std::optional<Address> a;
  if (s.find(':') != std::string_view::npos) {
    a = ParseV6(s);
  } else if (s.size() < INET_ADDRSTRLEN) {
    char buffer[INET_ADDRSTRLEN];
    std::memcpy(buffer, s.data(), s.size());
    buffer[s.size()] = '\0';
    unsigned char v4[4];
    if (::inet_pton(AF_INET, buffer, v4) == 1) a = Mapped(v4);
  }
  if (!a || !Identifies(*a)) return std::nullopt;
  return a;
}

std::vector<Address> ParseProbeAddresses(const std::vector<std::string>& ips) {
  std::vector<Address> out;
  for (const std::string& ip : ips) {
    if (auto a = ParseProbeAddress(ip); a && std::find(out.begin(), out.end(), *a) == out.end()) {
      out.push_back(*a);
    }
  }
  return out;
}

struct Span {
  size_t begin;
  size_t end;
};

class AddressFinder {
 public:
  AddressFinder(std::string_view text, const std::vector<Address>& probe)
      : text_(text), probe_(probe) {}

  // The spans of `text` that are one of the probe's addresses, sorted and merged.
  std::vector<Span> Find() {
    if (probe_.empty()) return {};
    size_t v4_begin = kNone, v6_begin = kNone;
    auto end_v4 = [&](size_t at) {
      if (v4_begin != kNone) V4Run(v4_begin, at);
      v4_begin = kNone;
    };
    auto end_v6 = [&](size_t at) {
      if (v6_begin != kNone) V6Run(v6_begin, at);
      v6_begin = kNone;
    };
    for (size_t i = 0; i < text_.size();) {
      const char c = text_[i];
      if (c == '\\') {  // a JSON escape is never part of an address, nor are its letters
        end_v4(i);
        end_v6(i);
        i += (i + 1 < text_.size() && text_[i + 1] == 'u') ? 6 : 2;
        continue;
      }
      if (IsDigit(c) || c == '.') {
        if (v4_begin == kNone) v4_begin = i;
      } else {
        end_v4(i);
      }
      if (IsHex(c) || c == ':' || c == '.') {
        if (v6_begin == kNone) v6_begin = i;
      } else {
        end_v6(i);
      }
      ++i;
    }
    end_v4(text_.size());
    end_v6(text_.size());
    std::sort(spans_.begin(), spans_.end(),
              [](const Span& a, const Span& b) { return a.begin < b.begin; });
    std::vector<Span> merged;
    for (const Span& s : spans_) {
      if (!merged.empty() && s.begin < merged.back().end) {
        merged.back().end = std::max(merged.back().end, s.end);
      } else {
        merged.push_back(s);
      }
    }
    return merged;
  }

 private:
  static constexpr size_t kNone = static_cast<size_t>(-1);

  bool IsProbe(const Address& a) const {
    return std::find(probe_.begin(), probe_.end(), a) != probe_.end();
  }

  // A maximal run of digits and dots. Runs of two or more dots separate candidates; a
  // single dot at either end is punctuation. A candidate is an address only if it is
  // exactly four numbers, so "10.0.0.1.5" is not 10.0.0.1 (nor 0.0.1.5).
  void V4Run(size_t begin, size_t end) {
    size_t i = begin;
    while (i < end) {
      while (i < end && text_[i] == '.') ++i;
      size_t j = i;
      while (j < end && !(text_[j] == '.' && j + 1 < end && text_[j + 1] == '.')) ++j;
      size_t stop = j;
      while (stop > i && text_[stop - 1] == '.') --stop;
      if (stop > i) {
        if (auto a = ParseV4(text_.substr(i, stop - i)); a && IsProbe(*a)) {
          spans_.push_back({i, stop});
        }
      }
      i = j;
    }
  }

  // A maximal run of hex digits, ':' and '.': one candidate, without dots at its ends
  // and without one lone ':' at either end (the "ip:addr" and "addr: reason" forms).
  void V6Run(size_t begin, size_t end) {
    while (begin < end && text_[begin] == '.') ++begin;
    while (end > begin && text_[end - 1] == '.') --end;
    if (end - begin >= 2 && text_[begin] == ':' && text_[begin + 1] != ':') ++begin;
    if (end - begin >= 2 && text_[end - 1] == ':' && text_[end - 2] != ':') --end;
    const std::string_view run = text_.substr(begin, end - begin);
    if (std::count(run.begin(), run.end(), ':') < 2) return;
    if (auto a = ParseV6(run); a && IsProbe(*a)) spans_.push_back({begin, end});
  }

  std::string_view text_;
  const std::vector<Address>& probe_;
  std::vector<Span> spans_;
};

size_t SkipSpace(std::string_view t, size_t i) {
  while (i < t.size() && (t[i] == ' ' || t[i] == '\t' || t[i] == '\n' || t[i] == '\r')) ++i;
  return i;
}

constexpr size_t kBad = static_cast<size_t>(-1);

// Just past the JSON string that opens at t[i] ('"'), or kBad.
size_t SkipString(std::string_view t, size_t i) {
  for (++i; i < t.size(); ++i) {
    if (t[i] == '\\') {
      ++i;
    } else if (t[i] == '"') {
      return i + 1;
    }
  }
  return kBad;
}

// Just past the JSON value that starts at t[i], or kBad. Not a validator: it only
// needs to find where a well-formed value ends.
size_t SkipValue(std::string_view t, size_t i) {
  if (i >= t.size()) return kBad;
  if (t[i] == '"') return SkipString(t, i);
  if (t[i] == '{' || t[i] == '[') {
    int depth = 0;
    while (i < t.size()) {
      const char c = t[i];
      if (c == '"') {
        i = SkipString(t, i);
        if (i == kBad) return kBad;
        continue;
      }
      if (c == '{' || c == '[') ++depth;
      if (c == '}' || c == ']') {
        if (--depth == 0) return i + 1;
      }
      ++i;
    }
    return kBad;
  }
  const size_t start = i;
  while (i < t.size() && t[i] != ',' && t[i] != '}' && t[i] != ']' && t[i] != ' ' && t[i] != '\t' &&
         t[i] != '\n' && t[i] != '\r') {
    ++i;
  }
  return i > start ? i : kBad;
}

// The values of the top-level object's "probe_ip" members (normally one), or none when
// the text is not a JSON object.
std::vector<Span> TopLevelProbeIpValues(std::string_view t) {
  std::vector<Span> out;
  size_t i = SkipSpace(t, 0);
  if (i >= t.size() || t[i] != '{') return {};
  i = SkipSpace(t, i + 1);
  if (i < t.size() && t[i] == '}') return {};
  while (true) {
    if (i >= t.size() || t[i] != '"') return {};
    const size_t key_end = SkipString(t, i);
    if (key_end == kBad) return {};
    const std::string_view key = t.substr(i + 1, key_end - i - 2);
    i = SkipSpace(t, key_end);
    if (i >= t.size() || t[i] != ':') return {};
    const size_t value_begin = SkipSpace(t, i + 1);
    const size_t value_end = SkipValue(t, value_begin);
    if (value_end == kBad) return {};
    if (key == "probe_ip") out.push_back({value_begin, value_end});
    i = SkipSpace(t, value_end);
    if (i >= t.size()) return {};
    if (t[i] == '}') return out;
    if (t[i] != ',') return {};
    i = SkipSpace(t, i + 1);
  }
}

}  // namespace

std::string ScrubProbeIp(std::string_view measurement_json,
                         const std::vector<std::string>& probe_ips) {
  const std::vector<Span> probe_ip_values = TopLevelProbeIpValues(measurement_json);
  std::vector<std::string> ips = probe_ips;
  for (const Span& v : probe_ip_values) {
    const std::string_view value = measurement_json.substr(v.begin, v.end - v.begin);
    if (value.size() >= 2 && value.front() == '"')
      ips.emplace_back(value.substr(1, value.size() - 2));
  }
  const std::vector<Address> probe = ParseProbeAddresses(ips);

  struct Edit {
    Span span;
    std::string_view replacement;
  };
  std::vector<Edit> edits;
  for (const Span& v : probe_ip_values) edits.push_back({v, kLocalhost});
  auto inside_probe_ip = [&](const Span& s) {
    return std::any_of(probe_ip_values.begin(), probe_ip_values.end(),
                       [&](const Span& v) { return s.begin < v.end && v.begin < s.end; });
  };
  for (const Span& s : AddressFinder(measurement_json, probe).Find()) {
    if (!inside_probe_ip(s)) edits.push_back({s, kScrubbed});
  }
  std::sort(edits.begin(), edits.end(),
            [](const Edit& a, const Edit& b) { return a.span.begin < b.span.begin; });

  std::string out;
  out.reserve(measurement_json.size());
  size_t at = 0;
  for (const Edit& e : edits) {
    out.append(measurement_json.substr(at, e.span.begin - at));
    out.append(e.replacement);
    at = e.span.end;
  }
  out.append(measurement_json.substr(at));
  return out;
}

bool ContainsProbeIp(std::string_view text, const std::vector<std::string>& ips) {
  const std::vector<Address> probe = ParseProbeAddresses(ips);
  return !AddressFinder(text, probe).Find().empty();
}

}  // namespace vigil
