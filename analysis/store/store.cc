// The reads both stores share: aggregation, drill-down, facts for re-scoring. Each is
// one SQL text per dialect, built here, so SQLite and ClickHouse answer the same
// question in the same way; only quoting, time buckets and distinct counts differ.
#include "analysis/store/store.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <map>

#include "analysis/store/schema.h"
#include "analysis/verdict/rules.h"

namespace vigil::analysis {
namespace {

using store::Table;

constexpr uint64_t kScanWindowMeasurements = 20000;
constexpr size_t kRescoreBatch = 5000;

std::string Cond(SqlDialect d, const char* column, const std::string& value) {
  return std::string(" AND ") + column + " = " + QuoteSql(d, value);
}

// The filters of a query other than its window, as " AND ..." terms.
std::string FilterTerms(SqlDialect d, const AggregationQuery& q, const std::string& rules_version) {
  std::string w = std::string(" AND rules_version = ") + QuoteSql(d, rules_version);
  if (!q.test_name.empty()) w += Cond(d, "test_name", q.test_name);
  if (!q.probe_cc.empty()) w += Cond(d, "probe_cc", q.probe_cc);
  if (q.probe_asn) w += " AND probe_asn = " + std::to_string(*q.probe_asn);
  if (!q.target.empty()) w += Cond(d, "target", q.target);
  if (!q.input.empty()) w += Cond(d, "input", q.input);
  if (!q.category_code.empty()) w += Cond(d, "category_code", q.category_code);
  if (q.blocking_type) w += Cond(d, "blocking_type", *q.blocking_type);
  return w;
}

std::string WindowTerms(int64_t since, int64_t until) {
  return " AND start_time >= " + std::to_string(since) + " AND start_time < " +
         std::to_string(until);
}

// The raw time value of a bucket: its start, or YYYYMM for months (turned into the
// month's start by ToBucketStart) because neither engine has one portable expression.
std::string TimeExpr(SqlDialect d, Grain grain) {
  const bool ch = d == SqlDialect::kClickHouse;
  auto floor = [&](int64_t size, int64_t offset) {
    const std::string shifted =
        offset == 0 ? std::string("start_time") : "(start_time - " + std::to_string(offset) + ")";
    const std::string div = ch ? "intDiv(" + shifted + ", " + std::to_string(size) + ")"
                               : "(" + shifted + " / " + std::to_string(size) + ")";
    std::string e = div + " * " + std::to_string(size);
    if (offset != 0) e = "(" + e + " + " + std::to_string(offset) + ")";
    return e;
  };
  switch (grain) {
    case Grain::kHour:
      return floor(3600, 0);
    case Grain::kDay:
      return floor(86400, 0);
    case Grain::kWeek:
      return floor(7 * 86400, 4 * 86400);  // 1970-01-05 was a Monday
    case Grain::kMonth:
      return ch ? "toYYYYMM(toDateTime(start_time, 'UTC'))"
                : "CAST(strftime('%Y%m', start_time, 'unixepoch') AS INTEGER)";
  }
  return "start_time";
}

int64_t ToBucketStart(int64_t raw, Grain grain) {
  if (grain != Grain::kMonth) return raw;
  char text[48];
  std::snprintf(text, sizeof text, "%04lld-%02lld-01", static_cast<long long>(raw / 100),
                static_cast<long long>(raw % 100));
  auto t = ParseTime(text);
  return t.ok() ? *t : 0;
}

template <typename N>
N ToNumber(const SqlRow& row, size_t i) {
  if (i >= row.values.size() || row.null[i]) return N{};
  N v{};
  const std::string& s = row.values[i];
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

std::string ColumnList(const Table& t) {
  std::string out;
  for (const auto& c : t.columns) {
    if (!out.empty()) out += ", ";
    out += c.name;
  }
  return out;
}

std::string DayExpr(SqlDialect d) {
  return d == SqlDialect::kClickHouse ? "intDiv(start_time, 86400)" : "(start_time / 86400)";
}

// Rules version and window for a query, from what the store holds.
Result<ResolvedQuery> Resolve(Store& s, const AggregationQuery& query) {
  auto versions = RulesVersions(s);
  if (!versions.ok()) return Error{versions.error()};
  std::string version =
      query.rules_version.empty() ? NewestRulesVersion(*versions) : query.rules_version;
  std::optional<int64_t> newest;
  if (!version.empty() && !(query.since && query.until)) {  // a window given needs no default
    // max() of no rows is NULL in SQLite (which then needs no count, and with only the
    // version filtered reads one index entry) but 0 in ClickHouse.
    const bool sqlite = s.dialect() == SqlDialect::kSqlite;
    std::string sql =
        std::string(sqlite ? "SELECT 1, max(start_time)" : "SELECT count(), max(start_time)") +
        " FROM verdicts WHERE 1 = 1" + FilterTerms(s.dialect(), query, version);
    if (query.since) sql += " AND start_time >= " + std::to_string(*query.since);
    if (query.until) sql += " AND start_time < " + std::to_string(*query.until);
    auto r = s.Select(sql, [&](const SqlRow& row) {
      if (ToNumber<uint64_t>(row, 0) > 0 && !row.null[1]) newest = ToNumber<int64_t>(row, 1);
    });
    if (!r.ok()) return Error{r.error()};
  }
  return ResolveQuery(query, newest, *versions);
}

}  // namespace

std::string SqlList(const std::vector<uint32_t>& numbers) {
  std::string out = "(";
  for (size_t i = 0; i < numbers.size(); ++i) out += (i ? ", " : "") + std::to_string(numbers[i]);
  return out + ")";
}

std::string SqlList(SqlDialect dialect, const std::vector<std::string>& texts) {
  std::string out = "(";
  for (size_t i = 0; i < texts.size(); ++i) out += (i ? ", " : "") + QuoteSql(dialect, texts[i]);
  return out + ")";
}

std::string QuoteSql(SqlDialect d, std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') {
      out += d == SqlDialect::kClickHouse ? "\\'" : "''";
    } else if (c == '\\' && d == SqlDialect::kClickHouse) {
      out += "\\\\";
    } else if (c == '\0') {
      out += d == SqlDialect::kClickHouse ? "\\0" : "";
    } else {
      out += c;
    }
  }
  out += '\'';
  return out;
}

