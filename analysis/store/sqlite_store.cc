// The embedded store: one SQLite file (WAL journal), the tables of schema.h with
// a unique key each (INSERT OR REPLACE makes writes idempotent), indexes by time for
// windowed reads. Writes go into one transaction that Commit() ends (and that is also
// ended every kRowsPerTransaction rows so the journal stays small); checkpoints run on
// a thread of their own.
#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "analysis/store/schema.h"
#include "base/post_status.h"

namespace vigil::analysis::store {
namespace {

// 2: verdicts.verdict (the verdict class) added; a version 1 store gains the column,
// empty in the rows it holds until they are analysed again. 3: the verdicts' columns for
// time series (MigrateToSchema3). 4: the posts table (MigrateToSchema4).
constexpr int kSchemaVersion = 4;
// The write-ahead log is copied into the file and cut back past this size (see Commit).
constexpr uintmax_t kMaxWalBytes = uintmax_t{1} << 30;
constexpr uint64_t kRowsPerTransaction = 20000;

const char* SqliteType(ColumnType t) {
  switch (t) {
    case ColumnType::kReal:
      return "REAL";
    case ColumnType::kText:
    case ColumnType::kNullableText:
      return "TEXT";
    default:
      return "INTEGER";
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

std::string InsertSql(const Table& t, const char* conflict = "REPLACE") {
  std::string sql = std::string("INSERT OR ") + conflict + " INTO " + t.name + " VALUES (";
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

// Binds values to a statement's parameters in order, without copies: text points into
// the row being written (valid until the statement is stepped), values made for the row
// are kept in `owned` (one slot per parameter, buffers reused from row to row).
class Binder : public ValueSink {
 public:
  Binder(sqlite3_stmt* stmt, std::vector<std::string>* owned) : stmt_(stmt), owned_(owned) {
    // A slot for every parameter up front: growing the vector later would move the
    // strings already bound (SQLITE_STATIC), leaving SQLite pointers to freed memory.
    owned_->reserve(static_cast<size_t>(sqlite3_bind_parameter_count(stmt_)) + 1);
  }
  void Int(int64_t v) override { sqlite3_bind_int64(stmt_, ++i_, v); }
  void Real(double v) override { sqlite3_bind_double(stmt_, ++i_, v); }
  void Text(std::string_view v) override {
    sqlite3_bind_text(stmt_, ++i_, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
  }
  void OwnedText(std::string v) override {
    const auto slot = static_cast<size_t>(i_);
    if (owned_->size() <= slot) owned_->resize(slot + 1);
    (*owned_)[slot] = std::move(v);
    Text((*owned_)[slot]);
  }
  void Null() override { sqlite3_bind_null(stmt_, ++i_); }

 private:
  sqlite3_stmt* stmt_;
  std::vector<std::string>* owned_;
  int i_ = 0;
};

std::string_view ColumnText(sqlite3_stmt* stmt, int i) {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, i));
  return {text ? text : "", static_cast<size_t>(sqlite3_column_bytes(stmt, i))};
}

// uint64 -> uint32 with open addressing (linear probing, power-of-two size): the
// aggregation below looks up several keys per row, and std::unordered_map's node per
// entry and modulo by a prime cost more than SQLite's own scan. ~0 is not a key.
class FlatMap64 {
 public:
  FlatMap64() : slots_(64, Slot{kEmpty, 0}), mask_(63) {}
  /// The value of `key`, inserting `value` when absent; *added says which.
  uint32_t FindOrAdd(uint64_t key, uint32_t value, bool* added) {
    if ((size_ + 1) * 2 > slots_.size()) Grow();
    size_t i = Hash(key) & mask_;
    while (true) {
      Slot& s = slots_[i];
      if (s.key == key) {
        *added = false;
        return s.value;
      }
      if (s.key == kEmpty) {
        s = Slot{key, value};
        ++size_;
        *added = true;
        return value;
      }
      i = (i + 1) & mask_;
    }
  }
  template <typename F>
  void ForEachKey(F f) const {
    for (const Slot& s : slots_) {
      if (s.key != kEmpty) f(s.key);
    }
  }

 private:
  static constexpr uint64_t kEmpty = ~0ULL;
  struct Slot {
    uint64_t key;
    uint32_t value;
  };
  static size_t Hash(uint64_t k) {  // MurmurHash3's finalizer: every bit moves every bit
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ULL;
    k ^= k >> 33;
    return static_cast<size_t>(k);
  }
  void Grow() {
    std::vector<Slot> old(slots_.size() * 2, Slot{kEmpty, 0});
    old.swap(slots_);
    mask_ = slots_.size() - 1;
    size_ = 0;
    bool added = false;
    for (const Slot& s : old) {
      if (s.key != kEmpty) FindOrAdd(s.key, s.value, &added);
    }
  }
  std::vector<Slot> slots_;
  size_t mask_;
  size_t size_ = 0;
};

// Small integer ids for the distinct strings of one column, in order of appearance.
class Interner {
 public:
  uint32_t Id(std::string_view v) {
    // The same value as the previous row's is the common case (cc, test, category).
    if (last_ != kNone && v == values_[last_]) return last_;
    bool added = false;
    uint32_t id = 0;
    if (v.size() <= 7) {
      // Short values (countries, blocking types, most tests) are their own key, exactly:
      // the bytes, and the length in the top byte (bit 63 set marks the kind).
      uint64_t key = (1ULL << 63) | (static_cast<uint64_t>(v.size()) << 56);
      for (size_t i = 0; i < v.size(); ++i) {
        key |= static_cast<uint64_t>(static_cast<unsigned char>(v[i])) << (8 * i);
      }
      id = by_hash_.FindOrAdd(key, static_cast<uint32_t>(values_.size()), &added);
      if (added) values_.emplace_back(v);
      last_ = id;
      return id;
    }
    const uint64_t h = std::hash<std::string_view>{}(v) & ~(1ULL << 63);
    // Distinct strings may share a hash: chain them through `collisions_`.
    id = by_hash_.FindOrAdd(h, static_cast<uint32_t>(values_.size()), &added);
    if (added) {
      values_.emplace_back(v);
    } else {
      while (values_[id] != v) {
        auto next = collisions_.find(id);
        if (next == collisions_.end()) {
          const auto fresh = static_cast<uint32_t>(values_.size());
          values_.emplace_back(v);
          collisions_.emplace(id, fresh);
          id = fresh;
          break;
        }
        id = next->second;
      }
    }
    last_ = id;
    return id;
  }
  const std::string& Value(uint32_t id) const { return values_[id]; }
  size_t size() const { return values_.size(); }

 private:
  static constexpr uint32_t kNone = ~0U;
  FlatMap64 by_hash_;
  std::unordered_map<uint32_t, uint32_t> collisions_;
  std::vector<std::string> values_;
  uint32_t last_ = kNone;
};

class NumberInterner {
 public:
  uint32_t Id(uint64_t v) {
    bool added = false;
    const uint32_t id = ids_.FindOrAdd(v, static_cast<uint32_t>(values_.size()), &added);
    if (added) values_.push_back(v);
    return id;
  }
  uint64_t Value(uint32_t id) const { return values_[id]; }
  size_t size() const { return values_.size(); }

 private:
  FlatMap64 ids_;
  std::vector<uint64_t> values_;
};

// At most 2^21 distinct values per axis, so that three ids pack into one key.
constexpr uint32_t kMaxAxisValues = 1u << 21;

uint64_t Mix(uint64_t k) {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdULL;
  k ^= k >> 33;
  k *= 0xc4ceb9fe1a85ec53ULL;
  k ^= k >> 33;
  return k;
}

// A (cell, value) pair as one set key; bit 63 clear so that it is never FlatMap64's ~0.
uint64_t PairKey(uint32_t cell, uint64_t value) {
  return Mix(value ^ Mix(cell + 0x9e3779b97f4a7c15ULL)) & ~(1ULL << 63);
}

// The cells of one scan (a range of rows), before they are merged with other scans'.
// Distinct reports and networks are kept as (cell, value) pairs, each once; a report is
// its 64-bit hash (as ClickHouse's uniqExact counts distinct hashes of strings: two
// report ids merge only if their hashes collide), a network its packed cc and ASN.
struct PartialCells {
  Interner text[kMaxAxes];
  NumberInterner times, asns;
  FlatMap64 cell_ids;
  std::vector<uint64_t> keys;
  std::vector<std::array<uint64_t, 4>> counts;  // by outcome
  FlatMap64 seen_reports, seen_networks;
  std::vector<std::pair<uint32_t, uint64_t>> reports, networks;
  Interner long_networks;
  std::string error;
};

uint32_t AxisId(uint64_t key, size_t i) {
  return static_cast<uint32_t>((key >> (21 * i)) & (kMaxAxisValues - 1));
}

// Reads `stmt`'s rows (start_time, outcome, report_id, probe_cc, probe_asn, then the
// text axes in order) into `out`.
void ScanCells(sqlite3_stmt* st, const ResolvedQuery& q, PartialCells* out) {
  const std::vector<Axis>& axes = q.query.axes;
  int64_t last_time = 0, last_bucket = 0;
  uint32_t last_bucket_id = 0;
  bool have_bucket = false;
  bool added = false;
  while (true) {
    const int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) return;
    if (rc != SQLITE_ROW) {
      out->error = sqlite3_errmsg(sqlite3_db_handle(st));
      return;
    }
    const int64_t start_time = sqlite3_column_int64(st, 0);
    const int outcome = std::clamp(sqlite3_column_int(st, 1), 0, 3);
    const std::string_view cc = ColumnText(st, 3);
    const auto asn = static_cast<uint32_t>(sqlite3_column_int64(st, 4));
    uint64_t key = 0;
    int column = 5;
    for (size_t i = 0; i < axes.size(); ++i) {
      uint32_t id = 0;
      switch (axes[i]) {
        case Axis::kTime:
          // Rows come roughly in time order: most fall in the previous row's bucket.
          if (!have_bucket || start_time < last_bucket || start_time >= last_time) {
            last_bucket = BucketStart(start_time, q.grain);
            last_time = NextBucket(last_bucket, q.grain);
            last_bucket_id = out->times.Id(static_cast<uint64_t>(last_bucket));
            have_bucket = true;
          }
          id = last_bucket_id;
          break;
        case Axis::kCc:
          id = out->text[i].Id(cc);
          break;
        case Axis::kAsn:
          id = out->asns.Id(asn);
          break;
        default:
          id = out->text[i].Id(ColumnText(st, column++));
          break;
      }
      if (id >= kMaxAxisValues) {
        out->error = "more than " + std::to_string(kMaxAxisValues) + " distinct values on the " +
                     AxisName(axes[i]) + " axis; filter first";
        return;
      }
      key |= static_cast<uint64_t>(id) << (21 * i);
    }
    const uint32_t cell =
        out->cell_ids.FindOrAdd(key, static_cast<uint32_t>(out->keys.size()), &added);
    if (added) {
      out->keys.push_back(key);
      out->counts.push_back({});
    }
    ++out->counts[cell][static_cast<size_t>(outcome)];
    const std::string_view report = ColumnText(st, 2);
    if (!report.empty()) {
      const uint64_t h = std::hash<std::string_view>{}(report);
      out->seen_reports.FindOrAdd(PairKey(cell, h), 0, &added);
      if (added) out->reports.emplace_back(cell, h);
    }
    uint64_t network = asn;  // up to three letters and 32 bits of ASN pack exactly
    if (cc.size() <= 3) {
      for (size_t k = 0; k < cc.size(); ++k) {
        network |= static_cast<uint64_t>(static_cast<unsigned char>(cc[k])) << (32 + 8 * k);
      }
    } else {
      network = (1ULL << 62) | out->long_networks.Id(std::string(cc) + ":" + std::to_string(asn));
    }
    out->seen_networks.FindOrAdd(PairKey(cell, network), 0, &added);
    if (added) out->networks.emplace_back(cell, network);
  }
}

// Merges partial scans into cells, by value.
std::vector<AggregationCell> MergeCells(const ResolvedQuery& q, std::vector<PartialCells>& parts) {
  const std::vector<Axis>& axes = q.query.axes;
  std::vector<AggregationCell> out;
  std::map<std::vector<std::string>, uint32_t> index;
  FlatMap64 seen_reports, seen_networks;
  bool added = false;
  for (PartialCells& p : parts) {
    std::vector<uint32_t> global(p.keys.size());
    for (size_t c = 0; c < p.keys.size(); ++c) {
      AggregationCell cell;
      std::vector<std::string> values;
      for (size_t i = 0; i < axes.size(); ++i) {
        const uint32_t id = AxisId(p.keys[c], i);
        switch (axes[i]) {
          case Axis::kTime:
            cell.time = static_cast<int64_t>(p.times.Value(id));
            break;
          case Axis::kCc:
            cell.probe_cc = p.text[i].Value(id);
            break;
          case Axis::kAsn:
            cell.probe_asn = static_cast<uint32_t>(p.asns.Value(id));
            break;
          case Axis::kTarget:
            cell.target = p.text[i].Value(id);
            break;
          case Axis::kInput:
            cell.input = p.text[i].Value(id);
            break;
          case Axis::kCategory:
            cell.category_code = p.text[i].Value(id);
            break;
          case Axis::kTest:
            cell.test_name = p.text[i].Value(id);
            break;
          case Axis::kBlockingType:
            cell.blocking_type = p.text[i].Value(id);
            break;
        }
        values.push_back(AxisValue(cell, axes[i], Grain::kHour));
      }
      auto [it, fresh] = index.try_emplace(std::move(values), static_cast<uint32_t>(out.size()));
      if (fresh) out.push_back(std::move(cell));
      AggregationCell& g = out[it->second];
      g.ok_count += p.counts[c][0];
      g.anomaly_count += p.counts[c][1];
      g.confirmed_count += p.counts[c][2];
      g.failure_count += p.counts[c][3];
      g.measurement_count += p.counts[c][0] + p.counts[c][1] + p.counts[c][2] + p.counts[c][3];
      global[c] = it->second;
    }
    for (const auto& [cell, value] : p.reports) {
      const uint32_t g = global[cell];
      seen_reports.FindOrAdd(PairKey(g, value), 0, &added);
      out[g].probe_count += added;
    }
    for (const auto& [cell, value] : p.networks) {
      const uint32_t g = global[cell];
      // Long country codes were numbered per scan: count them by name instead.
      const uint64_t v = (value >> 62) == 1 ? std::hash<std::string_view>{}(p.long_networks.Value(
                                                  static_cast<uint32_t>(value & 0xffffffffULL))) |
                                                  (1ULL << 62)
                                            : value;
      seen_networks.FindOrAdd(PairKey(g, v), 0, &added);
      out[g].network_count += added;
    }
  }
  if (axes.empty() && out.empty()) out.emplace_back();  // as SQL answers: zeros
  return out;
}

// Checkpoints (copying the WAL into the file, and its fsync) on a thread and a connection
// of their own, after each commit, so that they overlap the next writes instead of
// stalling them; the writer's connection does not checkpoint by itself. The last
// connection to close checkpoints what is left (SQLite does) and removes the WAL.
class Checkpointer {
 public:
  explicit Checkpointer(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) !=
        SQLITE_OK) {
      sqlite3_close(db_);
      db_ = nullptr;
      return;
    }
    sqlite3_busy_timeout(db_, 10000);
    thread_ = std::thread([this] { Loop(); });
  }
  ~Checkpointer() {
    {
      std::lock_guard lock(mu_);
      closing_ = true;
    }
    wake_.notify_one();
    if (thread_.joinable()) thread_.join();
    sqlite3_close(db_);
  }
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  /// False when the connection could not be opened (the writer then checkpoints).
  bool ok() const { return db_ != nullptr; }

