#include "analysis/query/aggregation.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <ctime>
#include <map>
#include <set>
#include <tuple>

namespace vigil::analysis {
namespace {

constexpr int64_t kHour = 3600;
constexpr int64_t kDay = 86400;
constexpr int64_t kWeek = 7 * kDay;
// 1970-01-05 was the first Monday after the epoch.
constexpr int64_t kFirstMonday = 4 * kDay;

constexpr Axis kAllAxes[] = {Axis::kTime,  Axis::kCc,       Axis::kAsn,  Axis::kTarget,
                             Axis::kInput, Axis::kCategory, Axis::kTest, Axis::kBlockingType};
constexpr Grain kAllGrains[] = {Grain::kHour, Grain::kDay, Grain::kWeek, Grain::kMonth};

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

std::string AxisList() {
  std::string out;
  for (Axis a : kAllAxes) out += (out.empty() ? "" : ", ") + std::string(AxisName(a));
  return out;
}

std::string GrainList() {
  std::string out;
  for (Grain g : kAllGrains) out += (out.empty() ? "" : ", ") + std::string(GrainName(g));
  return out;
}

std::string Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

// Days from 1970-01-01 to y-m-d (proleptic Gregorian), Howard Hinnant's algorithm.
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

struct Civil {
  int64_t year;
  unsigned month;
  unsigned day;
};

Civil CivilFromDays(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {y + (m <= 2), m, d};
}

bool ParseDigits(std::string_view s, size_t pos, size_t n, unsigned* out) {
  if (pos + n > s.size()) return false;
  unsigned v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    v = v * 10 + static_cast<unsigned>(s[i] - '0');
  }
  *out = v;
  return true;
}

std::string Days(int64_t seconds) {
  const int64_t days = (seconds + kDay - 1) / kDay;
  return std::to_string(days) + (days == 1 ? " day" : " days");
}

// The tuple a cell sorts and groups by on the given axes.
using CellKey = std::vector<std::tuple<int64_t, std::string>>;

std::tuple<int64_t, std::string> KeyPart(const AggregationCell& c, Axis axis) {
  switch (axis) {
    case Axis::kTime:
      return {c.time, ""};
    case Axis::kCc:
      return {0, c.probe_cc};
    case Axis::kAsn:
      return {c.probe_asn, ""};
    case Axis::kTarget:
      return {0, c.target};
    case Axis::kInput:
      return {0, c.input};
    case Axis::kCategory:
      return {0, c.category_code};
    case Axis::kTest:
      return {0, c.test_name};
    case Axis::kBlockingType:
      return {0, c.blocking_type};
  }
  return {0, ""};
}

void CopyAxis(const AggregationCell& from, Axis axis, AggregationCell* to) {
  switch (axis) {
    case Axis::kTime:
      to->time = from.time;
      break;
    case Axis::kCc:
      to->probe_cc = from.probe_cc;
      break;
    case Axis::kAsn:
      to->probe_asn = from.probe_asn;
      break;
    case Axis::kTarget:
      to->target = from.target;
      break;
    case Axis::kInput:
      to->input = from.input;
      break;
    case Axis::kCategory:
      to->category_code = from.category_code;
      break;
    case Axis::kTest:
      to->test_name = from.test_name;
      break;
    case Axis::kBlockingType:
      to->blocking_type = from.blocking_type;
      break;
  }
}

// Natural-order comparison: runs of digits compare as numbers.
bool NaturalLess(const std::string& a, const std::string& b) {
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    const bool da = std::isdigit(static_cast<unsigned char>(a[i]));
    const bool db = std::isdigit(static_cast<unsigned char>(b[j]));
    if (da && db) {
      size_t ie = i, je = j;
      while (ie < a.size() && std::isdigit(static_cast<unsigned char>(a[ie]))) ++ie;
      while (je < b.size() && std::isdigit(static_cast<unsigned char>(b[je]))) ++je;
      std::string_view na(a.data() + i, ie - i), nb(b.data() + j, je - j);
      while (na.size() > 1 && na.front() == '0') na.remove_prefix(1);
      while (nb.size() > 1 && nb.front() == '0') nb.remove_prefix(1);
      if (na.size() != nb.size()) return na.size() < nb.size();
      if (na != nb) return na < nb;
      i = ie;
      j = je;
    } else {
      if (a[i] != b[j]) return a[i] < b[j];
      ++i;
      ++j;
    }
  }
  if ((a.size() - i) != (b.size() - j)) return (a.size() - i) < (b.size() - j);
  return a < b;
}

}  // namespace

