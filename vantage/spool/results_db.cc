// One connection per ResultsDb, its prepared statements cached by SQL text, every call
// under one mutex. Writes run in BEGIN IMMEDIATE transactions, so that a writer waits
// for another process's write lock (busy timeout) at the start instead of failing on
// the upgrade from reader to writer; reads of several statements share one snapshot.
#include "vantage/spool/results_db.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <functional>
#include <mutex>

#include "base/utc_time.h"
#include "vantage/base/durable_file.h"

namespace vigil {
namespace {

// PRAGMA application_id: 'vgrs'. Tells our file from other SQLite files that also use
// user_version (the analysis store does).
constexpr int32_t kApplicationId = 0x76677273;
constexpr int kBusyTimeoutMs = 10000;

constexpr const char* kSchemaSql = R"sql(
CREATE TABLE IF NOT EXISTS runs (
  id INTEGER PRIMARY KEY,
  started_at TEXT NOT NULL,
  finished_at TEXT,
  target TEXT NOT NULL,
  probe_cc TEXT NOT NULL,
  probe_asn TEXT NOT NULL,
  network_name TEXT NOT NULL,
  measurement_count INTEGER NOT NULL DEFAULT 0,
  anomaly_count INTEGER NOT NULL DEFAULT 0,
  failure_count INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS measurements (
  uid TEXT PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES runs (id),
  test_name TEXT NOT NULL,
  input TEXT NOT NULL,
  start_time TEXT NOT NULL,
  probe_cc TEXT NOT NULL,
  probe_asn TEXT NOT NULL,
  verdict TEXT NOT NULL,
  blocking TEXT NOT NULL,
  anomaly INTEGER NOT NULL CHECK (anomaly IN (0, 1)),
  failure TEXT,
  spool_path TEXT NOT NULL,
  upload_state TEXT NOT NULL DEFAULT 'pending'
    CHECK (upload_state IN ('pending', 'uploaded', 'failed', 'disabled')),
  upload_attempts INTEGER NOT NULL DEFAULT 0,
  last_attempt_at TEXT,
  upload_error TEXT,
  collector TEXT,
  report_id TEXT,
  measurement_uid TEXT,
  uploaded_at TEXT
);
CREATE INDEX IF NOT EXISTS measurements_by_run ON measurements (run_id);
CREATE INDEX IF NOT EXISTS measurements_by_upload_state ON measurements (upload_state);
)sql";

constexpr const char* kRunColumns =
    "id, started_at, finished_at, target, probe_cc, probe_asn, network_name, "
    "measurement_count, anomaly_count, failure_count";
constexpr const char* kMeasurementColumns =
    "uid, run_id, test_name, input, start_time, probe_cc, probe_asn, verdict, blocking, "
    "anomaly, failure, spool_path, upload_state, upload_attempts, last_attempt_at, "
    "upload_error, collector, report_id, measurement_uid, uploaded_at";

constexpr UploadState kAllStates[] = {UploadState::kPending, UploadState::kUploaded,
                                      UploadState::kFailed, UploadState::kDisabled};

// One use of a cached statement: binds in order, resets and unbinds when done.
class Query {
 public:
  explicit Query(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~Query() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;

  Query& Text(std::string_view v) {
    // A null data pointer would bind NULL; an empty value is "".
    const char* data = v.data() != nullptr ? v.data() : "";
    return Check(
        sqlite3_bind_text(stmt_, ++index_, data, static_cast<int>(v.size()), SQLITE_TRANSIENT));
  }
  Query& OptionalText(const std::optional<std::string>& v) {
    return v ? Text(std::string_view(*v)) : Check(sqlite3_bind_null(stmt_, ++index_));
  }
  // "" as NULL: for the optional columns an UploadAttempt fills.
  Query& TextOrNull(std::string_view v) {
    return v.empty() ? Check(sqlite3_bind_null(stmt_, ++index_)) : Text(v);
  }
  Query& Int(int64_t v) { return Check(sqlite3_bind_int64(stmt_, ++index_, v)); }

  /// SQLITE_ROW, SQLITE_DONE or an error code (a failed bind's first).
  int Step() { return bind_rc_ != SQLITE_OK ? bind_rc_ : sqlite3_step(stmt_); }

  std::string String(int i) const {
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, i));
    return {text ? text : "", static_cast<size_t>(sqlite3_column_bytes(stmt_, i))};
  }
  std::optional<std::string> Optional(int i) const {
    if (sqlite3_column_type(stmt_, i) == SQLITE_NULL) return std::nullopt;
    return String(i);
  }
  int64_t Integer(int i) const { return sqlite3_column_int64(stmt_, i); }

