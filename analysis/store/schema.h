// The stores' tables, described once: column names and types in order, and how rows
// turn into column values and back. Both backends create their tables from these
// descriptions and write values in this order, so their columns cannot drift apart.
// Internal to analysis/store.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "analysis/model/rows.h"
#include "analysis/store/store.h"
#include "base/result.h"

namespace vigil::analysis::store {

enum class ColumnType : uint8_t { kInt8, kInt32, kUInt32, kInt64, kReal, kText, kNullableText };

struct Column {
  const char* name;
  ColumnType type;
};

struct Table {
  const char* name;
  std::vector<Column> columns;
  // ClickHouse: ORDER BY (also the replacing key) and the version column that decides
  // which of two rows with the same key is kept.
  const char* order_by;
  const char* version_column;
  // SQLite: the columns a row is unique by (INSERT OR REPLACE replaces on them).
  const char* unique_by;
};

const Table& MeasurementsTable();
const Table& ObservationsTable();
const Table& VerdictsTable();
/// The rules versions with verdicts in the store (one row each), so that listing them
/// does not read every verdict.
const Table& RulesVersionsTable();
/// One row per wechat_posts measurement (model/rows.h's PostRow): what an article's
/// history is read from without parsing the measurements' summaries (since schema 4).
const Table& PostsTable();

/// Receives one row's values in column order. Text values point into the row they come
/// from and stay valid as long as it does.
class ValueSink {
 public:
  virtual ~ValueSink() = default;
  virtual void Int(int64_t value) = 0;
  virtual void Real(double value) = 0;
  virtual void Text(std::string_view value) = 0;
  /// A value made for this row alone (JSON text): the sink may keep it rather than copy.
  virtual void OwnedText(std::string value) { Text(value); }
  virtual void Null() = 0;
};

void MeasurementValues(const ExtractedMeasurement& m, int64_t written_at, ValueSink& out);
void RulesVersionValues(const std::string& version, int64_t written_at, ValueSink& out);
void ObservationValues(const ExtractedMeasurement& m, const ObservationRow& o, int64_t written_at,
                       ValueSink& out);
void VerdictValues(const ExtractedMeasurement& m, const VerdictRow& v, int64_t written_at,
                   ValueSink& out);
void PostValues(const PostRow& p, int64_t written_at, ValueSink& out);

/// The reverse, from a SELECT of every column in table order.
Result<void> MeasurementFromRow(const SqlRow& row, ExtractedMeasurement* out);
Result<void> ObservationFromRow(const SqlRow& row, ObservationRow* out);

/// Nanoseconds since the epoch, strictly increasing within the process: the version of
/// a written row, so that the latest write of a key wins.
int64_t WriteStamp();

/// The month partition (YYYYMM, UTC) of a start time.
uint32_t MonthOf(int64_t start_time);

Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path);
Result<std::unique_ptr<Store>> OpenClickHouseStore(const std::string& spec);

}  // namespace vigil::analysis::store