const char* AxisName(Axis axis) {
  switch (axis) {
    case Axis::kTime:
      return "time";
    case Axis::kCc:
      return "cc";
    case Axis::kAsn:
      return "asn";
    case Axis::kTarget:
      return "target";
    case Axis::kInput:
      return "input";
    case Axis::kCategory:
      return "category";
    case Axis::kTest:
      return "test";
    case Axis::kBlockingType:
      return "blocking_type";
  }
  return "?";
}

const char* AxisColumn(Axis axis) {
  switch (axis) {
    case Axis::kTime:
      return "time";
    case Axis::kCc:
      return "probe_cc";
    case Axis::kAsn:
      return "probe_asn";
    case Axis::kTarget:
      return "target";
    case Axis::kInput:
      return "input";
    case Axis::kCategory:
      return "category_code";
    case Axis::kTest:
      return "test_name";
    case Axis::kBlockingType:
      return "blocking_type";
  }
  return "?";
}

const char* GrainName(Grain grain) {
  switch (grain) {
    case Grain::kHour:
      return "hour";
    case Grain::kDay:
      return "day";
    case Grain::kWeek:
      return "week";
    case Grain::kMonth:
      return "month";
  }
  return "?";
}

int64_t GrainWindowLimit(Grain grain) {
  switch (grain) {
    case Grain::kHour:
      return 7 * kDay;
    case Grain::kDay:
    case Grain::kWeek:
      return 365 * kDay;
    case Grain::kMonth:
      return 0;
  }
  return 0;
}

Result<std::vector<Axis>> ParseAxes(std::string_view text) {
  std::vector<Axis> axes;
  size_t count = 0;
  std::string_view rest = text;
  while (true) {
    const size_t comma = rest.find(',');
    const std::string word = Trim(rest.substr(0, comma));
    if (word.empty()) {
      return Error{"empty axis in '" + std::string(text) + "' (axes: " + AxisList() + ")"};
    }
    ++count;
    std::optional<Axis> found;
    for (Axis a : kAllAxes) {
      if (word == AxisName(a) || word == AxisColumn(a)) found = a;
    }
    if (word == "domain") found = Axis::kTarget;
    if (word == "blocking-type") found = Axis::kBlockingType;
    if (!found) return Error{"unknown axis '" + word + "' (axes: " + AxisList() + ")"};
    if (std::find(axes.begin(), axes.end(), *found) != axes.end()) {
      return Error{"axis '" + std::string(AxisName(*found)) + "' given twice"};
    }
    axes.push_back(*found);
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  if (count > kMaxAxes) {
    return Error{"at most " + std::to_string(kMaxAxes) + " axes ('" + std::string(text) + "' has " +
                 std::to_string(count) + ")"};
  }
  return axes;
}

Result<Grain> ParseGrain(std::string_view text) {
  const std::string word = Trim(text);
  for (Grain g : kAllGrains) {
    if (word == GrainName(g)) return g;
  }
  return Error{"unknown grain '" + word + "' (grains: " + GrainList() + ")"};
}

Result<int64_t> ParseTime(std::string_view text) {
  const std::string s = Trim(text);
  const Error bad{"bad time '" + s + "' (expected YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ, in UTC)"};
  unsigned y = 0, mo = 0, d = 0, h = 0, mi = 0, se = 0;
  if (!ParseDigits(s, 0, 4, &y) || s.size() < 10 || s[4] != '-' || !ParseDigits(s, 5, 2, &mo) ||
      s[7] != '-' || !ParseDigits(s, 8, 2, &d)) {
    return bad;
  }
  if (s.size() > 10) {
    if ((s[10] != 'T' && s[10] != ' ') || !ParseDigits(s, 11, 2, &h) || s.size() < 19 ||
        s[13] != ':' || !ParseDigits(s, 14, 2, &mi) || s[16] != ':' ||
        !ParseDigits(s, 17, 2, &se)) {
      return bad;
    }
    if (s.size() > 20 || (s.size() == 20 && s[19] != 'Z')) return bad;
  }
  static constexpr unsigned kMonthDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (mo < 1 || mo > 12 || d < 1 || d > kMonthDays[mo - 1] || (mo == 2 && d == 29 && !leap) ||
      h > 23 || mi > 59 || se > 59) {
    return Error{"bad time '" + s + "' (no such date or time)"};
  }
  return DaysFromCivil(y, mo, d) * kDay + h * kHour + mi * 60 + se;
}

Result<uint32_t> ParseAsn(std::string_view text) {
  std::string s = Trim(text);
  std::string_view digits = s;
  if (digits.size() > 2 && (digits[0] == 'A' || digits[0] == 'a') &&
      (digits[1] == 'S' || digits[1] == 's')) {
    digits.remove_prefix(2);
  }
  uint32_t value = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size()) {
    return Error{"bad ASN '" + s + "' (expected a number such as 197207 or AS197207)"};
  }
  return value;
}

