// The embedded store: one SQLite file (WAL journal), the three tables of schema.h with
// a unique key each (INSERT OR REPLACE makes writes idempotent), indexes by time for
// windowed reads. Writes go into one transaction that Commit() ends (and that is also
// ended every kRowsPerTransaction measurements so the journal stays small).
#include <sqlite3.h>

#include <filesystem>

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
