// The ClickHouse store, over ClickHouse's HTTP interface (cpp-httplib): the tables of
// schema.h as ReplacingMergeTree tables partitioned by month and ordered by
// (probe_cc, probe_asn, target, start_time, ...), the written_at stamp deciding which of
// two rows with the same key is kept. Rows are sent as RowBinary in batches;
// Commit() sends what is buffered and merges the months written (OPTIMIZE ... FINAL)
// where a row may have been replaced, so that it is gone before anyone counts. Reads
// are TabSeparated.
#include <httplib.h>

#include <algorithm>
#include <array>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_set>

#include "analysis/store/schema.h"
#include "base/post_status.h"

namespace vigil::analysis::store {
namespace {

constexpr size_t kFlushBytes = 64 << 20;
constexpr size_t kMaxKeys = 1 << 20;  // ~40 MB of remembered keys between commits

const char* ClickHouseType(ColumnType t) {
  switch (t) {
    case ColumnType::kInt8:
      return "Int8";
    case ColumnType::kInt32:
      return "Int32";
    case ColumnType::kUInt32:
      return "UInt32";
    case ColumnType::kInt64:
      return "Int64";
    case ColumnType::kReal:
      return "Float64";
    case ColumnType::kText:
      return "String";
    case ColumnType::kNullableText:
      return "Nullable(String)";
  }
  return "String";
}

// Appends one row in RowBinary, ClickHouse's plain binary row format: numbers little-
// endian at their column's width, strings as a LEB128 length and the bytes, Nullable
// values after a null flag. The server reads it with no text to parse or unescape
// (TabSeparated cost it several times the CPU time for the same rows).
class RowBinaryWriter : public ValueSink {
 public:
  RowBinaryWriter(const Table& table, std::string* out) : table_(table), out_(out) {}
  ~RowBinaryWriter() override {
    // A column the row did not give (a bug in schema.cc) would misalign every row after
    // it: fill it rather than send garbage (and extra values are dropped).
    while (column_ < table_.columns.size()) Null();
  }
  void Int(int64_t v) override {
    if (column_ >= table_.columns.size()) return;  // more values than columns: dropped
    switch (Next()) {
      case ColumnType::kInt8:
        Fixed(static_cast<int8_t>(v));
        break;
      case ColumnType::kInt32:
        Fixed(static_cast<int32_t>(v));
        break;
      case ColumnType::kUInt32:
        Fixed(static_cast<uint32_t>(v));
        break;
      case ColumnType::kInt64:
        Fixed(v);
        break;
      case ColumnType::kReal:
        Fixed(static_cast<double>(v));
        break;
      case ColumnType::kNullableText:
        *out_ += '\0';
        String(std::to_string(v));
        break;
      case ColumnType::kText:
        String(std::to_string(v));
        break;
    }
  }
  void Real(double v) override {
    if (column_ >= table_.columns.size()) return;  // more values than columns: dropped
    const ColumnType t = Next();
    if (t == ColumnType::kReal) {
      Fixed(v);
    } else {  // not in schema.cc; keeps the row aligned
      --column_;
      Int(static_cast<int64_t>(v));
    }
  }
  void Text(std::string_view v) override {
    if (column_ >= table_.columns.size()) return;  // more values than columns: dropped
    const ColumnType t = Next();
    if (t == ColumnType::kNullableText) *out_ += '\0';
    if (t == ColumnType::kText || t == ColumnType::kNullableText) {
      String(v);
    } else {  // not in schema.cc; keeps the row aligned
      --column_;
      Int(0);
    }
  }
  void Null() override {
    if (column_ >= table_.columns.size()) return;  // more values than columns: dropped
    const ColumnType t = Next();
    if (t == ColumnType::kNullableText) {
      *out_ += '\1';
    } else {  // a NOT NULL column: its zero value
      --column_;
      if (t == ColumnType::kText) {
        Text({});
      } else if (t == ColumnType::kReal) {
        Real(0);
      } else {
        Int(0);
      }
    }
  }

 private:
  ColumnType Next() { return table_.columns[column_++].type; }
  template <typename N>
  void Fixed(N v) {
    char bytes[sizeof v];
    std::memcpy(bytes, &v, sizeof v);  // little-endian hosts only (x86-64, arm64)
    out_->append(bytes, sizeof v);
  }
  void String(std::string_view v) {
    uint64_t n = v.size();
    do {
      char b = static_cast<char>(n & 0x7f);
      n >>= 7;
      if (n) b = static_cast<char>(b | 0x80);
      *out_ += b;
    } while (n);
    out_->append(v.data(), v.size());
  }