 private:
  Query& Check(int rc) {
    if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
    return *this;
  }
  sqlite3_stmt* stmt_;
  int index_ = 0;
  int bind_rc_ = SQLITE_OK;
};

RunRow ReadRun(const Query& q) {
  RunRow r;
  r.id = q.Integer(0);
  r.started_at = q.String(1);
  r.finished_at = q.Optional(2);
  r.target = q.String(3);
  r.probe_cc = q.String(4);
  r.probe_asn = q.String(5);
  r.network_name = q.String(6);
  r.counts = {q.Integer(7), q.Integer(8), q.Integer(9)};
  return r;
}

MeasurementRow ReadMeasurement(const Query& q) {
  MeasurementRow m;
  m.uid = q.String(0);
  m.run_id = q.Integer(1);
  m.test_name = q.String(2);
  m.input = q.String(3);
  m.start_time = q.String(4);
  m.probe_cc = q.String(5);
  m.probe_asn = q.String(6);
  m.verdict = q.String(7);
  m.blocking = q.String(8);
  m.anomaly = q.Integer(9) != 0;
  m.failure = q.Optional(10);
  m.spool_path = q.String(11);
  // The CHECK constraint keeps the column to the four names.
  m.upload_state = ParseUploadState(q.String(12)).value_or(UploadState::kPending);
  m.upload_attempts = q.Integer(13);
  m.last_attempt_at = q.Optional(14);
  m.upload_error = q.Optional(15);
  m.collector = q.Optional(16);
  m.report_id = q.Optional(17);
  m.measurement_uid = q.Optional(18);
  m.uploaded_at = q.Optional(19);
  return m;
}

std::string ParentOf(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return "";
  return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

struct ResultsDb::Impl {
  std::string path;
  sqlite3* db = nullptr;
  std::mutex mu;
  std::map<std::string, sqlite3_stmt*, std::less<>> statements;

  ~Impl() {
    for (auto& [sql, stmt] : statements) sqlite3_finalize(stmt);
    sqlite3_close(db);
  }

  Error Fail(std::string_view what) const {
    return Error{path + ": " + std::string(what) + ": " +
                 (db ? sqlite3_errmsg(db) : "out of memory")};
  }

  Result<void> Exec(const char* sql, std::string_view what) {
    char* message = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &message) != SQLITE_OK) {
      Error e{path + ": " + std::string(what) + ": " + (message ? message : sqlite3_errmsg(db))};
      sqlite3_free(message);
      return e;
    }
    return {};
  }