std::string AggregationSql(SqlDialect d, const ResolvedQuery& r) {
  const bool ch = d == SqlDialect::kClickHouse;
  std::string select, group;
  for (size_t i = 0; i < r.query.axes.size(); ++i) {
    const Axis axis = r.query.axes[i];
    const std::string expr = axis == Axis::kTime ? TimeExpr(d, r.grain) : AxisColumn(axis);
    const std::string alias = "a" + std::to_string(i);
    select += expr + " AS " + alias + ", ";
    group += (group.empty() ? "" : ", ") + alias;
  }
  select += "count(*)";
  for (int o = 0; o < 4; ++o) {
    select += ch ? ", countIf(outcome = " + std::to_string(o) + ")"
                 : ", sum(outcome = " + std::to_string(o) + ")";
  }
  // Distinct reports and networks by 64-bit hashes (ClickHouse's uniqExact hashes strings
  // anyway; hashing first lets it keep numbers): the same policy as SQLite's scan.
  select += ch ? ", uniqExactIf(cityHash64(report_id), report_id != ''), "
                 "uniqExact(cityHash64(probe_cc, probe_asn))"
               : ", count(DISTINCT NULLIF(report_id, '')), count(DISTINCT probe_cc || ':' || "
                 "probe_asn)";
  std::string sql = "SELECT " + select + " FROM verdicts WHERE 1 = 1" +
                    FilterTerms(d, r.query, r.rules_version) + WindowTerms(r.since, r.until);
  if (!group.empty()) sql += " GROUP BY " + group;
  return sql;
}

std::string DefaultStoreSpec() {
  if (const char* spec = std::getenv("VIGIL_STORE"); spec && *spec) return spec;
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg && *xdg) {
    return std::string(xdg) + "/vigil/analysis.sqlite";
  }
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : ".") + "/.local/share/vigil/analysis.sqlite";
}

Result<std::unique_ptr<Store>> OpenStore(const std::string& spec) {
  if (spec.rfind("clickhouse://", 0) == 0) return store::OpenClickHouseStore(spec);
  if (spec.rfind("sqlite:", 0) == 0) return store::OpenSqliteStore(spec.substr(7));
  if (spec.find("://") != std::string::npos) {
    return Error{"store '" + spec +
                 "': unknown scheme (a SQLite file path, sqlite:PATH or "
                 "clickhouse://HOST:PORT/DATABASE)"};
  }
  if (spec.empty()) return Error{"empty store name"};
  return store::OpenSqliteStore(spec);
}