  /// After a commit: checkpoint what is committed, soon.
  void Request() {
    {
      std::lock_guard lock(mu_);
      requested_ = true;
    }
    wake_.notify_one();
  }

 private:
  void Loop() {
    for (;;) {
      {
        std::unique_lock lock(mu_);
        wake_.wait(lock, [&] { return closing_ || requested_; });
        if (!requested_) return;
        requested_ = false;
      }
      // PASSIVE: never waits for the writer or readers; what it cannot copy yet, the
      // next one (or the last close) does. Through the PRAGMA, not
      // sqlite3_wal_checkpoint_v2: a connection that has not read the file yet does not
      // know it is in WAL mode, and the call then does nothing (the PRAGMA reads it).
      sqlite3_exec(db_, "PRAGMA wal_checkpoint(PASSIVE)", nullptr, nullptr, nullptr);
    }
  }

  sqlite3* db_ = nullptr;
  std::mutex mu_;
  std::condition_variable wake_;
  bool requested_ = false;  // guarded
  bool closing_ = false;    // guarded
  std::thread thread_;
};

class SqliteStore : public Store {
 public:
  explicit SqliteStore(std::string path) : path_(std::move(path)) {
    // Below this many rows one scan is as quick as starting threads; the tests set it
    // to 0 to run the parallel scan on small stores.
    if (const char* rows = std::getenv("VIGIL_SQLITE_PARALLEL_MIN_ROWS"); rows && *rows) {
      min_parallel_rows_ = std::atoll(rows);
    }
  }
  ~SqliteStore() override {
    if (db_ && in_transaction_) Exec("COMMIT");
    checkpointer_.reset();  // before the writer's connection, the last, closes
    for (auto* s : {&insert_measurement_, &insert_new_measurement_, &insert_observation_,
                    &insert_verdict_, &delete_observations_, &insert_version_, &insert_post_}) {
      s->reset();
    }
    sqlite3_close(db_);
  }

