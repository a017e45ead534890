// Ingest: measurement files (ours and real OONI probes' alike) into the analyzer's
// facts. Reads JSONL and JSONL.gz files, single JSON documents, and directories of them
// (OONI's raw layout YYYYMMDD/HH/CC/testname/ among others), streaming, and hands one
// ExtractedMeasurement per measurement to a sink. A line that is not a measurement is
// reported with file:line and a reason, counted, and skipped; the run goes on.
// Not thread-safe: run one IngestPath per thread.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "analysis/model/rows.h"
#include "base/result.h"

namespace vigil::analysis {

struct IngestError {
  std::string file;
  uint64_t line = 0;
  std::string reason;
};

struct IngestStats {
  uint64_t files = 0;
  uint64_t lines = 0;  // non-empty lines (documents) read
  uint64_t measurements = 0;
  uint64_t bad_lines = 0;
  uint64_t bytes = 0;  // of JSON, after decompression
};

/// URL → Citizen Lab category, from test lists; looked up by exact URL, then by domain.
class CategoryIndex {
 public:
  void Add(const std::string& url, const std::string& category_code);
  /// The category of `input` (a URL) or of its domain, or "".
  std::string_view Find(std::string_view input, std::string_view domain) const;
  size_t size() const { return by_url_.size(); }

 private:
  std::unordered_map<std::string, std::string> by_url_;
  std::unordered_map<std::string, std::string> by_domain_;
};

/// Reads Citizen Lab CSV test lists (url,category_code,...); a bad header is an error
/// naming the file, rows without a URL are ignored (`vigil lists check` lints them).
Result<CategoryIndex> LoadCategoryIndex(const std::vector<std::string>& paths);

struct IngestOptions {
  CategoryIndex categories;
  /// Bytes of a response body kept for block-page fingerprints (the whole body length
  /// is still recorded).
  size_t body_sample_bytes = 64 << 10;
};

using MeasurementSink = std::function<void(ExtractedMeasurement&)>;  // may move from it
using ErrorSink = std::function<void(const IngestError&)>;

/// Turns one JSON document into facts. Reuses its parser and buffers across calls.
class MeasurementExtractor {
 public:
  explicit MeasurementExtractor(const IngestOptions& options);
  ~MeasurementExtractor();
  MeasurementExtractor(const MeasurementExtractor&) = delete;
  MeasurementExtractor& operator=(const MeasurementExtractor&) = delete;

  /// `json` must be readable for `readable` bytes from its start, readable >= size + 64
  /// (simdjson's padding); Extract(std::string_view) copies when that is not known.
  Result<void> ExtractPadded(const char* json, size_t size, size_t readable,
                             ExtractedMeasurement* out);
  Result<void> Extract(std::string_view json, ExtractedMeasurement* out);

 private:
  struct Impl;
  Impl* impl_;
};

/// Ingests a file or a directory (recursively, in sorted order: *.jsonl, *.jsonl.gz,
/// *.json, *.json.gz). An error only when `path` cannot be read at all.
Result<IngestStats> IngestPath(const std::string& path, const IngestOptions& options,
                               const MeasurementSink& sink, const ErrorSink& errors);

/// The reading half of IngestPath: every non-blank document of the files under `path`
/// goes to `handler(file, start, size, readable, line)` where it lies in the read buffer
/// (`readable` >= size + 64 bytes from `start`, for simdjson); read errors go to `errors`
/// and into `stats` (files, lines, bytes, bad_lines). The handler counts measurements.
using DocumentHandler = std::function<void(const std::string& file, const char* start, size_t size,
                                           size_t readable, uint64_t line)>;
Result<void> ReadMeasurementFiles(const std::string& path, IngestStats& stats,
                                  const ErrorSink& errors, const DocumentHandler& handler);

class VerdictEngine;

/// A measurement's facts with its verdict.
struct ScoredMeasurement {
  ExtractedMeasurement facts;
  VerdictRow verdict;
};
/// Receives scored measurements in batches, in file order; may move from them.
using ScoredSink = std::function<void(std::vector<ScoredMeasurement>& batch)>;

/// IngestPath and VerdictEngine::Score on `threads` workers: the calling thread reads
/// (and inflates) the files and hands blocks of lines to the workers, which parse and
/// score them; `sink` and `errors` run on the calling thread, in file order (a read
/// error may come before the parse errors of lines read earlier). threads = 0: one per
/// core.
Result<IngestStats> IngestAndScore(const std::vector<std::string>& paths,
                                   const IngestOptions& options, const VerdictEngine& engine,
                                   unsigned threads, const ScoredSink& sink,
                                   const ErrorSink& errors);

/// "2024-01-02 03:04:05" (UTC) → Unix seconds; nullopt when malformed.
std::optional<int64_t> ParseMeasurementTime(std::string_view text);
/// The receipt time OONI's collector writes at the front of its measurement uids
/// ("20240101000000.123456_..."); nullopt for any other uid.
std::optional<int64_t> OoniUidTime(std::string_view uid);

/// The host of a URL ("https://a.example:8443/x" → "a.example"), or "" without "://".
std::string_view UrlHost(std::string_view url);

}  // namespace vigil::analysis