Result<std::string> ParseCountry(std::string_view text) {
  std::string s = Trim(text);
  if (s.size() != 2 || !std::isalpha(static_cast<unsigned char>(s[0])) ||
      !std::isalpha(static_cast<unsigned char>(s[1]))) {
    return Error{"bad country code '" + s + "' (expected two letters such as IR)"};
  }
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string FormatTime(int64_t t, bool date_only_at_midnight) {
  const int64_t days = FloorDiv(t, kDay);
  const int64_t secs = t - days * kDay;
  const Civil c = CivilFromDays(days);
  char buf[40];
  if (date_only_at_midnight && secs == 0) {
    std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u", static_cast<long long>(c.year), c.month,
                  c.day);
  } else {
    std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lldZ",
                  static_cast<long long>(c.year), c.month, c.day,
                  static_cast<long long>(secs / kHour), static_cast<long long>(secs % kHour / 60),
                  static_cast<long long>(secs % 60));
  }
  return buf;
}

int64_t BucketStart(int64_t t, Grain grain) {
  switch (grain) {
    case Grain::kHour:
      return FloorDiv(t, kHour) * kHour;
    case Grain::kDay:
      return FloorDiv(t, kDay) * kDay;
    case Grain::kWeek:
      return FloorDiv(t - kFirstMonday, kWeek) * kWeek + kFirstMonday;
    case Grain::kMonth: {
      const Civil c = CivilFromDays(FloorDiv(t, kDay));
      return DaysFromCivil(c.year, c.month, 1) * kDay;
    }
  }
  return t;
}

int64_t NextBucket(int64_t bucket_start, Grain grain) {
  switch (grain) {
    case Grain::kHour:
      return bucket_start + kHour;
    case Grain::kDay:
      return bucket_start + kDay;
    case Grain::kWeek:
      return bucket_start + kWeek;
    case Grain::kMonth: {
      const Civil c = CivilFromDays(FloorDiv(bucket_start, kDay));
      return c.month == 12 ? DaysFromCivil(c.year + 1, 1, 1) * kDay
                           : DaysFromCivil(c.year, c.month + 1, 1) * kDay;
    }
  }
  return bucket_start + kDay;
}

std::string NewestRulesVersion(const std::vector<std::string>& versions) {
  std::string newest;
  for (const std::string& v : versions) {
    if (newest.empty() || NaturalLess(newest, v)) newest = v;
  }
  return newest;
}