  Result<sqlite3_stmt*> Prepare(std::string_view sql) {
    if (auto it = statements.find(sql); it != statements.end()) return it->second;
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr) !=
        SQLITE_OK) {
      return Fail("prepare");
    }
    statements.emplace(std::string(sql), stmt);
    return stmt;
  }

  // Runs `body` in a transaction ("BEGIN IMMEDIATE" for writes, "BEGIN" for reads),
  // committed if it succeeds and rolled back if not.
  Result<void> Transaction(const char* begin, const std::function<Result<void>()>& body) {
    if (auto b = Exec(begin, "begin transaction"); !b) return b;
    Result<void> r = body();
    if (r.ok()) r = Exec("COMMIT", "commit");
    if (!r.ok()) sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    return r;
  }

  // Runs a statement that returns no rows.
  Result<void> Run(Query& q, std::string_view what) {
    if (q.Step() != SQLITE_DONE) return Fail(what);
    return {};
  }

  // Runs a query, handing each row to `row`.
  Result<void> Rows(Query& q, std::string_view what, const std::function<void(const Query&)>& row) {
    while (true) {
      const int rc = q.Step();
      if (rc == SQLITE_DONE) return {};
      if (rc != SQLITE_ROW) return Fail(what);
      row(q);
    }
  }

  Result<int64_t> PragmaInt(const char* sql, std::string_view what) {
    auto stmt = Prepare(sql);
    if (!stmt.ok()) return Error{stmt.error()};
    Query q(*stmt);
    int64_t value = 0;
    if (auto r = Rows(q, what, [&](const Query& row) { value = row.Integer(0); }); !r) {
      return Error{r.error()};
    }
    return value;
  }

  Result<void> Init() {
    if (const std::string parent = ParentOf(path); !parent.empty()) {
      if (auto made = MakeDirectories(parent); !made.ok()) {
        return Error{"results database " + path + ": " + made.error()};
      }
    }
    // Created here rather than by SQLite so that it is the volunteer's alone (SQLite
    // gives its -wal and -shm files the database file's mode).
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return Error{path + ": cannot open: " + std::strerror(errno)};
    ::close(fd);
    // NOMUTEX: the Impl's mutex already serialises every use of the connection.
    if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) !=
        SQLITE_OK) {
      return Fail("cannot open");
    }
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, kBusyTimeoutMs);

    // Nothing is written before the file is known to be ours (or empty).
    auto application_id = PragmaInt("PRAGMA application_id", "cannot read");
    if (!application_id.ok()) return Error{application_id.error()};
    auto version = PragmaInt("PRAGMA user_version", "cannot read");
    if (!version.ok()) return Error{version.error()};
    auto tables = PragmaInt("SELECT count(*) FROM sqlite_master", "cannot read");
    if (!tables.ok()) return Error{tables.error()};
    if (*application_id != kApplicationId && (*application_id != 0 || *tables != 0)) {
      return Error{path + ": not a vigil results database (another program's SQLite file)"};
    }
    if (auto v = CheckVersion(*version); !v) return v;

    for (const char* pragma :
         {"PRAGMA journal_mode = WAL", "PRAGMA synchronous = FULL", "PRAGMA foreign_keys = ON"}) {
      if (auto r = Exec(pragma, pragma); !r) return r;
    }
    return Transaction("BEGIN IMMEDIATE", [&]() -> Result<void> {
      // Another process may have created the schema since the check above.
      auto now = PragmaInt("PRAGMA user_version", "read schema version");
      if (!now.ok()) return Error{now.error()};
      if (auto v = CheckVersion(*now); !v) return v;
      if (*now == kSchemaVersion) return {};
      if (auto r = Exec(kSchemaSql, "create schema"); !r) return r;
      const std::string stamp = "PRAGMA application_id = " + std::to_string(kApplicationId) +
                                "; PRAGMA user_version = " + std::to_string(kSchemaVersion);
      return Exec(stamp.c_str(), "set schema version");
    });
  }

  Result<void> CheckVersion(int64_t version) const {
    if (version > kSchemaVersion) {
      return Error{path + ": results database schema version " + std::to_string(version) +
                   " is newer than this vigil supports (" + std::to_string(kSchemaVersion) +
                   "); upgrade vigil or use another database file"};
    }
    return {};
  }

  Result<std::vector<MeasurementRow>> Measurements(std::string_view sql, std::string_view what,
                                                   const std::function<void(Query&)>& bind) {
    auto stmt = Prepare(sql);
    if (!stmt.ok()) return Error{stmt.error()};
    Query q(*stmt);
    bind(q);
    std::vector<MeasurementRow> out;
    if (auto r = Rows(q, what, [&](const Query& row) { out.push_back(ReadMeasurement(row)); });
        !r) {
      return Error{r.error()};
    }
    return out;
  }
};

