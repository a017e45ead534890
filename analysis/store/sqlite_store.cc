// The embedded store: one SQLite file (WAL journal), the three tables of schema.h with
// a unique key each (INSERT OR REPLACE makes writes idempotent), indexes by time for
// windowed reads. Writes go into one transaction that Commit() ends (and that is also
// ended every kRowsPerTransaction measurements so the journal stays small).
#include <sqlite3.h>

#include <filesystem>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "analysis/store/schema.h"

namespace vigil::analysis::store {
namespace {

constexpr int kSchemaVersion = 1;
constexpr uint64_t kRowsPerTransaction = 50000;

const char* SqliteType(ColumnType t) {
  switch (t) {
    case ColumnType::kReal: return "REAL";
    case ColumnType::kText:
    case ColumnType::kNullableText: return "TEXT";
    default: return "INTEGER";
  }
}

std::string CreateTableSql(const Table& t) {
  std::string sql = std::string("CREATE TABLE IF NOT EXISTS ") + t.name + " (";
  for (const auto& c : t.columns) {
    sql += std::string(c.name) + " " + SqliteType(c.type);
    if (c.type != ColumnType::kNullableText) sql += " NOT NULL";
    sql += ", ";
  }
  sql += std::string("UNIQUE (") + t.unique_by + "))";
  return sql;
}

std::string InsertSql(const Table& t) {
  std::string sql = std::string("INSERT OR REPLACE INTO ") + t.name + " VALUES (";
  for (size_t i = 0; i < t.columns.size(); ++i) sql += i ? ", ?" : "?";
  return sql + ")";
}

class Statement {
 public:
  Statement() = default;
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  sqlite3_stmt** out() { return &stmt_; }
  sqlite3_stmt* get() const { return stmt_; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

// Binds values to a statement's parameters in order.
class Binder : public ValueSink {
 public:
  explicit Binder(sqlite3_stmt* stmt) : stmt_(stmt) {}
  void Int(int64_t v) override { sqlite3_bind_int64(stmt_, ++i_, v); }
  void Real(double v) override { sqlite3_bind_double(stmt_, ++i_, v); }
  void Text(std::string_view v) override {
    sqlite3_bind_text(stmt_, ++i_, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }
  void Null() override { sqlite3_bind_null(stmt_, ++i_); }

 private:
  sqlite3_stmt* stmt_;
  int i_ = 0;
};

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using StringSet = std::unordered_set<std::string, StringHash, std::equal_to<>>;

std::string_view ColumnText(sqlite3_stmt* stmt, int i) {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, i));
  return {text ? text : "", static_cast<size_t>(sqlite3_column_bytes(stmt, i))};
}

// One cell being counted in memory.
struct CellAcc {
  AggregationCell cell;
  StringSet reports;
  std::unordered_set<uint64_t> networks;  // cc (two letters) and ASN packed
  StringSet other_networks;               // the rare cc that is not two letters
};

class SqliteStore : public Store {
 public:
  explicit SqliteStore(std::string path) : path_(std::move(path)) {}
  ~SqliteStore() override {
    if (db_ && in_transaction_) Exec("COMMIT");
    for (auto* s : {&insert_measurement_, &insert_observation_, &insert_verdict_,
                    &delete_observations_}) {
      s->reset();
    }
    sqlite3_close(db_);
  }

