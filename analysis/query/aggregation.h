// The aggregation query model, after OONI's /api/v1/aggregation: filters narrow the
// measurements, up to three axes split them into cells, and every cell carries counts
// that do not overlap (ok + anomaly + confirmed + failure = measurement_count) plus
// distinct probes and networks. Parsing of the command-line spellings lives here too,
// with errors that name the allowed values. Plain value types; thread-compatible.
//
// Semantics (the stores implement them; docs/analysis.md "Queries" says the same):
// - the window is [since, until), Unix seconds UTC. By default it ends at the end of
//   the UTC day of the newest stored measurement and spans 30 days;
// - a grain must fit its window as in OONI: hour <= 7 days, day and week <= 365 days,
//   month unbounded; otherwise the query is refused with the limit named;
// - weeks start on Monday (ISO 8601), months on the 1st, all in UTC;
// - a measurement counts once, in the first of: failure, confirmed, anomaly, ok;
// - probe_count = distinct non-empty report_id (OONI publishes no probe id; a report
//   is one run of one test by one probe), network_count = distinct (probe_cc, probe_asn);
// - only measurements scored under the query's rules version are counted (default:
//   the newest version in the store, in natural order: v10 after v9);
// - with a time axis, every bucket of the window is reported, with zero counts when
//   nothing was measured (a drought is visible, not silent).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace vigil::analysis {

enum class Axis : uint8_t { kTime, kCc, kAsn, kTarget, kInput, kCategory, kTest, kBlockingType };
enum class Grain : uint8_t { kHour, kDay, kWeek, kMonth };

/// "time", "cc", "asn", "target", "input", "category", "test", "blocking_type".
const char* AxisName(Axis axis);
/// The column an axis is printed under: "time", "probe_cc", "probe_asn", "target",
/// "input", "category_code", "test_name", "blocking_type".
const char* AxisColumn(Axis axis);
/// "hour", "day", "week", "month".
const char* GrainName(Grain grain);

inline constexpr size_t kMaxAxes = 3;
inline constexpr int64_t kDefaultWindowSeconds = 30 * 86400;

/// What an analyst asks. Empty / nullopt filters match everything.
struct AggregationQuery {
  std::string test_name;
  std::string probe_cc;  // upper case, two letters
  std::optional<uint32_t> probe_asn;
  std::string target;  // the domain for web tests, the service for messaging tests
  std::string input;
  std::string category_code;
  std::optional<std::string> blocking_type;  // "" selects measurements with none
  std::optional<int64_t> since;              // inclusive, Unix seconds UTC
  std::optional<int64_t> until;              // exclusive
  std::string rules_version;                 // empty: the newest in the store
  std::vector<Axis> axes;                    // at most kMaxAxes, no repeats
  std::optional<Grain> grain;                // only with Axis::kTime; default day/month
};

/// A query with every default applied; what the stores run.
struct ResolvedQuery {
  AggregationQuery query;  // filters and axes as given
  int64_t since = 0;
  int64_t until = 0;
  Grain grain = Grain::kDay;
  std::string rules_version;
};

/// The largest window a grain may cover, in seconds; 0 = unbounded.
int64_t GrainWindowLimit(Grain grain);

/// Applies the defaults and checks the limits. `newest_start_time` is the newest stored
/// measurement's start time (nullopt for an empty store: the window then ends now);
/// `rules_versions` are those in the store. Errors are one line naming the limit or the
/// allowed values, e.g. "grain 'hour' covers at most 7 days; the window
/// 2024-01-01..2024-02-01 is 31 days".
Result<ResolvedQuery> ResolveQuery(const AggregationQuery& query,
                                   std::optional<int64_t> newest_start_time,
                                   const std::vector<std::string>& rules_versions);

/// The newest of `versions` in natural order ("v10" > "v9"); empty when there is none.
std::string NewestRulesVersion(const std::vector<std::string>& versions);

/// The start of the grain's bucket holding `t` (UTC; weeks start on Monday).
int64_t BucketStart(int64_t t, Grain grain);
/// The start of the bucket after the one starting at `bucket_start`.
int64_t NextBucket(int64_t bucket_start, Grain grain);

/// One cell: the axis values (only those of the query's axes are meaningful) and counts.
struct AggregationCell {
  int64_t time = 0;  // bucket start, Unix seconds UTC
  std::string probe_cc;
  uint32_t probe_asn = 0;
  std::string target;
  std::string input;
  std::string category_code;
  std::string test_name;
  std::string blocking_type;

  uint64_t measurement_count = 0;
  uint64_t ok_count = 0;
  uint64_t anomaly_count = 0;    // anomaly, not confirmed, not failure
  uint64_t confirmed_count = 0;  // confirmed, not failure
  uint64_t failure_count = 0;
  uint64_t probe_count = 0;    // distinct non-empty report_id
  uint64_t network_count = 0;  // distinct (probe_cc, probe_asn)

  bool operator==(const AggregationCell&) const = default;
};

struct AggregationResult {
  ResolvedQuery query;
  std::vector<AggregationCell> cells;  // sorted by the axes, in axis order
};

/// Sorts raw cells from a store by the query's axes and, with a time axis, adds the
/// empty buckets of the window (zero counts) for every combination of the other axis
/// seen. Both stores finish their answers with this so they agree exactly.
AggregationResult FinishAggregation(const ResolvedQuery& query, std::vector<AggregationCell> cells);

/// The printed value of a cell on one axis: time as "2024-01-01" (or
/// "2024-01-01T05:00:00Z" for the hour grain), the ASN as a number.
std::string AxisValue(const AggregationCell& cell, Axis axis, Grain grain);

/// One measurement behind a cell (drill-down).
struct MeasurementListing {
  std::string measurement_uid;
  int64_t start_time = 0;
  std::string probe_cc;
  uint32_t probe_asn = 0;
  std::string test_name;
  std::string input;
  std::string target;
  std::string category_code;
  std::string report_id;
  bool anomaly = false;
  bool confirmed = false;
  bool failure = false;
  std::string blocking_type;
  std::string source_file;
  uint64_t source_line = 0;
  std::string verdict;  // the verdict class's name (model/verdict_class.h); "" before it

  bool operator==(const MeasurementListing&) const = default;
};

/// Parsers for the command-line spellings. Errors name the allowed values.
Result<std::vector<Axis>> ParseAxes(std::string_view text);  // "time,cc"
Result<Grain> ParseGrain(std::string_view text);             // "day"
/// "2024-01-01", "2024-01-01T05:00:00Z", "2024-01-01T05:00:00", "2024-01-01 05:00:00"
/// (always UTC) -> Unix seconds.
Result<int64_t> ParseTime(std::string_view text);
Result<uint32_t> ParseAsn(std::string_view text);         // "AS197207" or "197207"
Result<std::string> ParseCountry(std::string_view text);  // "ir" -> "IR"

/// "2024-01-01T05:00:00Z"; "2024-01-01" when the time is midnight and `date_only_at_midnight`.
std::string FormatTime(int64_t t, bool date_only_at_midnight = false);

}  // namespace vigil::analysis