  const Table& table_;
  std::string* out_;
  size_t column_ = 0;
};

// Splits TabSeparated output into rows and undoes its escapes.
void ParseTsv(std::string_view body, SqlRow* row, const SqlRowSink& sink) {
  size_t pos = 0;
  while (pos < body.size()) {
    size_t end = body.find('\n', pos);
    if (end == std::string_view::npos) end = body.size();
    std::string_view line = body.substr(pos, end - pos);
    pos = end + 1;
    row->values.clear();
    row->null.clear();
    size_t f = 0;
    while (true) {
      size_t tab = line.find('\t', f);
      std::string_view field =
          line.substr(f, tab == std::string_view::npos ? std::string_view::npos : tab - f);
      if (field == "\\N") {
        row->values.emplace_back();
        row->null.push_back(true);
      } else {
        std::string value;
        value.reserve(field.size());
        for (size_t i = 0; i < field.size(); ++i) {
          if (field[i] != '\\' || i + 1 == field.size()) {
            value += field[i];
            continue;
          }
          const char e = field[++i];
          switch (e) {
            case 't':
              value += '\t';
              break;
            case 'n':
              value += '\n';
              break;
            case 'r':
              value += '\r';
              break;
            case '0':
              value += '\0';
              break;
            case 'b':
              value += '\b';
              break;
            case 'f':
              value += '\f';
              break;
            default:
              value += e;
          }
        }
        row->values.push_back(std::move(value));
        row->null.push_back(false);
      }
      if (tab == std::string_view::npos) break;
      f = tab + 1;
    }
    sink(*row);
  }
}

struct Endpoint {
  std::string host;
  int port = 8123;
  std::string database = "vigil";
  std::string user;
  std::string password;
};

Result<Endpoint> ParseSpec(const std::string& spec) {
  const std::string usage = " (expected clickhouse://HOST:PORT/DATABASE[?user=U&password=P])";
  Endpoint e;
  std::string rest = spec.substr(std::string("clickhouse://").size());
  std::string query;
  if (const size_t q = rest.find('?'); q != std::string::npos) {
    query = rest.substr(q + 1);
    rest.resize(q);
  }
  std::string hostport = rest;
  if (const size_t slash = rest.find('/'); slash != std::string::npos) {
    hostport = rest.substr(0, slash);
    e.database = rest.substr(slash + 1);
  }
  if (e.database.empty()) e.database = "vigil";
  for (char c : e.database) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') {
      return Error{"store '" + spec + "': bad database name '" + e.database + "'" + usage};
    }
  }
  e.host = hostport;
  if (const size_t colon = hostport.rfind(':');
      colon != std::string::npos && hostport.find(']', colon) == std::string::npos) {
    e.host = hostport.substr(0, colon);
    const std::string port = hostport.substr(colon + 1);
    char* end = nullptr;
    const long p = std::strtol(port.c_str(), &end, 10);
    if (port.empty() || *end != '\0' || p <= 0 || p > 65535) {
      return Error{"store '" + spec + "': bad port '" + port + "'" + usage};
    }
    e.port = static_cast<int>(p);
  }
  if (e.host.size() > 2 && e.host.front() == '[' && e.host.back() == ']') {
    e.host = e.host.substr(1, e.host.size() - 2);
  }
  if (e.host.empty()) return Error{"store '" + spec + "': no host" + usage};
  size_t p = 0;
  while (p < query.size()) {
    size_t amp = query.find('&', p);
    if (amp == std::string::npos) amp = query.size();
    const std::string kv = query.substr(p, amp - p);
    p = amp + 1;
    const size_t eq = kv.find('=');
    const std::string key = kv.substr(0, eq);
    const std::string value = eq == std::string::npos ? "" : kv.substr(eq + 1);
    if (key == "user") {
      e.user = value;
    } else if (key == "password") {
      e.password = value;
    } else {
      return Error{"store '" + spec + "': unknown parameter '" + key + "'" + usage};
    }
  }
  return e;
}

