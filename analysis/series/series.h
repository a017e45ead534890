// Series: the store's verdicts laid on a dense time grid, one series per
// (probe_cc, probe_asn, target, layer), for change-point detection and event correlation.
//
// Every cell of the window exists, measured or not: a drought is an empty cell the
// detectors see as a gap (and decay over), never a silently skipped hour. A measurement
// counts at a layer only when it says something about censorship there: the layer was
// measured, not masked by an earlier layer's block, and the verdict is ok, blocked or
// anomaly. Masked layers, down targets, unusable probe networks and errors are counted
// beside, never read as "not blocked". The layer kAny series counts whole measurements
// by their verdict class. Plain value types; thread-compatible.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace vigil::analysis {

class Store;

enum class SeriesGrain : uint8_t { kMinute, kHour, kDay, kWeek };

/// "minute", "hour", "day", "week".
const char* SeriesGrainName(SeriesGrain grain);
Result<SeriesGrain> ParseSeriesGrain(std::string_view text);
/// The length of one cell, in seconds.
int64_t GrainSeconds(SeriesGrain grain);
/// The start of the cell holding `t` (UTC; weeks start on Monday).
int64_t CellStart(int64_t t, SeriesGrain grain);

/// What a series counts as blocked: one layer of a measurement's verdict, or the whole
/// measurement (its verdict class).
enum class SeriesLayer : uint8_t {
  kDns = 0,
  kTcp = 1,
  kTls = 2,
  kHttp = 3,
  kDelivery = 4,
  kAny = 5
};
inline constexpr size_t kSeriesLayerCount = 6;
/// "dns", "tcp", "tls", "http", "delivery", "any".
const char* SeriesLayerName(SeriesLayer layer);
Result<SeriesLayer> ParseSeriesLayer(std::string_view text);

struct SeriesKey {
  std::string probe_cc;
  uint32_t probe_asn = 0;
  std::string target;
  SeriesLayer layer = SeriesLayer::kAny;

  bool operator==(const SeriesKey&) const = default;
  auto operator<=>(const SeriesKey&) const = default;
};

/// Data-quality flags of a cell (bits).
enum CellFlag : uint8_t {
  kCellBurst = 1,      // a source (cc, asn, software) sent >= 200 measurements in one minute
  kCellClockSkew = 2,  // a measurement's start time is more than 1 h from its upload time
};

struct SeriesCell {
  uint32_t measurements = 0;  // every measurement of the key's (cc, asn, target) in the cell
  uint32_t usable = 0;        // those that say something at this layer (see above)
  uint32_t blocked = 0;       // of `usable`: blocked at this layer (kAny: class blocked)
  uint32_t anomaly = 0;       // of `usable`, not blocked: class anomaly (partial blocking)
  uint32_t masked = 0;        // measured at this layer but masked by an earlier block
  uint32_t down = 0;          // class down: the target failed for the control too
  uint32_t no_network = 0;    // class no_network
  uint32_t error = 0;         // class error
  uint32_t probes = 0;        // distinct report ids among `measurements` (OONI has no probe id)
  uint8_t flags = 0;          // CellFlag bits

  bool empty() const { return usable == 0; }
  /// blocked / usable; NaN for an empty cell.
  double share() const { return usable ? static_cast<double>(blocked) / usable : std::nan(""); }
  bool operator==(const SeriesCell&) const = default;
};

struct Series {
  SeriesKey key;
  SeriesGrain grain = SeriesGrain::kDay;
  int64_t since = 0;                 // the first cell's start; cell i starts at since + i * step
  std::vector<SeriesCell> cells;     // dense: one per cell of the window
  int64_t CellTime(size_t i) const;  // start of cell i (weeks: since + i * 7 days)
};

/// What to lay on the grid. Empty filters match everything.
struct SeriesQuery {
  std::string probe_cc;
  std::vector<uint32_t> probe_asns;
  std::vector<std::string> targets;
  std::vector<SeriesLayer> layers;  // empty: every layer measured at least once, and kAny
  std::string test_name;
  int64_t since = 0;  // inclusive; cells are aligned: the window is widened to whole cells
  int64_t until = 0;  // exclusive
  SeriesGrain grain = SeriesGrain::kDay;
  std::string rules_version;      // empty: the newest in the store
  size_t max_cells = 50'000'000;  // series x cells: above it the query is refused
};

struct SeriesSet {
  SeriesQuery query;           // resolved: since/until aligned to cells, rules version named
  std::vector<Series> series;  // sorted by key
  uint64_t rows_read = 0;      // verdict rows read from the store
};

/// Reads the store's verdicts under the query's rules version once and lays them out.
/// Errors name the limit exceeded or the store's failure.
Result<SeriesSet> BuildSeries(Store& store, const SeriesQuery& query);

/// One verdict as the series builder sees it; BuildSeries turns store rows into these, and
/// tests and generators may lay their own rows with SeriesBuilder.
struct SeriesRow {
  int64_t start_time = 0;
  int64_t upload_time = 0;  // 0 when unknown
  std::string_view probe_cc;
  uint32_t probe_asn = 0;
  std::string_view target;
  std::string_view report_id;
  std::string_view software_name;
  uint8_t verdict = 0;          // VerdictClass
  uint8_t blocked_layers = 0;   // bit i: Layer i blocked (blocked share above the rules' threshold)
  uint8_t masked_layers = 0;    // bit i: Layer i masked by an earlier layer's block
  uint8_t measured_layers = 0;  // bit i: Layer i measured
};

/// Lays rows out as BuildSeries does (for tests and synthetic data): `query` gives the
/// window, grain, filters and layers. Rows may also come counted (a store that grouped
/// them), with probes and bursts counted apart; builders of parts of one scan merge.
class SeriesBuilder {
 public:
  explicit SeriesBuilder(SeriesQuery query);
  ~SeriesBuilder();
  SeriesBuilder(const SeriesBuilder&) = delete;
  SeriesBuilder& operator=(const SeriesBuilder&) = delete;
  /// One verdict: counted, its report counted for `probes`, its source for bursts.
  void Add(const SeriesRow& row);
  /// `count` verdicts alike (report_id, software_name and upload_time unread), of which
  /// `skewed` have clock skew; probes and bursts come from AddProbes and AddBurst.
  void AddCount(const SeriesRow& row, uint32_t count, uint32_t skewed);
  /// The distinct reports of (cc, asn, target) in the cell holding `time`.
  void AddProbes(std::string_view cc, uint32_t asn, std::string_view target, int64_t time,
                 uint32_t probes);
  /// A source of network (cc, asn) sent 200 or more measurements in the minute at `time`.
  void AddBurst(std::string_view cc, uint32_t asn, int64_t time);
  /// Adds what `other` (same query) laid out; `other` is left empty.
  void Merge(SeriesBuilder& other);
  Result<SeriesSet> Finish();

 private:
  struct State;
  State* state_;
};

}  // namespace vigil::analysis