  // Schema 3 gave verdicts what time series read without touching measurements or
  // parsing JSON: upload time and software (data-quality flags), the layers measured,
  // blocked and masked as bits, and the technique. The bits are rebuilt here from the
  // stored layers (blocked: at or above 0.5, the shipped rules' mask threshold); the
  // technique needs the facts and stays empty until the store is scored again.
  Result<void> MigrateToSchema3() {
    static const char* kBit =
        "(1 << (CASE json_extract(j.value, '$.layer') WHEN 'dns' THEN 0 WHEN 'tcp' THEN 1 "
        "WHEN 'tls' THEN 2 WHEN 'http' THEN 3 ELSE 4 END))";
    const std::string sql =
        std::string(
            "BEGIN; "
            "ALTER TABLE verdicts ADD COLUMN upload_time INTEGER NOT NULL DEFAULT 0; "
            "ALTER TABLE verdicts ADD COLUMN software_name TEXT NOT NULL DEFAULT ''; "
            "ALTER TABLE verdicts ADD COLUMN measured_layers INTEGER NOT NULL DEFAULT 0; "
            "ALTER TABLE verdicts ADD COLUMN blocked_layers INTEGER NOT NULL DEFAULT 0; "
            "ALTER TABLE verdicts ADD COLUMN masked_layers INTEGER NOT NULL DEFAULT 0; "
            "ALTER TABLE verdicts ADD COLUMN technique TEXT NOT NULL DEFAULT ''; "
            "UPDATE verdicts SET measured_layers = "
            "COALESCE((SELECT SUM(") +
        kBit + ") FROM json_each(verdicts.layers) j), 0), masked_layers = COALESCE((SELECT SUM(" +
        kBit +
        ") FROM json_each(verdicts.layers) j WHERE json_extract(j.value, '$.masked')), 0), "
        "blocked_layers = COALESCE((SELECT SUM(" +
        kBit +
        ") FROM json_each(verdicts.layers) j WHERE NOT json_extract(j.value, '$.masked') AND "
        "json_extract(j.value, '$.blocked') >= 0.5 AND json_extract(j.value, '$.blocked') > 0), "
        "0), upload_time = COALESCE((SELECT m.upload_time FROM measurements m WHERE "
        "m.measurement_uid = verdicts.measurement_uid), 0), software_name = COALESCE((SELECT "
        "m.software_name FROM measurements m WHERE m.measurement_uid = verdicts.measurement_uid), "
        "''); PRAGMA user_version = 3; COMMIT";
    if (auto e = Exec(sql); !e) {
      (void)Exec("ROLLBACK");
      return Error{Describe() + ": upgrading the store to schema 3: " + e.error()};
    }
    return {};
  }

