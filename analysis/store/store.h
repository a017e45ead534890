// The analyzer's store: facts (measurements, observations) and verdicts (one row per
// measurement and rules version) behind one interface with two backends. SQLite is the
// embedded default, one file; ClickHouse, over its HTTP interface, is for data that
// outgrows one machine. Both keep the same tables with the same columns
// (docs/analysis.md "Store"), and every read (aggregation, drill-down, the facts for
// re-scoring) is the same SQL, built once in store.cc, so both give the same answers.
//
// Writes are idempotent by measurement_uid (and rules version for verdicts): ingesting a
// file twice, or re-scoring under a version already stored, replaces rows instead of
// adding them. Commit() makes the writes durable and visible to exact queries.
// A Store is used from one thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "analysis/model/rows.h"
#include "analysis/query/aggregation.h"
#include "base/result.h"

namespace vigil::analysis {

class VerdictEngine;

/// One row of a SELECT: every value as text (numbers in decimal), NULL flagged.
struct SqlRow {
  std::vector<std::string> values;
  std::vector<bool> null;
};
using SqlRowSink = std::function<void(const SqlRow&)>;

enum class SqlDialect : uint8_t { kSqlite, kClickHouse };

struct StoreCounts {
  uint64_t measurements = 0;
  uint64_t observations = 0;
  std::vector<std::pair<std::string, uint64_t>> verdicts;  // per rules version, sorted
};

/// One row of a verdict scan: column i as a number or as text (valid during the call).
class ScanRow {
 public:
  virtual ~ScanRow() = default;
  virtual int64_t Int(int column) const = 0;
  virtual std::string_view Text(int column) const = 0;
};
using ScanSink = std::function<void(const ScanRow&)>;
/// Makes the sink for one part of a scan (called once per part, before the scan).
using ScanSinkFactory = std::function<ScanSink(size_t part)>;

class Store {
 public:
  virtual ~Store() = default;

  /// "sqlite:/path/analysis.sqlite" or "clickhouse://host:port/db" (no credentials).
  virtual std::string Describe() const = 0;
  virtual SqlDialect dialect() const = 0;

  /// Adds (or replaces, by uid) measurements with their observations, and their
  /// verdicts (verdicts[i] belongs to facts[i]; verdicts may be empty to store facts only).
  virtual Result<void> Write(const std::vector<ExtractedMeasurement>& facts,
                             const std::vector<VerdictRow>& verdicts) = 0;
  /// Adds (or replaces) verdicts only; facts[i] is the measurement verdicts[i] scores.
  virtual Result<void> WriteVerdicts(const std::vector<ExtractedMeasurement>& facts,
                                     const std::vector<VerdictRow>& verdicts) = 0;
  /// Makes everything written so far durable, and exact for queries (ClickHouse merges
  /// the months written so that replaced rows are gone).
  virtual Result<void> Commit() = 0;

  /// Runs a SELECT in this store's dialect; rows in the order the query gives.
  virtual Result<void> Select(const std::string& sql, const SqlRowSink& sink) = 0;

  /// The cells of a resolved query as the engine groups them, before FinishAggregation
  /// (no empty buckets, any order). By default AggregationSql through Select; SQLite
  /// groups in memory instead, because its GROUP BY sorts every row (see sqlite_store.cc).
  virtual Result<std::vector<AggregationCell>> AggregateCells(const ResolvedQuery& query);

  /// Reads `columns` of the verdicts `where` selects (a " WHERE ..." of rules_version =
  /// `rules_version` and start_time in [since, until), and maybe more; the three are
  /// given apart for the store's choice of plan), handing each row to the sink of its
  /// part. By default one part through Select; SQLite splits a large scan over rowid
  /// ranges, one thread and connection each, up to `max_parts`, and reads the columns
  /// without converting them. Parts are made by make_sink(0..parts-1); the return value
  /// is the number of parts used.
  virtual Result<size_t> ScanVerdicts(const std::string& columns, const std::string& where,
                                      const std::string& rules_version, int64_t since,
                                      int64_t until, size_t max_parts,
                                      const ScanSinkFactory& make_sink);
};

/// Opens (and creates: the file, the database, the tables) a store:
///   PATH or sqlite:PATH            SQLite file (directories created)
///   clickhouse://HOST:PORT/DB      ClickHouse's HTTP interface (DB created); a query
///                                  string may set user=..., password=...
Result<std::unique_ptr<Store>> OpenStore(const std::string& spec);

/// $VIGIL_STORE, else $XDG_DATA_HOME/vigil/analysis.sqlite, else
/// ~/.local/share/vigil/analysis.sqlite.
std::string DefaultStoreSpec();

/// OpenStore(spec), or OpenStore(DefaultStoreSpec()) when `spec` is empty: the store
/// `vigil analyze` and `vigil collector` write to when no --store is given.
Result<std::unique_ptr<Store>> OpenStoreOrDefault(const std::string& spec);

/// What a store holds.
Result<StoreCounts> CountRows(Store& store);

/// The rules versions that have verdicts in the store.
Result<std::vector<std::string>> RulesVersions(Store& store);

/// `version` when not empty, else the newest rules version in the store; an error names
/// an empty store.
Result<std::string> RulesVersionOrNewest(Store& store, const std::string& version);

/// Resolves the query against the store (default window ending with the newest
/// measurement the filters match; newest rules version) and answers it.
Result<AggregationResult> Aggregate(Store& store, const AggregationQuery& query);

/// The measurements behind a query's cells (same filters and window), newest first,
/// at most `limit`; `outcome` narrows to one count of the cell.
Result<std::vector<MeasurementListing>> ListMeasurements(Store& store,
                                                         const AggregationQuery& query,
                                                         std::optional<Outcome> outcome,
                                                         size_t limit, ResolvedQuery* resolved);

/// Every stored measurement's facts, one UTC day at a time (days in order, within a day
/// by uid), rebuilt as ingest produced them.
Result<uint64_t> ScanFacts(Store& store,
                           const std::function<Result<void>(ExtractedMeasurement&)>& sink);

/// Which wechat_posts measurements ListPosts reads: started in [since, until), and of
/// this probe country and these networks when given.
struct PostQuery {
  int64_t since = 0;
  int64_t until = 0;
  std::string probe_cc;
  std::vector<uint32_t> probe_asns;
};

/// The posts of the wechat_posts measurements a query selects (the posts table), by URL,
/// then start time, then uid; each measurement once (its latest write).
Result<std::vector<PostRow>> ListPosts(Store& store, const PostQuery& query);

struct RescoreStats {
  uint64_t measurements = 0;
  std::string rules_version;
};

/// Scores every stored measurement with `engine` and stores the verdicts under its
/// version (replacing verdicts of that version; others are kept), then commits.
Result<RescoreStats> Rescore(Store& store, const VerdictEngine& engine);

/// The SQL the stores share (exposed for tests and docs).
std::string QuoteSql(SqlDialect dialect, std::string_view text);
/// "(1, 2, 3)" and "('a', 'b')": lists for IN.
std::string SqlList(const std::vector<uint32_t>& numbers);
std::string SqlList(SqlDialect dialect, const std::vector<std::string>& texts);
std::string AggregationSql(SqlDialect dialect, const ResolvedQuery& query);
/// " WHERE ..." selecting the verdicts a resolved query counts.
std::string VerdictFilterSql(SqlDialect dialect, const ResolvedQuery& query);

}  // namespace vigil::analysis
