// The ClickHouse store, over ClickHouse's HTTP interface (cpp-httplib): the three tables
// of schema.h as ReplacingMergeTree tables partitioned by month and ordered by
// (probe_cc, probe_asn, target, start_time, ...), the written_at stamp deciding which of
// two rows with the same key is kept. Rows are sent as TabSeparated in batches;
// Commit() sends what is buffered and merges the months written (OPTIMIZE ... FINAL) so
// that a replaced row is gone before anyone counts. Reads are TabSeparated too.
#include <httplib.h>

#include <map>
#include <set>

#include "analysis/store/schema.h"

namespace vigil::analysis::store {
namespace {

constexpr size_t kFlushBytes = 16 << 20;

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

void AppendEscaped(std::string_view v, std::string* out) {
  for (char c : v) {
    switch (c) {
      case '\\':
        *out += "\\\\";
        break;
      case '\t':
        *out += "\\t";
        break;
      case '\n':
        *out += "\\n";
        break;
      case '\r':
        *out += "\\r";
        break;
      case '\0':
        *out += "\\0";
        break;
      default:
        *out += c;
    }
  }
}

// Appends one TabSeparated row.
class TsvWriter : public ValueSink {
 public:
  explicit TsvWriter(std::string* out) : out_(out) {}
  ~TsvWriter() override { *out_ += '\n'; }
  void Int(int64_t v) override {
    Sep();
    *out_ += std::to_string(v);
  }
  void Real(double v) override {
    Sep();
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    *out_ += buf;
  }
  void Text(std::string_view v) override {
    Sep();
    AppendEscaped(v, out_);
  }
  void Null() override {
    Sep();
    *out_ += "\\N";
  }

 private:
  void Sep() {
    if (!first_) *out_ += '\t';
    first_ = false;
  }
  std::string* out_;
  bool first_ = true;
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

class ClickHouseStore : public Store {
 public:
  explicit ClickHouseStore(Endpoint endpoint)
      : endpoint_(std::move(endpoint)), client_(endpoint_.host, endpoint_.port) {
    client_.set_connection_timeout(5, 0);
    client_.set_read_timeout(600, 0);
    client_.set_write_timeout(600, 0);
    client_.set_keep_alive(true);
  }

  ~ClickHouseStore() override { (void)Commit(); }

  Result<void> Open() {
    if (auto r = Run("CREATE DATABASE IF NOT EXISTS " + endpoint_.database, "", false); !r) {
      return r;
    }
    for (const Table* t :
         {&MeasurementsTable(), &ObservationsTable(), &VerdictsTable(), &RulesVersionsTable()}) {
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
      {
        TsvWriter w(&Buffer(MeasurementsTable(), month));
        MeasurementValues(m, stamp, w);
      }
      std::string& obs = Buffer(ObservationsTable(), month);
      for (const ObservationRow& o : m.observations) {
        TsvWriter w(&obs);
        ObservationValues(m, o, stamp, w);
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
      TsvWriter w(&Buffer(VerdictsTable(), MonthOf(facts[i].measurement.start_time)));
      VerdictValues(facts[i], verdicts[i], stamp, w);
      if (versions_written_.insert(verdicts[i].rules_version).second) {
        TsvWriter v(&Buffer(RulesVersionsTable(), 0));  // month 0: not partitioned
        RulesVersionValues(verdicts[i].rules_version, stamp, v);
      }
    }
    return MaybeFlush();
  }

  Result<void> Commit() override {
    if (auto f = Flush(); !f) return f;
    for (const auto& [table, month] : written_) {
      if (distributed_.count(table)) continue;
      if (auto r = Run("OPTIMIZE TABLE " + table +
                       (month ? " PARTITION " + std::to_string(month) : std::string()) + " FINAL");
          !r) {
        return r;
      }
    }
    written_.clear();
    return {};
  }

  Result<void> Select(const std::string& sql, const SqlRowSink& sink) override {
    std::string body;
    if (auto r = Post(sql + " FORMAT TabSeparated", "", &body); !r) return r;
    SqlRow row;
    ParseTsv(body, &row, sink);
    return {};
  }

 private:
  std::string& Buffer(const Table& t, uint32_t month) {
    written_.emplace(t.name, month);
    return buffers_[t.name];
  }

  Result<void> MaybeFlush() {
    size_t total = 0;
    for (const auto& [name, b] : buffers_) total += b.size();
    if (total < kFlushBytes) return {};
    return Flush();
  }

  Result<void> Flush() {
    for (auto& [name, b] : buffers_) {
      if (b.empty()) continue;
      std::string ignored;
      const bool sync = distributed_.count(name) > 0;
      if (auto r =
              Post("INSERT INTO " + name + " FORMAT TabSeparated", b, &ignored, true, true, sync);
          !r) {
        return r;
      }
      b.clear();
    }
    return {};
  }

  Result<void> Run(const std::string& sql, const std::string& body = "", bool in_database = true) {
    std::string ignored;
    return Post(sql, body, &ignored, !body.empty(), in_database);
  }

  // Sends `sql` (as the body, or as the query parameter when `data` is the body).
  Result<void> Post(const std::string& sql, const std::string& data, std::string* response,
                    bool sql_in_url = false, bool in_database = true, bool sync_insert = false) {
    httplib::Params params;
    if (sync_insert) params.emplace("insert_distributed_sync", "1");
    if (in_database) params.emplace("database", endpoint_.database);
    if (!endpoint_.user.empty()) params.emplace("user", endpoint_.user);
    if (!endpoint_.password.empty()) params.emplace("password", endpoint_.password);
    if (sql_in_url) params.emplace("query", sql);
    const std::string path = httplib::append_query_params("/", params);
    auto res = client_.Post(path, sql_in_url ? data : sql, "text/plain");
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
  httplib::Client client_;
  std::map<std::string, std::string> buffers_;
  std::set<std::pair<std::string, uint32_t>> written_;
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