Result<std::unique_ptr<Store>> OpenStoreOrDefault(const std::string& spec) {
  return OpenStore(spec.empty() ? DefaultStoreSpec() : spec);
}

Result<StoreCounts> CountRows(Store& s) {
  StoreCounts counts;
  for (auto [table, field] : {std::pair{"measurements", &counts.measurements},
                              std::pair{"observations", &counts.observations}}) {
    // Distinct keys, not rows: ClickHouse may hold a replaced row until it merges.
    const std::string sql =
        std::string("SELECT count(*) FROM (SELECT DISTINCT ") +
        (std::string(table) == "measurements" ? "measurement_uid" : "measurement_uid, idx") +
        " FROM " + table + ")";
    auto r = s.Select(sql, [&](const SqlRow& row) { *field = ToNumber<uint64_t>(row, 0); });
    if (!r.ok()) return Error{r.error()};
  }
  auto r = s.Select(
      "SELECT rules_version, count(*) FROM (SELECT DISTINCT rules_version, measurement_uid FROM "
      "verdicts) GROUP BY rules_version ORDER BY rules_version",
      [&](const SqlRow& row) {
        counts.verdicts.emplace_back(row.values[0], ToNumber<uint64_t>(row, 1));
      });
  if (!r.ok()) return Error{r.error()};
  return counts;
}

Result<std::vector<std::string>> RulesVersions(Store& s) {
  std::vector<std::string> versions;
  auto r = s.Select("SELECT DISTINCT rules_version FROM rules_versions ORDER BY rules_version",
                    [&](const SqlRow& row) { versions.push_back(row.values[0]); });
  if (!r.ok()) return Error{r.error()};
  return versions;
}

Result<std::string> RulesVersionOrNewest(Store& store, const std::string& version) {
  if (!version.empty()) return version;
  auto versions = RulesVersions(store);
  if (!versions.ok()) return Error{versions.error()};
  std::string newest = NewestRulesVersion(*versions);
  if (newest.empty()) {
    return Error{store.Describe() + ": no verdicts stored yet (run vigil analyze first)"};
  }
  return newest;
}

Result<AggregationResult> Aggregate(Store& s, const AggregationQuery& query) {
  auto resolved = Resolve(s, query);
  if (!resolved.ok()) return Error{resolved.error()};
  auto cells = s.AggregateCells(*resolved);
  if (!cells.ok()) return Error{cells.error()};
  return FinishAggregation(*resolved, std::move(*cells));
}

std::string VerdictFilterSql(SqlDialect d, const ResolvedQuery& r) {
  return " WHERE 1 = 1" + FilterTerms(d, r.query, r.rules_version) + WindowTerms(r.since, r.until);
}

Result<size_t> Store::ScanVerdicts(const std::string& columns, const std::string& where,
                                   const std::string& /*rules_version*/, int64_t /*since*/,
                                   int64_t /*until*/, size_t /*max_parts*/,
                                   const ScanSinkFactory& make_sink) {
  // The text of a SELECT's row, read as the scan's row.
  class TextRow : public ScanRow {
   public:
    const SqlRow* row = nullptr;
    int64_t Int(int column) const override {
      return std::strtoll(row->values[static_cast<size_t>(column)].c_str(), nullptr, 10);
    }
    std::string_view Text(int column) const override {
      return row->values[static_cast<size_t>(column)];
    }
  };
  ScanSink sink = make_sink(0);
  TextRow text;
  auto r = Select("SELECT " + columns + " FROM verdicts" + where, [&](const SqlRow& row) {
    text.row = &row;
    sink(text);
  });
  if (!r.ok()) return Error{r.error()};
  return size_t{1};
}