  // Schema 4 gave wechat_posts measurements a narrow table of their own (posts), what
  // articles' histories are read from. A store of schema 3 gets it filled from the
  // measurements it holds, as PostRowOf reads their summaries.
  Result<void> MigrateToSchema4() {
    auto key = [](const char* name) {
      const std::string path = std::string("'$.") + name + "'";
      return "CASE WHEN json_valid(summary_json) AND json_type(summary_json, " + path +
             ") = 'text' THEN json_extract(summary_json, " + path + ") ELSE '' END";
    };
    const std::string sql = "BEGIN; " + CreateTableSql(PostsTable()) +
                            "; INSERT OR REPLACE INTO posts SELECT measurement_uid, start_time, "
                            "probe_cc, probe_asn, input, " +
                            key("post_status") + ", " + key("x_title") + ", " +
                            key("x_content_sha256") +
                            ", written_at FROM measurements WHERE test_name = " +
                            QuoteSql(SqlDialect::kSqlite, std::string(kPostsTestName)) +
                            "; PRAGMA user_version = 4; COMMIT";
    if (auto e = Exec(sql); !e) {
      (void)Exec("ROLLBACK");
      return Error{Describe() + ": upgrading the store to schema 4: " + e.error()};
    }
    return {};
  }

  Result<void> Open() {
    std::error_code ec;
    const auto parent = std::filesystem::path(path_).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    // NOMUTEX: a Store is used from one thread, and SQLite's per-call mutex costs a
    // tenth of a scan.
    if (sqlite3_open_v2(path_.c_str(), &db_,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        nullptr) != SQLITE_OK) {
      return Fail("cannot open");
    }
    sqlite3_busy_timeout(db_, 10000);
    int version = 0;
    auto r = Select("PRAGMA user_version",
                    [&](const SqlRow& row) { version = std::atoi(row.values[0].c_str()); });
    if (!r.ok()) return r;
    bool empty = true;
    r = Select("SELECT 1 FROM sqlite_master WHERE type = 'table' LIMIT 1",
               [&](const SqlRow&) { empty = false; });
    if (!r.ok()) return r;
    if (!empty && version == 1) {
      if (auto e = Exec("ALTER TABLE verdicts ADD COLUMN verdict TEXT NOT NULL DEFAULT ''"); !e) {
        return e;
      }
      version = 2;
    }
    if (!empty && version == 2) {
      if (auto e = MigrateToSchema3(); !e) return e;
      version = 3;
    }
    if (!empty && version == 3) {
      if (auto e = MigrateToSchema4(); !e) return e;
      version = 4;
    }
    if (!empty && version != kSchemaVersion) {
      return Error{Describe() + ": not a vigil analysis store (schema version " +
                   std::to_string(version) + ", expected " + std::to_string(kSchemaVersion) + ")"};
    }
    for (const std::string& sql :
         {std::string("PRAGMA page_size = 16384"), std::string("PRAGMA cache_size = -131072"),
          std::string("PRAGMA journal_mode = WAL"), std::string("PRAGMA synchronous = NORMAL"),
          CreateTableSql(MeasurementsTable()), CreateTableSql(ObservationsTable()),
          CreateTableSql(VerdictsTable()), CreateTableSql(RulesVersionsTable()),
          CreateTableSql(PostsTable()),
          std::string("CREATE INDEX IF NOT EXISTS measurements_time ON measurements (start_time)"),
          std::string("CREATE INDEX IF NOT EXISTS observations_time ON observations (start_time)"),
          std::string("CREATE INDEX IF NOT EXISTS verdicts_version_time ON verdicts "
                      "(rules_version, start_time)"),
          // A target's verdicts on one network: what an event's techniques and
          // measurements are read from, and drill-downs by network and target.
          std::string("CREATE INDEX IF NOT EXISTS verdicts_series ON verdicts "
                      "(rules_version, probe_cc, probe_asn, target, start_time)"),
          // An article's measurements in time order: what its history is read from.
          std::string("CREATE INDEX IF NOT EXISTS posts_url_time ON posts (url, start_time)"),
          "PRAGMA user_version = " + std::to_string(kSchemaVersion)}) {
      if (auto e = Exec(sql); !e) return e;
    }
    checkpointer_ = std::make_unique<Checkpointer>(path_);
    if (checkpointer_->ok()) {
      if (auto e = Exec("PRAGMA wal_autocheckpoint = 0"); !e) return e;
    } else {
      checkpointer_.reset();
    }
    for (auto [stmt, sql] :
         {std::pair{&insert_measurement_, InsertSql(MeasurementsTable())},
          std::pair{&insert_new_measurement_, InsertSql(MeasurementsTable(), "IGNORE")},
          std::pair{&insert_observation_, InsertSql(ObservationsTable())},
          std::pair{&insert_verdict_, InsertSql(VerdictsTable())},
          std::pair{&insert_version_, InsertSql(RulesVersionsTable())},
          std::pair{&insert_post_, InsertSql(PostsTable())},
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
      // A measurement not stored yet (the common case) needs no replacing, and has no
      // observations to delete: try a plain insert first.
      {
        Binder b(insert_new_measurement_->get(), &owned_);
        MeasurementValues(m, stamp, b);
      }
      if (auto s = Step(insert_new_measurement_->get()); !s) return s;
      if (sqlite3_changes(db_) == 0) {
        sqlite3_stmt* del = delete_observations_->get();
        sqlite3_bind_text(del, 1, m.measurement.measurement_uid.data(),
                          static_cast<int>(m.measurement.measurement_uid.size()), SQLITE_STATIC);
        if (auto s = Step(del); !s) return s;
        {
          Binder b(insert_measurement_->get(), &owned_);
          MeasurementValues(m, stamp, b);
        }
        if (auto s = Step(insert_measurement_->get()); !s) return s;
      }
      for (const ObservationRow& o : m.observations) {
        Binder b(insert_observation_->get(), &owned_);
        ObservationValues(m, o, stamp, b);
        if (auto s = Step(insert_observation_->get()); !s) return s;
      }
      if (const std::optional<PostRow> post = PostRowOf(m)) {
        Binder b(insert_post_->get(), &owned_);
        PostValues(*post, stamp, b);
        if (auto s = Step(insert_post_->get()); !s) return s;
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
      Binder b(insert_verdict_->get(), &owned_);
      VerdictValues(facts[i], verdicts[i], stamp, b);
      if (auto s = Step(insert_verdict_->get()); !s) return s;
      if (versions_written_.insert(verdicts[i].rules_version).second) {
        Binder v(insert_version_->get(), &owned_);
        RulesVersionValues(verdicts[i].rules_version, stamp, v);
        if (auto s = Step(insert_version_->get()); !s) return s;
      }
    }
    pending_ += verdicts.size();
    if (pending_ >= kRowsPerTransaction) return Commit();
    return {};
  }

  Result<void> Commit() override {
    pending_ = 0;
    if (!in_transaction_) return {};
    in_transaction_ = false;
    if (auto c = Exec("COMMIT"); !c) return c;
    // The checkpointer copies the log into the file while writes go on; but the log only
    // starts over once all of it is copied before the next write, and under a steady
    // stream of writes that may never happen: it grew to 28 GB loading ten million
    // verdicts. Past kMaxWalBytes the writer copies it all and truncates it, waiting for
    // the checkpointer and readers (busy timeout); if they hold on, the next commit tries.
    std::error_code ec;
    const auto wal = std::filesystem::file_size(path_ + "-wal", ec);
    if (!ec && wal > kMaxWalBytes) {
      (void)Select("PRAGMA wal_checkpoint(TRUNCATE)", [](const SqlRow&) {});
    } else if (checkpointer_) {
      checkpointer_->Request();
    }
    return {};
  }

  // Runs `sql` (a SELECT ... WHERE ...) over rowid ranges of verdicts, one thread and
  // read-only connection each when the scan is large and reads the whole table (`full`),
  // else once on this connection. `prepare(parts)` is told how many parts there are
  // before any runs; `run(stmt, part)` steps a part's statement and returns an error
  // text or "". Returns the number of parts.
  Result<size_t> OverRowidRanges(const std::string& sql, bool full, size_t max_parts,
                                 const std::function<void(size_t)>& prepare,
                                 const std::function<std::string(sqlite3_stmt*, size_t)>& run) {
    int64_t lo = 0, hi = 0;
    auto r = Select("SELECT min(rowid), max(rowid) FROM verdicts", [&](const SqlRow& row) {
      if (!row.null[0]) lo = std::stoll(row.values[0]);
      if (!row.null[1]) hi = std::stoll(row.values[1]) + 1;
    });
    if (!r.ok()) return Error{r.error()};
    size_t threads = std::clamp<size_t>(std::thread::hardware_concurrency(), 1, max_parts);
    if (!full || hi - lo < min_parallel_rows_) threads = 1;
    prepare(threads);
    std::vector<std::string> errors(threads);
    std::vector<std::thread> pool;
    for (size_t t = 0; t < threads; ++t) {
      const int64_t a = lo + (hi - lo) * static_cast<int64_t>(t) / static_cast<int64_t>(threads);
      const int64_t b =
          lo + (hi - lo) * static_cast<int64_t>(t + 1) / static_cast<int64_t>(threads);
      std::string range = threads == 1 ? sql
                                       : sql + " AND rowid >= " + std::to_string(a) +
                                             " AND rowid < " + std::to_string(b);
      auto part = [this, range = std::move(range), t, &run, error = &errors[t], own = threads > 1] {
        sqlite3* db = db_;
        if (own && sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
                                   nullptr) != SQLITE_OK) {
          *error = "cannot open for reading: " + std::string(sqlite3_errmsg(db));
          sqlite3_close(db);
          return;
        }
        {
          Statement stmt;  // finalized before its connection closes
          if (sqlite3_prepare_v2(db, range.c_str(), -1, stmt.out(), nullptr) != SQLITE_OK) {
            *error = sqlite3_errmsg(db);
          } else {
            *error = run(stmt.get(), t);
          }
        }
        if (own) sqlite3_close(db);
      };
      if (threads == 1) {
        part();
      } else {
        pool.emplace_back(std::move(part));
      }
    }
    for (auto& th : pool) th.join();
    for (const auto& e : errors) {
      if (!e.empty()) return Error{Describe() + ": query: " + e};
    }
    return threads;
  }

  Result<size_t> ScanVerdicts(const std::string& columns, const std::string& where,
                              const std::string& rules_version, int64_t since, int64_t until,
                              size_t max_parts, const ScanSinkFactory& make_sink) override {
    if (auto c = Commit(); !c) return Error{c.error()};  // other connections read
    auto hint = IndexHint(rules_version, since, until);
    if (!hint.ok()) return Error{hint.error()};
    // A row's columns read in place: numbers as numbers, text without a copy.
    class Row : public ScanRow {
     public:
      sqlite3_stmt* stmt = nullptr;
      int64_t Int(int column) const override { return sqlite3_column_int64(stmt, column); }
      std::string_view Text(int column) const override {
        const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt, column));
        return p ? std::string_view(p, static_cast<size_t>(sqlite3_column_bytes(stmt, column)))
                 : std::string_view();
      }
    };
    std::vector<ScanSink> sinks;
    return OverRowidRanges(
        "SELECT " + columns + " FROM verdicts " + *hint + where, *hint == "NOT INDEXED", max_parts,
        [&](size_t parts) {
          for (size_t i = 0; i < parts; ++i) sinks.push_back(make_sink(i));
        },
        [&](sqlite3_stmt* stmt, size_t part) -> std::string {
          Row row;
          row.stmt = stmt;
          while (true) {
            const int rc = sqlite3_step(stmt);
            if (rc == SQLITE_DONE) return "";
            if (rc != SQLITE_ROW) return sqlite3_errmsg(sqlite3_db_handle(stmt));
            sinks[part](row);
          }
        });
  }