  Result<void> Open() {
    std::error_code ec;
    const auto parent = std::filesystem::path(path_).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    if (sqlite3_open_v2(path_.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                        nullptr) != SQLITE_OK) {
      return Fail("cannot open");
    }
    sqlite3_busy_timeout(db_, 10000);
    int version = 0;
    auto r = Select("PRAGMA user_version", [&](const SqlRow& row) {
      version = std::atoi(row.values[0].c_str());
    });
    if (!r.ok()) return r;
    bool empty = true;
    r = Select("SELECT 1 FROM sqlite_master WHERE type = 'table' LIMIT 1",
               [&](const SqlRow&) { empty = false; });
    if (!r.ok()) return r;
    if (!empty && version != kSchemaVersion) {
      return Error{Describe() + ": not a vigil analysis store (schema version " +
                   std::to_string(version) + ", expected " + std::to_string(kSchemaVersion) + ")"};
    }
    for (const std::string& sql :
         {std::string("PRAGMA journal_mode = WAL"), std::string("PRAGMA synchronous = NORMAL"),
          CreateTableSql(MeasurementsTable()), CreateTableSql(ObservationsTable()),
          CreateTableSql(VerdictsTable()),
          std::string("CREATE INDEX IF NOT EXISTS measurements_time ON measurements (start_time)"),
          std::string("CREATE INDEX IF NOT EXISTS observations_time ON observations (start_time)"),
          std::string("CREATE INDEX IF NOT EXISTS verdicts_version_time ON verdicts "
                      "(rules_version, start_time)"),
          "PRAGMA user_version = " + std::to_string(kSchemaVersion)}) {
      if (auto e = Exec(sql); !e) return e;
    }
    for (auto [stmt, sql] :
         {std::pair{&insert_measurement_, InsertSql(MeasurementsTable())},
          std::pair{&insert_observation_, InsertSql(ObservationsTable())},
          std::pair{&insert_verdict_, InsertSql(VerdictsTable())},
          std::pair{&delete_observations_,
                    std::string("DELETE FROM observations WHERE measurement_uid = ?")}}) {
      *stmt = std::make_unique<Statement>();
      if (sqlite3_prepare_v2(db_, sql.c_str(), -1, (*stmt)->out(), nullptr) != SQLITE_OK) {
        return Fail("prepare");
      }
    }
    return {};
  }

  std::string Describe() const override { return "sqlite:" + path_; }
  SqlDialect dialect() const override { return SqlDialect::kSqlite; }

  Result<void> Write(const std::vector<ExtractedMeasurement>& facts,
                     const std::vector<VerdictRow>& verdicts) override {
    if (auto b = Begin(); !b) return b;
    const int64_t stamp = WriteStamp();
    for (const ExtractedMeasurement& m : facts) {
      sqlite3_stmt* del = delete_observations_->get();
      sqlite3_bind_text(del, 1, m.measurement.measurement_uid.data(),
                        static_cast<int>(m.measurement.measurement_uid.size()), SQLITE_STATIC);
      if (auto s = Step(del); !s) return s;
      {
        Binder b(insert_measurement_->get());
        MeasurementValues(m, stamp, b);
      }
      if (auto s = Step(insert_measurement_->get()); !s) return s;
      for (const ObservationRow& o : m.observations) {
        Binder b(insert_observation_->get());
        ObservationValues(m, o, stamp, b);
        if (auto s = Step(insert_observation_->get()); !s) return s;
      }
    }
    if (!verdicts.empty()) {
      if (auto w = WriteVerdicts(facts, verdicts); !w) return w;
    }
    pending_ += facts.size();
    if (pending_ >= kRowsPerTransaction) return Commit();
    return {};
  }

  Result<void> WriteVerdicts(const std::vector<ExtractedMeasurement>& facts,
                             const std::vector<VerdictRow>& verdicts) override {
    if (facts.size() != verdicts.size()) return Error{"verdicts and facts differ in number"};
    if (auto b = Begin(); !b) return b;
    const int64_t stamp = WriteStamp();
    for (size_t i = 0; i < verdicts.size(); ++i) {
      Binder b(insert_verdict_->get());
      VerdictValues(facts[i], verdicts[i], stamp, b);
      if (auto s = Step(insert_verdict_->get()); !s) return s;
    }
    pending_ += verdicts.size();
    if (pending_ >= kRowsPerTransaction) return Commit();
    return {};
  }

  Result<void> Commit() override {
    pending_ = 0;
    if (!in_transaction_) return {};
    in_transaction_ = false;
    return Exec("COMMIT");
  }