// Sends INSERTs on a thread of its own (with an HTTP client of its own), so that the
// server stores one batch while the next is built from the measurements being parsed
// and scored: sent in line, the two took turns and the run used one core of two. At
// most kMaxSendingBytes wait to be sent; Queue blocks beyond that (back-pressure).
class InsertSender {
 public:
  // `post` sends on connection `lane` (one per thread).
  using PostRows = std::function<Result<void>(size_t lane, const std::string& table, bool sync,
                                              const std::string& rows)>;
  InsertSender(size_t lanes, PostRows post) : post_(std::move(post)) {
    for (size_t i = 0; i < lanes; ++i) threads_.emplace_back([this, i] { Loop(i); });
  }
  ~InsertSender() {
    {
      std::lock_guard lock(mu_);
      closing_ = true;
    }
    changed_.notify_all();
    for (auto& t : threads_) t.join();
  }
  InsertSender(const InsertSender&) = delete;
  InsertSender& operator=(const InsertSender&) = delete;

  /// Queues `rows` for `table`; the first error of an earlier send, if any (the rows
  /// are then dropped: the store is failing, and Drain says so too).
  Result<void> Queue(const std::string& table, bool sync, std::string rows) {
    std::unique_lock lock(mu_);
    changed_.wait(lock, [&] { return queued_bytes_ < kMaxSendingBytes || !error_.empty(); });
    if (!error_.empty()) return Error{error_};
    queued_bytes_ += rows.size();
    jobs_.push_back({table, sync, std::move(rows)});
    changed_.notify_all();
    return {};
  }

  /// Waits until everything queued is sent; the first error since the last Drain.
  Result<void> Drain() {
    std::unique_lock lock(mu_);
    changed_.wait(lock, [&] { return (jobs_.empty() && sending_ == 0) || !error_.empty(); });
    if (error_.empty()) return {};
    Error e{error_};
    error_.clear();
    jobs_.clear();
    queued_bytes_ = 0;
    return e;
  }

 private:
  static constexpr size_t kMaxSendingBytes = 64 << 20;
  struct Job {
    std::string table;
    bool sync;
    std::string rows;
  };

  void Loop(size_t lane) {
    std::unique_lock lock(mu_);
    for (;;) {
      changed_.wait(lock, [&] { return closing_ || !jobs_.empty(); });
      if (jobs_.empty()) return;  // closing, and nothing left
      Job job = std::move(jobs_.front());
      jobs_.pop_front();
      ++sending_;
      const bool failing = !error_.empty();
      lock.unlock();
      Result<void> r = failing ? Result<void>{} : post_(lane, job.table, job.sync, job.rows);
      lock.lock();
      --sending_;
      queued_bytes_ -= job.rows.size();
      if (!r.ok() && error_.empty()) error_ = r.error();
      changed_.notify_all();
    }
  }

  PostRows post_;
  std::mutex mu_;
  std::condition_variable changed_;
  std::deque<Job> jobs_;     // guarded
  size_t queued_bytes_ = 0;  // guarded: rows queued or being sent
  size_t sending_ = 0;       // guarded: jobs being sent
  bool closing_ = false;     // guarded
  std::string error_;        // guarded: the first failed send since the last Drain
  std::vector<std::thread> threads_;
};

class ClickHouseStore : public Store {
 public:
  explicit ClickHouseStore(Endpoint endpoint)
      : endpoint_(std::move(endpoint)),
        client_(endpoint_.host, endpoint_.port),
        send_clients_{httplib::Client(endpoint_.host, endpoint_.port),
                      httplib::Client(endpoint_.host, endpoint_.port)} {
    for (httplib::Client* c : {&client_, &send_clients_[0], &send_clients_[1]}) {
      c->set_connection_timeout(5, 0);
      c->set_read_timeout(600, 0);
      c->set_write_timeout(600, 0);
      c->set_keep_alive(true);
    }
    sender_ = std::make_unique<InsertSender>(
        send_clients_.size(),
        [this](size_t lane, const std::string& table, bool sync, const std::string& rows) {
          std::string ignored;
          return Post(send_clients_[lane], "INSERT INTO " + table + " FORMAT RowBinary", rows,
                      &ignored, true, true, sync);
        });
  }

  ~ClickHouseStore() override {
    (void)Commit();
    sender_.reset();  // before the client it sends with
  }

  static size_t ColumnIndex(const Table& t, std::string_view name) {
    for (size_t i = 0; i < t.columns.size(); ++i) {
      if (t.columns[i].name == name) return i;
    }
    return t.columns.size();
  }