  // SQLite's GROUP BY sorts every matching row (and its count(DISTINCT) sorts again): on
  // ten million rows that is minutes. Scans that count into hash tables give the same
  // cells (the cross-backend tests hold them to ClickHouse's) several times faster, and
  // over a large window they run on every core, each over a range of rowids on a
  // connection of its own, merged at the end. The time index is used only for windows
  // that cover a small part of the stored time, where skipping rows beats reading them.
  Result<std::vector<AggregationCell>> AggregateCells(const ResolvedQuery& q) override {
    if (auto c = Commit(); !c) return Error{c.error()};  // other connections read
    std::string sql = "SELECT start_time, outcome, report_id, probe_cc, probe_asn";
    for (Axis a : q.query.axes) {
      if (a == Axis::kTime || a == Axis::kCc || a == Axis::kAsn) continue;
      sql += std::string(", ") + AxisColumn(a);
    }
    auto hint = IndexHint(q);
    if (!hint.ok()) return Error{hint.error()};
    sql += " FROM verdicts " + *hint + VerdictFilterSql(SqlDialect::kSqlite, q);
    std::vector<PartialCells> parts;
    auto used = OverRowidRanges(
        sql, *hint == "NOT INDEXED", 8, [&](size_t n) { parts.resize(n); },
        [&](sqlite3_stmt* stmt, size_t part) {
          ScanCells(stmt, q, &parts[part]);
          return parts[part].error;
        });
    if (!used.ok()) return Error{used.error()};
    return MergeCells(q, parts);
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
        row.values[k].assign(text ? text : "",
                             static_cast<size_t>(sqlite3_column_bytes(stmt.get(), i)));
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
    return IndexHint(q.rules_version, q.since, q.until);
  }