  // SQLite's GROUP BY sorts every matching row (and its count(DISTINCT) sorts again): on
  // ten million rows that takes minutes' worth of seconds. One scan that counts into a
  // hash table gives the same cells (the cross-backend tests hold it to ClickHouse's)
  // several times faster. The time index is used only for windows that cover a small
  // part of the stored time, where skipping rows beats reading them in order.
  Result<std::vector<AggregationCell>> AggregateCells(const ResolvedQuery& q) override {
    std::vector<Axis> text_axes;  // axes read as a column of their own
    std::string sql = "SELECT start_time, outcome, report_id, probe_cc, probe_asn";
    for (Axis a : q.query.axes) {
      if (a == Axis::kTime || a == Axis::kCc || a == Axis::kAsn) continue;
      text_axes.push_back(a);
      sql += std::string(", ") + AxisColumn(a);
    }
    auto hint = IndexHint(q);
    if (!hint.ok()) return Error{hint.error()};
    sql += " FROM verdicts " + *hint + VerdictFilterSql(SqlDialect::kSqlite, q);
    Statement stmt;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, stmt.out(), nullptr) != SQLITE_OK) {
      return Fail("query");
    }
    std::unordered_map<std::string, CellAcc, StringHash, std::equal_to<>> cells;
    std::string key;
    sqlite3_stmt* st = stmt.get();
    while (true) {
      const int rc = sqlite3_step(st);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) return Fail("query");
      const int64_t start_time = sqlite3_column_int64(st, 0);
      const int outcome = sqlite3_column_int(st, 1);
      const std::string_view report = ColumnText(st, 2);
      const std::string_view cc = ColumnText(st, 3);
      const auto asn = static_cast<uint32_t>(sqlite3_column_int64(st, 4));
      key.clear();
      int column = 5;
      for (Axis a : q.query.axes) {
        switch (a) {
          case Axis::kTime: {
            const int64_t b = BucketStart(start_time, q.grain);
            key.append(reinterpret_cast<const char*>(&b), sizeof b);
            break;
          }
          case Axis::kCc: key.append(cc); break;
          case Axis::kAsn: key.append(reinterpret_cast<const char*>(&asn), sizeof asn); break;
          default: key.append(ColumnText(st, column++)); break;
        }
        key.push_back('\x1f');
      }
      auto it = cells.find(std::string_view(key));
      if (it == cells.end()) {
        CellAcc acc;
        int c = 5;
        for (Axis a : q.query.axes) {
          switch (a) {
            case Axis::kTime: acc.cell.time = BucketStart(start_time, q.grain); break;
            case Axis::kCc: acc.cell.probe_cc = cc; break;
            case Axis::kAsn: acc.cell.probe_asn = asn; break;
            case Axis::kTarget: acc.cell.target = ColumnText(st, c++); break;
            case Axis::kInput: acc.cell.input = ColumnText(st, c++); break;
            case Axis::kCategory: acc.cell.category_code = ColumnText(st, c++); break;
            case Axis::kTest: acc.cell.test_name = ColumnText(st, c++); break;
            case Axis::kBlockingType: acc.cell.blocking_type = ColumnText(st, c++); break;
          }
        }
        it = cells.emplace(key, std::move(acc)).first;
      }
      CellAcc& acc = it->second;
      AggregationCell& cell = acc.cell;
      ++cell.measurement_count;
      switch (outcome) {
        case 0: ++cell.ok_count; break;
        case 1: ++cell.anomaly_count; break;
        case 2: ++cell.confirmed_count; break;
        default: ++cell.failure_count; break;
      }
      if (!report.empty() && acc.reports.find(report) == acc.reports.end()) {
        acc.reports.emplace(report);
      }
      if (cc.size() == 2) {
        acc.networks.insert((static_cast<uint64_t>(static_cast<unsigned char>(cc[0])) << 40) |
                            (static_cast<uint64_t>(static_cast<unsigned char>(cc[1])) << 32) | asn);
      } else {
        acc.other_networks.insert(std::string(cc) + ":" + std::to_string(asn));
      }
    }
    std::vector<AggregationCell> out;
    out.reserve(cells.size());
    for (auto& [k, acc] : cells) {
      acc.cell.probe_count = acc.reports.size();
      acc.cell.network_count = acc.networks.size() + acc.other_networks.size();
      out.push_back(std::move(acc.cell));
    }
    if (q.query.axes.empty() && out.empty()) out.emplace_back();  // as SQL answers: zeros
    return out;
  }