Result<std::vector<AggregationCell>> Store::AggregateCells(const ResolvedQuery& query) {
  std::vector<AggregationCell> cells;
  const std::vector<Axis>& axes = query.query.axes;
  auto r = Select(AggregationSql(dialect(), query), [&](const SqlRow& row) {
    AggregationCell c;
    size_t i = 0;
    for (Axis axis : axes) {
      const std::string& v = row.values[i];
      switch (axis) {
        case Axis::kTime:
          c.time = ToBucketStart(ToNumber<int64_t>(row, i), query.grain);
          break;
        case Axis::kCc:
          c.probe_cc = v;
          break;
        case Axis::kAsn:
          c.probe_asn = ToNumber<uint32_t>(row, i);
          break;
        case Axis::kTarget:
          c.target = v;
          break;
        case Axis::kInput:
          c.input = v;
          break;
        case Axis::kCategory:
          c.category_code = v;
          break;
        case Axis::kTest:
          c.test_name = v;
          break;
        case Axis::kBlockingType:
          c.blocking_type = v;
          break;
      }
      ++i;
    }
    c.measurement_count = ToNumber<uint64_t>(row, i++);
    c.ok_count = ToNumber<uint64_t>(row, i++);
    c.anomaly_count = ToNumber<uint64_t>(row, i++);
    c.confirmed_count = ToNumber<uint64_t>(row, i++);
    c.failure_count = ToNumber<uint64_t>(row, i++);
    c.probe_count = ToNumber<uint64_t>(row, i++);
    c.network_count = ToNumber<uint64_t>(row, i++);
    // Without axes both engines answer one row, with zeros when nothing matched.
    cells.push_back(std::move(c));
  });
  if (!r.ok()) return Error{r.error()};
  return cells;
}

Result<std::vector<MeasurementListing>> ListMeasurements(Store& s, const AggregationQuery& query,
                                                         std::optional<Outcome> outcome,
                                                         size_t limit,
                                                         ResolvedQuery* resolved_out) {
  AggregationQuery no_axes = query;
  no_axes.axes.clear();
  no_axes.grain.reset();
  auto resolved = Resolve(s, no_axes);
  if (!resolved.ok()) return Error{resolved.error()};
  if (resolved_out) *resolved_out = *resolved;
  std::string sql =
      "SELECT measurement_uid, start_time, probe_cc, probe_asn, test_name, input, target, "
      "category_code, report_id, anomaly, confirmed, failure, blocking_type, source_file, "
      "source_line, verdict FROM verdicts WHERE 1 = 1" +
      FilterTerms(s.dialect(), resolved->query, resolved->rules_version) +
      WindowTerms(resolved->since, resolved->until);
  if (outcome) sql += " AND outcome = " + std::to_string(static_cast<int>(*outcome));
  sql += " ORDER BY start_time DESC, measurement_uid LIMIT " + std::to_string(limit);
  std::vector<MeasurementListing> out;
  std::string last_uid;
  auto r = s.Select(sql, [&](const SqlRow& row) {
    if (row.values[0] == last_uid) return;  // a replaced row ClickHouse has not merged yet
    last_uid = row.values[0];
    MeasurementListing m;
    m.measurement_uid = row.values[0];
    m.start_time = ToNumber<int64_t>(row, 1);
    m.probe_cc = row.values[2];
    m.probe_asn = ToNumber<uint32_t>(row, 3);
    m.test_name = row.values[4];
    m.input = row.values[5];
    m.target = row.values[6];
    m.category_code = row.values[7];
    m.report_id = row.values[8];
    m.anomaly = ToNumber<int>(row, 9) != 0;
    m.confirmed = ToNumber<int>(row, 10) != 0;
    m.failure = ToNumber<int>(row, 11) != 0;
    m.blocking_type = row.values[12];
    m.source_file = row.values[13];
    m.source_line = ToNumber<uint64_t>(row, 14);
    m.verdict = row.values[15];
    out.push_back(std::move(m));
  });
  if (!r.ok()) return Error{r.error()};
  return out;
}