  Result<std::string> IndexHint(const std::string& version, int64_t since, int64_t until) {
    const std::string v = QuoteSql(SqlDialect::kSqlite, version);
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
    const int64_t overlap = std::min(hi, until) - std::max(lo, since);
    return std::string(overlap * 5 < (hi - lo) ? "INDEXED BY verdicts_version_time"
                                               : "NOT INDEXED");
  }

  Result<void> Exec(const std::string& sql) {
    char* message = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
      Error e{Describe() + ": " + (message ? message : "error") + " (in: " + sql.substr(0, 80) +
              ")"};
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

  // Every parameter is bound again for the next row, so bindings are not cleared.
  Result<void> Step(sqlite3_stmt* stmt) {
    const int rc = sqlite3_step(stmt);
    if (rc != SQLITE_DONE) {
      Error e = Fail("write");
      sqlite3_reset(stmt);
      return e;
    }
    sqlite3_reset(stmt);
    return {};
  }

  std::string path_;
  sqlite3* db_ = nullptr;
  bool in_transaction_ = false;
  uint64_t pending_ = 0;
  std::unique_ptr<Statement> insert_measurement_, insert_new_measurement_, insert_observation_,
      insert_verdict_, delete_observations_, insert_version_, insert_post_;
  std::set<std::string> versions_written_;
  std::vector<std::string> owned_;  // values made for the row being written (Binder)
  std::unique_ptr<Checkpointer> checkpointer_;
  int64_t min_parallel_rows_ = 200000;
};

}  // namespace

Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path) {
  // SQLite counts every allocation under a global mutex unless told otherwise, before it
  // starts (later calls are refused, harmlessly); nothing here reads those counts.
  static std::once_flag quiet_allocations;
  std::call_once(quiet_allocations, [] { sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
  auto s = std::make_unique<SqliteStore>(path);
  if (auto r = s->Open(); !r) return Error{r.error()};
  return std::unique_ptr<Store>(std::move(s));
}

}  // namespace vigil::analysis::store