  Result<void> Select(const std::string& sql, const SqlRowSink& sink) override {
    Statement stmt;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, stmt.out(), nullptr) != SQLITE_OK) {
      return Fail("query");
    }
    const int n = sqlite3_column_count(stmt.get());
    SqlRow row;
    row.values.resize(static_cast<size_t>(n));
    row.null.resize(static_cast<size_t>(n));
    while (true) {
      const int rc = sqlite3_step(stmt.get());
      if (rc == SQLITE_DONE) return {};
      if (rc != SQLITE_ROW) return Fail("query");
      for (int i = 0; i < n; ++i) {
        const auto k = static_cast<size_t>(i);
        row.null[k] = sqlite3_column_type(stmt.get(), i) == SQLITE_NULL;
        const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt.get(), i));
        row.values[k].assign(text ? text : "", static_cast<size_t>(sqlite3_column_bytes(stmt.get(), i)));
      }
      sink(row);
    }
  }

 private:
  Error Fail(const std::string& what) const {
    return Error{Describe() + ": " + what + ": " + (db_ ? sqlite3_errmsg(db_) : "out of memory")};
  }

  // INDEXED BY the time index when the window holds under a fifth of the version's
  // stored time span, else NOT INDEXED (a scan in table order).
  Result<std::string> IndexHint(const ResolvedQuery& q) {
    const std::string v = QuoteSql(SqlDialect::kSqlite, q.rules_version);
    int64_t lo = 0, hi = 0;
    bool any = false;
    auto r = Select("SELECT (SELECT min(start_time) FROM verdicts WHERE rules_version = " + v +
                        "), (SELECT max(start_time) FROM verdicts WHERE rules_version = " + v + ")",
                    [&](const SqlRow& row) {
                      if (row.null[0] || row.null[1]) return;
                      any = true;
                      lo = std::stoll(row.values[0]);
                      hi = std::stoll(row.values[1]) + 1;
                    });
    if (!r.ok()) return Error{r.error()};
    if (!any) return std::string("NOT INDEXED");
    const int64_t overlap = std::min(hi, q.until) - std::max(lo, q.since);
    return std::string(overlap * 5 < (hi - lo) ? "INDEXED BY verdicts_version_time" : "NOT INDEXED");
  }

  Result<void> Exec(const std::string& sql) {
    char* message = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
      Error e{Describe() + ": " + (message ? message : "error") + " (in: " + sql.substr(0, 80) + ")"};
      sqlite3_free(message);
      return e;
    }
    return {};
  }

  Result<void> Begin() {
    if (in_transaction_) return {};
    if (auto e = Exec("BEGIN IMMEDIATE"); !e) return e;
    in_transaction_ = true;
    return {};
  }

  Result<void> Step(sqlite3_stmt* stmt) {
    const int rc = sqlite3_step(stmt);
    if (rc != SQLITE_DONE) {
      Error e = Fail("write");
      sqlite3_reset(stmt);
      sqlite3_clear_bindings(stmt);
      return e;
    }
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    return {};
  }

  std::string path_;
  sqlite3* db_ = nullptr;
  bool in_transaction_ = false;
  uint64_t pending_ = 0;
  std::unique_ptr<Statement> insert_measurement_, insert_observation_, insert_verdict_,
      delete_observations_;
};

}  // namespace

Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path) {
  auto s = std::make_unique<SqliteStore>(path);
  if (auto r = s->Open(); !r) return Error{r.error()};
  return std::unique_ptr<Store>(std::move(s));
}

}  // namespace vigil::analysis::store