Result<uint64_t> ScanFacts(Store& s,
                           const std::function<Result<void>(ExtractedMeasurement&)>& sink) {
  // Days and their sizes first; then windows of whole days holding a bounded number of
  // measurements, each read as two ordered queries and joined here.
  std::vector<std::pair<int64_t, uint64_t>> days;
  auto r = s.Select(
      "SELECT " + DayExpr(s.dialect()) + " AS d, count(*) FROM measurements GROUP BY d ORDER BY d",
      [&](const SqlRow& row) {
        days.emplace_back(ToNumber<int64_t>(row, 0), ToNumber<uint64_t>(row, 1));
      });
  if (!r.ok()) return Error{r.error()};
  uint64_t total = 0;
  size_t i = 0;
  while (i < days.size()) {
    const int64_t since = days[i].first * 86400;
    uint64_t in_window = 0;
    while (i < days.size() &&
           (in_window == 0 || in_window + days[i].second <= kScanWindowMeasurements)) {
      in_window += days[i].second;
      ++i;
    }
    const int64_t until = (i < days.size() ? days[i].first : days.back().first + 1) * 86400;
    const std::string window = " WHERE 1 = 1" + WindowTerms(since, until);
    std::map<std::string, ExtractedMeasurement> facts;
    std::map<std::string, std::map<uint32_t, ObservationRow>> observations;
    std::string error;
    r = s.Select("SELECT " + ColumnList(store::MeasurementsTable()) + " FROM measurements" +
                     window + " ORDER BY measurement_uid, written_at",
                 [&](const SqlRow& row) {
                   ExtractedMeasurement m;
                   if (auto ok = store::MeasurementFromRow(row, &m); !ok && error.empty()) {
                     error = ok.error();
                   }
                   facts[m.measurement.measurement_uid] = std::move(m);  // latest write wins
                 });
    if (!r.ok()) return Error{r.error()};
    r = s.Select("SELECT " + ColumnList(store::ObservationsTable()) + " FROM observations" +
                     window + " ORDER BY measurement_uid, idx, written_at",
                 [&](const SqlRow& row) {
                   ObservationRow o;
                   if (auto ok = store::ObservationFromRow(row, &o); !ok && error.empty()) {
                     error = ok.error();
                   }
                   const uint32_t index = o.index;
                   observations[o.measurement_uid][index] = std::move(o);
                 });
    if (!r.ok()) return Error{r.error()};
    if (!error.empty()) return Error{s.Describe() + ": " + error};
    for (auto& [uid, m] : facts) {
      auto it = observations.find(uid);
      if (it != observations.end()) {
        for (auto& [index, o] : it->second) m.observations.push_back(std::move(o));
      }
      if (auto ok = sink(m); !ok) return Error{ok.error()};
      ++total;
    }
  }
  return total;
}

Result<std::vector<PostRow>> ListPosts(Store& s, const PostQuery& q) {
  const SqlDialect d = s.dialect();
  std::string sql = "SELECT " + ColumnList(store::PostsTable()) + " FROM posts WHERE 1 = 1" +
                    WindowTerms(q.since, q.until);
  if (!q.probe_cc.empty()) sql += Cond(d, "probe_cc", q.probe_cc);
  if (!q.probe_asns.empty()) sql += " AND probe_asn IN " + SqlList(q.probe_asns);
  sql += " ORDER BY url, start_time, measurement_uid, written_at";
  std::vector<PostRow> out;
  auto r = s.Select(sql, [&](const SqlRow& row) {
    PostRow p;
    p.measurement_uid = row.values[0];
    p.start_time = ToNumber<int64_t>(row, 1);
    p.probe_cc = row.values[2];
    p.probe_asn = ToNumber<uint32_t>(row, 3);
    p.url = row.values[4];
    p.post_status = row.values[5];
    p.title = row.values[6];
    p.content_sha256 = row.values[7];
    // ClickHouse may hold a replaced row until it merges: the latest write wins.
    if (!out.empty() && out.back().measurement_uid == p.measurement_uid &&
        out.back().url == p.url) {
      out.back() = std::move(p);
    } else {
      out.push_back(std::move(p));
    }
  });
  if (!r.ok()) return Error{r.error()};
  return out;
}

Result<RescoreStats> Rescore(Store& s, const VerdictEngine& engine) {
  RescoreStats stats;
  stats.rules_version = engine.version();
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  std::vector<ExtractedMeasurement> facts;
  std::vector<VerdictRow> verdicts;
  auto flush = [&]() -> Result<void> {
    if (facts.empty()) return {};
    auto w = s.WriteVerdicts(facts, verdicts);
    facts.clear();
    verdicts.clear();
    return w;
  };
  auto scanned = ScanFacts(s, [&](ExtractedMeasurement& m) -> Result<void> {
    verdicts.push_back(engine.Score(m, now));
    // The verdict row carries the facts it is queried by; the rest is not needed.
    m.observations.clear();
    m.summary_json.clear();
    facts.push_back(std::move(m));
    ++stats.measurements;
    if (facts.size() >= kRescoreBatch) return flush();
    return {};
  });
  if (!scanned.ok()) return Error{scanned.error()};
  if (auto f = flush(); !f) return Error{f.error()};
  if (auto c = s.Commit(); !c) return Error{c.error()};
  return stats;
}

}  // namespace vigil::analysis