std::string_view UploadStateName(UploadState state) {
  switch (state) {
    case UploadState::kPending:
      return "pending";
    case UploadState::kUploaded:
      return "uploaded";
    case UploadState::kFailed:
      return "failed";
    case UploadState::kDisabled:
      return "disabled";
  }
  return "pending";
}

std::optional<UploadState> ParseUploadState(std::string_view name) {
  for (UploadState s : kAllStates) {
    if (UploadStateName(s) == name) return s;
  }
  return std::nullopt;
}

ResultsDb::ResultsDb(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ResultsDb::~ResultsDb() = default;

const std::string& ResultsDb::path() const { return impl_->path; }

Result<std::unique_ptr<ResultsDb>> ResultsDb::Open(const std::string& path) {
  if (path.empty()) return Error{"results database: no file given"};
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  if (auto r = impl->Init(); !r) return Error{r.error()};
  return std::unique_ptr<ResultsDb>(new ResultsDb(std::move(impl)));
}

Result<int64_t> ResultsDb::BeginRun(const RunStart& run) {
  std::lock_guard lock(impl_->mu);
  auto stmt = impl_->Prepare(
      "INSERT INTO runs (started_at, target, probe_cc, probe_asn, network_name) "
      "VALUES (?, ?, ?, ?, ?)");
  if (!stmt.ok()) return Error{stmt.error()};
  Query q(*stmt);
  q.Text(run.started_at)
      .Text(run.target)
      .Text(run.probe_cc)
      .Text(run.probe_asn)
      .Text(run.network_name);
  if (auto r = impl_->Run(q, "begin run"); !r) return Error{r.error()};
  return static_cast<int64_t>(sqlite3_last_insert_rowid(impl_->db));
}

Result<void> ResultsDb::FinishRun(int64_t run_id, std::string_view finished_at,
                                  const RunCounts& counts) {
  std::lock_guard lock(impl_->mu);
  auto stmt = impl_->Prepare(
      "UPDATE runs SET finished_at = ?, measurement_count = ?, anomaly_count = ?, "
      "failure_count = ? WHERE id = ?");
  if (!stmt.ok()) return Error{stmt.error()};
  Query q(*stmt);
  q.Text(finished_at)
      .Int(counts.measurements)
      .Int(counts.anomalies)
      .Int(counts.failures)
      .Int(run_id);
  if (auto r = impl_->Run(q, "finish run " + std::to_string(run_id)); !r) return r;
  if (sqlite3_changes(impl_->db) == 0) {
    return Error{impl_->path + ": finish run " + std::to_string(run_id) + ": no such run"};
  }
  return {};
}

Result<void> ResultsDb::SetRunNetwork(int64_t run_id, std::string_view probe_cc,
                                      std::string_view probe_asn, std::string_view network_name) {
  std::lock_guard lock(impl_->mu);
  auto stmt =
      impl_->Prepare("UPDATE runs SET probe_cc = ?, probe_asn = ?, network_name = ? WHERE id = ?");
  if (!stmt.ok()) return Error{stmt.error()};
  Query q(*stmt);
  q.Text(probe_cc).Text(probe_asn).Text(network_name).Int(run_id);
  if (auto r = impl_->Run(q, "set the network of run " + std::to_string(run_id)); !r) return r;
  if (sqlite3_changes(impl_->db) == 0) {
    return Error{impl_->path + ": set the network of run " + std::to_string(run_id) +
                 ": no such run"};
  }
  return {};
}

Result<void> ResultsDb::AddMeasurement(const MeasurementRow& m) { return AddMeasurements({m}); }

Result<void> ResultsDb::AddMeasurements(const std::vector<MeasurementRow>& rows) {
  std::lock_guard lock(impl_->mu);
  return impl_->Transaction("BEGIN IMMEDIATE", [&]() -> Result<void> {
    for (const MeasurementRow& m : rows) {
      const std::string what = "add measurement " + m.uid;
      auto insert = impl_->Prepare(
          "INSERT INTO measurements (uid, run_id, test_name, input, start_time, probe_cc, "
          "probe_asn, verdict, blocking, anomaly, failure, spool_path, upload_state, "
          "upload_attempts, last_attempt_at, upload_error, collector, report_id, "
          "measurement_uid, uploaded_at) "
          "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
          "ON CONFLICT (uid) DO NOTHING");
      if (!insert.ok()) return Error{insert.error()};
      {
        Query q(*insert);
        q.Text(m.uid).Int(m.run_id).Text(m.test_name).Text(m.input).Text(m.start_time);
        q.Text(m.probe_cc).Text(m.probe_asn).Text(m.verdict).Text(m.blocking);
        q.Int(m.anomaly ? 1 : 0).OptionalText(m.failure).Text(m.spool_path);
        q.Text(UploadStateName(m.upload_state))
            .Int(m.upload_attempts)
            .OptionalText(m.last_attempt_at);
        q.OptionalText(m.upload_error)
            .OptionalText(m.collector)
            .OptionalText(m.report_id)
            .OptionalText(m.measurement_uid);
        q.OptionalText(m.uploaded_at);
        if (auto r = impl_->Run(q, what); !r) return r;
      }
      if (sqlite3_changes(impl_->db) == 0) continue;  // already there
      auto count = impl_->Prepare(
          "UPDATE runs SET measurement_count = measurement_count + 1, "
          "anomaly_count = anomaly_count + ?, failure_count = failure_count + ? WHERE id = ?");
      if (!count.ok()) return Error{count.error()};
      Query q(*count);
      q.Int(m.anomaly ? 1 : 0).Int(m.failure ? 1 : 0).Int(m.run_id);
      if (auto r = impl_->Run(q, what); !r) return r;
    }
    return {};
  });
}

Result<std::vector<RunRow>> ResultsDb::ListRuns(size_t limit) {
  std::lock_guard lock(impl_->mu);
  auto stmt =
      impl_->Prepare(std::string("SELECT ") + kRunColumns + " FROM runs ORDER BY id DESC LIMIT ?");
  if (!stmt.ok()) return Error{stmt.error()};
  Query q(*stmt);
  q.Int(limit == 0 ? -1 : static_cast<int64_t>(limit));
  std::vector<RunRow> out;
  if (auto r = impl_->Rows(q, "list runs", [&](const Query& row) { out.push_back(ReadRun(row)); });
      !r) {
    return Error{r.error()};
  }
  return out;
}

Result<std::optional<RunWithMeasurements>> ResultsDb::GetRun(int64_t run_id) {
  std::lock_guard lock(impl_->mu);
  const std::string what = "read run " + std::to_string(run_id);
  std::optional<RunWithMeasurements> out;
  auto r = impl_->Transaction("BEGIN", [&]() -> Result<void> {
    auto stmt = impl_->Prepare(std::string("SELECT ") + kRunColumns + " FROM runs WHERE id = ?");
    if (!stmt.ok()) return Error{stmt.error()};
    {
      Query q(*stmt);
      q.Int(run_id);
      auto rows = impl_->Rows(q, what, [&](const Query& row) {
        out.emplace();
        out->run = ReadRun(row);
      });
      if (!rows) return rows;
    }
    if (!out) return {};
    auto measurements =
        impl_->Measurements(std::string("SELECT ") + kMeasurementColumns +
                                " FROM measurements WHERE run_id = ? ORDER BY rowid",
                            what, [&](Query& q) { q.Int(run_id); });
    if (!measurements.ok()) return Error{measurements.error()};
    out->measurements = std::move(*measurements);
    return {};
  });
  if (!r) return Error{r.error()};
  return out;
}

Result<std::optional<MeasurementRow>> ResultsDb::GetMeasurement(std::string_view uid) {
  std::lock_guard lock(impl_->mu);
  auto rows = impl_->Measurements(
      std::string("SELECT ") + kMeasurementColumns + " FROM measurements WHERE uid = ?",
      "read measurement " + std::string(uid), [&](Query& q) { q.Text(uid); });
  if (!rows.ok()) return Error{rows.error()};
  if (rows->empty()) return std::optional<MeasurementRow>();
  return std::optional<MeasurementRow>(std::move(rows->front()));
}

Result<std::vector<MeasurementRow>> ResultsDb::ListMeasurements(const MeasurementFilter& filter) {
  std::lock_guard lock(impl_->mu);
  // One statement per shape of filter (a handful), cached like the others.
  std::string sql = std::string("SELECT ") + kMeasurementColumns + " FROM measurements";
  std::string where;
  if (filter.run_id) where += "run_id = ?";
  if (!filter.upload_states.empty()) {
    if (!where.empty()) where += " AND ";
    where += "upload_state IN (";
    for (size_t i = 0; i < filter.upload_states.size(); ++i) where += i ? ", ?" : "?";
    where += ")";
  }
  if (!where.empty()) sql += " WHERE " + where;
  sql += " ORDER BY rowid LIMIT ?";
  return impl_->Measurements(sql, "list measurements", [&](Query& q) {
    if (filter.run_id) q.Int(*filter.run_id);
    for (UploadState s : filter.upload_states) q.Text(UploadStateName(s));
    q.Int(filter.limit == 0 ? -1 : static_cast<int64_t>(filter.limit));
  });
}

Result<void> ResultsDb::RecordUploadAttempt(const UploadAttempt& a) {
  std::lock_guard lock(impl_->mu);
  const std::string what = "record upload of " + a.uid;
  return impl_->Transaction("BEGIN IMMEDIATE", [&]() -> Result<void> {
    auto count = impl_->Prepare(
        "UPDATE measurements SET upload_attempts = upload_attempts + 1, last_attempt_at = ? "
        "WHERE uid = ?");
    if (!count.ok()) return Error{count.error()};
    {
      Query q(*count);
      q.Text(a.at).Text(a.uid);
      if (auto r = impl_->Run(q, what); !r) return r;
    }
    if (sqlite3_changes(impl_->db) == 0) {
      return Error{impl_->path + ": " + what + ": no such measurement"};
    }
    if (a.ok) {
      auto stmt = impl_->Prepare(
          "UPDATE measurements SET upload_state = 'uploaded', upload_error = NULL, "
          "collector = ?, report_id = ?, measurement_uid = ?, uploaded_at = ? WHERE uid = ?");
      if (!stmt.ok()) return Error{stmt.error()};
      Query q(*stmt);
      q.TextOrNull(a.collector).TextOrNull(a.report_id).TextOrNull(a.measurement_uid);
      q.Text(a.at).Text(a.uid);
      return impl_->Run(q, what);
    }
    auto stmt = impl_->Prepare(
        "UPDATE measurements SET upload_state = 'failed', upload_error = ?, collector = ? "
        "WHERE uid = ? AND upload_state != 'uploaded'");
    if (!stmt.ok()) return Error{stmt.error()};
    Query q(*stmt);
    q.Text(a.error.empty() ? std::string_view("unknown error") : std::string_view(a.error));
    q.TextOrNull(a.collector).Text(a.uid);
    return impl_->Run(q, what);
  });
}

Result<std::map<UploadState, int64_t>> ResultsDb::CountByUploadState() {
  std::lock_guard lock(impl_->mu);
  std::map<UploadState, int64_t> out;
  for (UploadState s : kAllStates) out[s] = 0;
  auto stmt =
      impl_->Prepare("SELECT upload_state, count(*) FROM measurements GROUP BY upload_state");
  if (!stmt.ok()) return Error{stmt.error()};
  Query q(*stmt);
  auto r = impl_->Rows(q, "count by upload state", [&](const Query& row) {
    if (auto s = ParseUploadState(row.String(0))) out[*s] = row.Integer(1);
  });
  if (!r) return Error{r.error()};
  return out;
}

}  // namespace vigil