  // As the SQLite store's schema-3 upgrade: the layer bits from the layers' JSON
  // (blocked: at or above 0.5, the shipped rules' mask threshold); upload time,
  // software and the technique stay empty until the store is scored again.
  Result<void> FillLayerBits() {
    // Debian's ClickHouse (18.16) has no JSON functions beyond visitParam and no
    // synchronous mutations: the layers' keys are pulled out with extractAll (our writer
    // gives every object the same keys in the same order, so the arrays line up), and
    // the mutation is waited for in system.mutations.
    const std::string names = "extractAll(layers, '\"layer\":\"([a-z]+)\"')";
    const std::string masked = "extractAll(layers, '\"masked\":(true|false)')";
    const std::string blocked = "extractAll(layers, '\"blocked\":([-0-9.eE+]+)')";
    const std::string bit =
        "bitShiftLeft(toUInt8(1), toUInt8(indexOf(['dns','tcp','tls','http','delivery'], n) - 1))";
    auto bits = [&](const std::string& cond) {
      return "toInt8(arraySum(arrayMap((n, m, b) -> if(" + cond + ", " + bit + ", 0), " + names +
             ", " + masked + ", " + blocked + ")))";
    };
    if (auto r = Run("ALTER TABLE verdicts UPDATE measured_layers = " + bits("1") +
                     ", masked_layers = " + bits("m = 'true'") + ", blocked_layers = " +
                     bits("m = 'false' AND toFloat64(b) >= 0.5 AND toFloat64(b) > 0") + " WHERE 1");
        !r) {
      return r;
    }
    for (int i = 0; i < 600; ++i) {
      bool pending = false;
      auto r = Select("SELECT count() FROM system.mutations WHERE database = " +
                          QuoteSql(SqlDialect::kClickHouse, endpoint_.database) +
                          " AND table = 'verdicts' AND is_done = 0",
                      [&](const SqlRow& row) { pending = row.values[0] != "0"; });
      if (!r.ok()) return r;
      if (!pending) return {};
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return Error{Describe() + ": the verdicts' layer bits were not rebuilt within 60 s"};
  }

  // As the SQLite store's schema-4 upgrade: a store without the posts table gets it
  // filled from the wechat_posts measurements it holds (visitParamExtractString reads a
  // summary's top-level string keys as PostRowOf does; not strings: ""), merged so that
  // measurements not yet merged give one row each.
  Result<void> FillPosts() {
    auto key = [](const char* name) {
      return std::string("visitParamExtractString(summary_json, '") + name + "')";
    };
    if (auto r = Run("INSERT INTO posts SELECT measurement_uid, start_time, probe_cc, probe_asn, "
                     "input, " +
                     key("post_status") + ", " + key("x_title") + ", " + key("x_content_sha256") +
                     ", written_at FROM measurements WHERE test_name = " +
                     QuoteSql(SqlDialect::kClickHouse, std::string(kPostsTestName)));
        !r) {
      return r;
    }
    return Run("OPTIMIZE TABLE posts FINAL");
  }

  Result<void> Open() {
    if (auto r = Run("CREATE DATABASE IF NOT EXISTS " + endpoint_.database, "", false); !r) {
      return r;
    }
    bool had_posts = false;
    auto exists =
        Select("SELECT name FROM system.tables WHERE database = " +
                   QuoteSql(SqlDialect::kClickHouse, endpoint_.database) + " AND name = 'posts'",
               [&](const SqlRow&) { had_posts = true; });
    if (!exists.ok()) return exists;
    for (const Table* t : {&MeasurementsTable(), &ObservationsTable(), &VerdictsTable(),
                           &RulesVersionsTable(), &PostsTable()}) {
      std::string sql = std::string("CREATE TABLE IF NOT EXISTS ") + t->name + " (";
      for (size_t i = 0; i < t->columns.size(); ++i) {
        if (i) sql += ", ";
        sql += std::string(t->columns[i].name) + " " + ClickHouseType(t->columns[i].type);
      }
      const bool by_time = t != &RulesVersionsTable();
      sql += std::string(") ENGINE = ReplacingMergeTree(") + t->version_column + ")" +
             (by_time ? " PARTITION BY toYYYYMM(toDateTime(start_time, 'UTC'))" : "") +
             " ORDER BY " + t->order_by;
      if (auto r = Run(sql); !r) return r;
    }
    // Rows are sent as RowBinary, which the server reads by the table's column types
    // without checking them: a table of the same name with other columns (another
    // program's, another version's) would take garbage. Refuse it by name instead.
    for (const Table* t : {&MeasurementsTable(), &ObservationsTable(), &VerdictsTable(),
                           &RulesVersionsTable(), &PostsTable()}) {
      std::vector<std::string> found;
      auto r = Select("SELECT name, type FROM system.columns WHERE database = " +
                          QuoteSql(SqlDialect::kClickHouse, endpoint_.database) +
                          " AND table = " + QuoteSql(SqlDialect::kClickHouse, t->name),
                      [&](const SqlRow& row) {
                        if (row.values.size() == 2)
                          found.push_back(row.values[0] + " " + row.values[1]);
                      });
      if (!r.ok()) return r;
      std::vector<std::string> expected;
      for (const Column& c : t->columns) {
        expected.push_back(std::string(c.name) + " " + ClickHouseType(c.type));
      }
      // A table of an earlier vigil lacks the columns added since at its end: add them
      // (their rows read empty until analysed again).
      const size_t found_before = found.size();
      if (!found.empty() && found.size() < expected.size() &&
          std::equal(found.begin(), found.end(), expected.begin())) {
        for (size_t i = found.size(); i < expected.size(); ++i) {
          if (auto a = Run(std::string("ALTER TABLE ") + t->name + " ADD COLUMN " + expected[i]);
              !a) {
            return a;
          }
          found.push_back(expected[i]);
        }
        // Verdicts from before the layer bits: rebuild them from the stored layers.
        if (t == &VerdictsTable() && found_before <= ColumnIndex(*t, "measured_layers")) {
          if (auto m = FillLayerBits(); !m) return m;
        }
      }
      if (found != expected) {
        size_t i = 0;
        while (i < found.size() && i < expected.size() && found[i] == expected[i]) ++i;
        return Error{
            Describe() + ": table " + t->name + " is not vigil's: column " + std::to_string(i + 1) +
            " is " + (i < found.size() ? "'" + found[i] + "'" : std::string("missing")) +
            ", expected " + (i < expected.size() ? "'" + expected[i] + "'" : std::string("none")) +
            " (another program's or version's table: drop it or use another database)"};
      }
    }
    if (!had_posts) {
      if (auto f = FillPosts(); !f) return f;
    }
    // Tables an analyst made Distributed over a cluster (docs/analysis.md): inserts wait
    // until every shard has the rows, and OPTIMIZE, which does not reach through them,
    // is left to the shards.
    return Select("SELECT name FROM system.tables WHERE database = " +
                      QuoteSql(SqlDialect::kClickHouse, endpoint_.database) +
                      " AND engine = 'Distributed'",
                  [&](const SqlRow& row) { distributed_.insert(row.values[0]); });
  }

  std::string Describe() const override {
    return "clickhouse://" + endpoint_.host + ":" + std::to_string(endpoint_.port) + "/" +
           endpoint_.database;
  }
  SqlDialect dialect() const override { return SqlDialect::kClickHouse; }

  Result<void> Write(const std::vector<ExtractedMeasurement>& facts,
                     const std::vector<VerdictRow>& verdicts) override {
    const int64_t stamp = WriteStamp();
    for (const ExtractedMeasurement& m : facts) {
      const uint32_t month = MonthOf(m.measurement.start_time);
      // A measurement written twice repeats its observations' keys too.
      const bool again = Seen(KeyHash(m.measurement.measurement_uid));
      {
        RowBinaryWriter w(MeasurementsTable(), &Buffer(MeasurementsTable(), month, again, 1));
        MeasurementValues(m, stamp, w);
      }
      std::string& obs = Buffer(ObservationsTable(), month, again, m.observations.size());
      for (const ObservationRow& o : m.observations) {
        RowBinaryWriter w(ObservationsTable(), &obs);
        ObservationValues(m, o, stamp, w);
      }
      if (const std::optional<PostRow> post = PostRowOf(m)) {
        RowBinaryWriter w(PostsTable(), &Buffer(PostsTable(), month, again, 1));
        PostValues(*post, stamp, w);
      }
    }
    if (!verdicts.empty()) return WriteVerdicts(facts, verdicts);
    return MaybeFlush();
  }

  Result<void> WriteVerdicts(const std::vector<ExtractedMeasurement>& facts,
                             const std::vector<VerdictRow>& verdicts) override {
    if (facts.size() != verdicts.size()) return Error{"verdicts and facts differ in number"};
    const int64_t stamp = WriteStamp();
    for (size_t i = 0; i < verdicts.size(); ++i) {
      const bool again = Seen(KeyHash(KeyHash(facts[i].measurement.measurement_uid),
                                      KeyHash(verdicts[i].rules_version)));
      const uint32_t month = MonthOf(facts[i].measurement.start_time);
      RowBinaryWriter w(VerdictsTable(), &Buffer(VerdictsTable(), month, again, 1));
      VerdictValues(facts[i], verdicts[i], stamp, w);
      if (versions_written_.insert(verdicts[i].rules_version).second) {
        // month 0: not partitioned; a version already stored is replaced (see Commit)
        RowBinaryWriter v(RulesVersionsTable(), &Buffer(RulesVersionsTable(), 0, false, 1));
        RulesVersionValues(verdicts[i].rules_version, stamp, v);
      }
    }
    return MaybeFlush();
  }

  // A month needs its OPTIMIZE ... FINAL only when a row written into it may have
  // replaced another: when it held rows before (its active parts hold more rows than
  // were written into it since it was last committed here, which also catches another
  // writer), when one of its keys was written twice, or when it was written before an
  // earlier commit of this store (the keys seen then are forgotten). A fresh load into
  // empty months, the common case, skips the rewrite of every month it wrote.
  Result<void> Commit() override {
    if (auto f = Flush(); !f) return f;
    if (auto d = sender_->Drain(); !d) return d;
    std::map<std::pair<std::string, uint32_t>, uint64_t> stored;  // rows in active parts
    std::set<std::string> tables;
    for (const auto& [key, w] : written_) {
      if (w.dirty) tables.insert(key.first);
    }
    for (const std::string& table : tables) {
      if (distributed_.count(table)) continue;
      auto r = Select("SELECT partition, sum(rows) FROM system.parts WHERE database = " +
                          QuoteSql(SqlDialect::kClickHouse, endpoint_.database) +
                          " AND table = " + QuoteSql(SqlDialect::kClickHouse, table) +
                          " AND active GROUP BY partition",
                      [&](const SqlRow& row) {
                        if (row.values.size() != 2) return;
                        const uint32_t month =
                            static_cast<uint32_t>(std::strtoul(row.values[0].c_str(), nullptr, 10));
                        stored[{table, month}] = std::strtoull(row.values[1].c_str(), nullptr, 10);
                      });
      if (!r.ok()) return r;
    }
    for (auto& [key, w] : written_) {
      const auto& [table, month] = key;
      if (!w.dirty || distributed_.count(table)) continue;
      if (w.committed_before || w.repeated || stored[key] != w.rows) {
        if (auto r =
                Run("OPTIMIZE TABLE " + table +
                    (month ? " PARTITION " + std::to_string(month) : std::string()) + " FINAL");
            !r) {
          return r;
        }
      }
      w.committed_before = true;
      w.dirty = false;
      w.repeated = false;
    }
    keys_.clear();
    keys_overflowed_ = false;
    return {};
  }

  Result<void> Select(const std::string& sql, const SqlRowSink& sink) override {
    // What was sent is read back: rows still buffered are not (they wait for Commit).
    if (auto d = sender_->Drain(); !d) return d;
    std::string body;
    if (auto r = Post(client_, sql + " FORMAT TabSeparated", "", &body); !r) return r;
    SqlRow row;
    ParseTsv(body, &row, sink);
    return {};
  }

 private:
  static uint64_t KeyHash(std::string_view s) { return std::hash<std::string_view>()(s); }
  static uint64_t KeyHash(uint64_t a, uint64_t b) {
    return a ^ (b + 0x9e3779b97f4a7c15ULL + (a << 6) + (a >> 2));
  }

  // Whether a row key (hashed) was written since the last commit. Beyond kMaxKeys keys
  // the store stops remembering and answers yes: memory stays bounded, and the months
  // written are merged as if a row had been replaced. A collision only costs a merge.
  bool Seen(uint64_t key) {
    if (keys_overflowed_) return true;
    if (keys_.size() >= kMaxKeys) {
      keys_overflowed_ = true;
      keys_.clear();
      return true;
    }
    return !keys_.insert(key).second;
  }

  // The buffer of table `t`, counting `rows` rows written into `month`; `repeated`: one
  // of their keys was written before since the last commit.
  std::string& Buffer(const Table& t, uint32_t month, bool repeated, size_t rows) {
    Written& w = written_[{t.name, month}];
    w.rows += rows;
    w.repeated = w.repeated || repeated;
    w.dirty = true;
    return buffers_[{t.name, month}];
  }

  // Beyond kFlushBytes buffered, sends the largest buffers until half is left. Each
  // buffer holds one month of one table, so each INSERT makes one part on the server
  // (rows spread over several months would make a part per month per INSERT, and every
  // part is a file per column to create and later merge away).
  Result<void> MaybeFlush() {
    size_t total = 0;
    for (const auto& [key, b] : buffers_) total += b.size();
    while (total >= kFlushBytes) {
      auto largest = buffers_.begin();
      for (auto it = buffers_.begin(); it != buffers_.end(); ++it) {
        if (it->second.size() > largest->second.size()) largest = it;
      }
      total -= largest->second.size();
      if (auto r = Send(largest->first.first, &largest->second); !r) return r;
      if (total < kFlushBytes / 2) break;
    }
    return {};
  }

  Result<void> Flush() {
    for (auto& [key, b] : buffers_) {
      if (auto r = Send(key.first, &b); !r) return r;
    }
    return {};
  }

  // Hands the rows of `buffer` for `table` to the sender and empties it.
  Result<void> Send(const std::string& table, std::string* buffer) {
    if (buffer->empty()) return {};
    std::string rows;
    rows.swap(*buffer);
    return sender_->Queue(table, distributed_.count(table) > 0, std::move(rows));
  }

  Result<void> Run(const std::string& sql, const std::string& body = "", bool in_database = true) {
    std::string ignored;
    return Post(client_, sql, body, &ignored, !body.empty(), in_database);
  }

  // Sends `sql` (as the body, or as the query parameter when `data` is the body).
  Result<void> Post(httplib::Client& client, const std::string& sql, const std::string& data,
                    std::string* response, bool sql_in_url = false, bool in_database = true,
                    bool sync_insert = false) const {
    httplib::Params params;
    if (sync_insert) params.emplace("insert_distributed_sync", "1");
    if (in_database) params.emplace("database", endpoint_.database);
    if (!endpoint_.user.empty()) params.emplace("user", endpoint_.user);
    if (!endpoint_.password.empty()) params.emplace("password", endpoint_.password);
    if (sql_in_url) params.emplace("query", sql);
    const std::string path = httplib::append_query_params("/", params);
    auto res = client.Post(path, sql_in_url ? data : sql, "text/plain");
    if (!res) {
      return Error{Describe() + ": cannot reach ClickHouse: " + httplib::to_string(res.error())};
    }
    if (res->status != 200) {
      std::string message = res->body.substr(0, res->body.find('\n'));
      if (message.size() > 500) message.resize(500);
      return Error{Describe() + ": ClickHouse answered " + std::to_string(res->status) + ": " +
                   message + " (in: " + sql.substr(0, 80) + ")"};
    }
    *response = std::move(res->body);
    return {};
  }

  Endpoint endpoint_;
  httplib::Client client_;  // the caller's thread: DDL, reads, OPTIMIZE
  // The sender's threads, one each: INSERTs, two at a time so that the server can store
  // on two cores.
  std::array<httplib::Client, 2> send_clients_;
  std::unique_ptr<InsertSender> sender_;
  std::map<std::pair<std::string, uint32_t>, std::string> buffers_;  // (table, month)
  // What this store wrote into each (table, month) since it was opened.
  struct Written {
    uint64_t rows = 0;              // rows sent
    bool dirty = false;             // written since the last commit
    bool repeated = false;          // a key written twice since the last commit
    bool committed_before = false;  // written before an earlier Commit
  };
  std::map<std::pair<std::string, uint32_t>, Written> written_;
  std::unordered_set<uint64_t> keys_;  // row keys written since the last commit
  bool keys_overflowed_ = false;
  std::set<std::string> distributed_;
  std::set<std::string> versions_written_;
};

}  // namespace

Result<std::unique_ptr<Store>> OpenClickHouseStore(const std::string& spec) {
  auto endpoint = ParseSpec(spec);
  if (!endpoint.ok()) return Error{endpoint.error()};
  auto s = std::make_unique<ClickHouseStore>(std::move(*endpoint));
  if (auto r = s->Open(); !r) return Error{r.error()};
  return std::unique_ptr<Store>(std::move(s));
}

}  // namespace vigil::analysis::store