Result<ResolvedQuery> ResolveQuery(const AggregationQuery& query,
                                   std::optional<int64_t> newest_start_time,
                                   const std::vector<std::string>& rules_versions) {
  ResolvedQuery r;
  r.query = query;
  if (query.axes.size() > kMaxAxes) {
    return Error{"at most " + std::to_string(kMaxAxes) + " axes (" +
                 std::to_string(query.axes.size()) + " given)"};
  }
  for (size_t i = 0; i < query.axes.size(); ++i) {
    for (size_t j = i + 1; j < query.axes.size(); ++j) {
      if (query.axes[i] == query.axes[j]) {
        return Error{"axis '" + std::string(AxisName(query.axes[i])) + "' given twice"};
      }
    }
  }
  const bool time_axis =
      std::find(query.axes.begin(), query.axes.end(), Axis::kTime) != query.axes.end();
  if (query.grain && !time_axis) {
    return Error{"grain '" + std::string(GrainName(*query.grain)) +
                 "' needs the time axis (e.g. --axis time)"};
  }

  // The default window ends with the UTC day of the newest measurement, so a store of
  // old data answers about its own time, not about an empty present.
  const int64_t newest = newest_start_time ? *newest_start_time : std::time(nullptr);
  const int64_t default_until = BucketStart(newest, Grain::kDay) + kDay;
  if (query.since && query.until) {
    r.since = *query.since;
    r.until = *query.until;
  } else if (query.since) {
    r.since = *query.since;
    r.until = default_until > r.since ? default_until : r.since + kDefaultWindowSeconds;
  } else if (query.until) {
    r.until = *query.until;
    r.since = r.until - kDefaultWindowSeconds;
  } else {
    r.until = default_until;
    r.since = r.until - kDefaultWindowSeconds;
  }
  if (r.since >= r.until) {
    return Error{"the window is empty: since " + FormatTime(r.since, true) +
                 " is not before until " + FormatTime(r.until, true)};
  }

  if (time_axis) {
    const int64_t span = r.until - r.since;
    if (query.grain) {
      r.grain = *query.grain;
    } else {
      r.grain = span <= GrainWindowLimit(Grain::kDay) ? Grain::kDay : Grain::kMonth;
    }
    const int64_t limit = GrainWindowLimit(r.grain);
    if (limit != 0 && span > limit) {
      return Error{"grain '" + std::string(GrainName(r.grain)) + "' covers at most " + Days(limit) +
                   "; the window " + FormatTime(r.since, true) + ".." + FormatTime(r.until, true) +
                   " is " + Days(span) +
                   " (shorten it with --since/--until or use a coarser --grain)"};
    }
  }

  if (query.rules_version.empty()) {
    r.rules_version = NewestRulesVersion(rules_versions);
    if (r.rules_version.empty()) {
      return Error{"the store holds no verdicts yet (run `vigil analyze` first)"};
    }
  } else {
    if (std::find(rules_versions.begin(), rules_versions.end(), query.rules_version) ==
        rules_versions.end()) {
      std::string list;
      for (const std::string& v : rules_versions) list += (list.empty() ? "" : ", ") + v;
      return Error{"rules version '" + query.rules_version +
                   "' is not in the store (versions: " + (list.empty() ? "none" : list) + ")"};
    }
    r.rules_version = query.rules_version;
  }
  return r;
}

AggregationResult FinishAggregation(const ResolvedQuery& query,
                                    std::vector<AggregationCell> cells) {
  const std::vector<Axis>& axes = query.query.axes;
  auto key_of = [&](const AggregationCell& c) {
    CellKey key;
    for (Axis a : axes) key.push_back(KeyPart(c, a));
    return key;
  };
  std::map<CellKey, AggregationCell> by_key;
  for (AggregationCell& c : cells) {
    CellKey key = key_of(c);
    by_key.emplace(std::move(key), std::move(c));
  }
  const auto time_it = std::find(axes.begin(), axes.end(), Axis::kTime);
  if (time_it != axes.end()) {
    // Every combination of the other axis seen gets every bucket of the window.
    std::vector<AggregationCell> others;
    std::set<CellKey> seen;
    for (const auto& [key, cell] : by_key) {
      AggregationCell other;
      CellKey other_key;
      for (Axis a : axes) {
        if (a == Axis::kTime) continue;
        CopyAxis(cell, a, &other);
        other_key.push_back(KeyPart(cell, a));
      }
      if (seen.insert(other_key).second) others.push_back(other);
    }
    if (others.empty()) others.emplace_back();
    for (int64_t b = BucketStart(query.since, query.grain); b < query.until;
         b = NextBucket(b, query.grain)) {
      for (const AggregationCell& other : others) {
        AggregationCell empty = other;
        empty.time = b;
        CellKey key = key_of(empty);
        by_key.emplace(std::move(key), std::move(empty));
      }
    }
  }
  AggregationResult result;
  result.query = query;
  result.cells.reserve(by_key.size());
  for (auto& [key, cell] : by_key) result.cells.push_back(std::move(cell));
  return result;
}

std::string AxisValue(const AggregationCell& cell, Axis axis, Grain grain) {
  switch (axis) {
    case Axis::kTime:
      return FormatTime(cell.time, grain != Grain::kHour);
    case Axis::kCc:
      return cell.probe_cc;
    case Axis::kAsn:
      return std::to_string(cell.probe_asn);
    case Axis::kTarget:
      return cell.target;
    case Axis::kInput:
      return cell.input;
    case Axis::kCategory:
      return cell.category_code;
    case Axis::kTest:
      return cell.test_name;
    case Axis::kBlockingType:
      return cell.blocking_type;
  }
  return "";
}

}  // namespace vigil::analysis
