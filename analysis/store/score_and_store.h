// ScoreAndStore: measurements scored under the verdict rules and written, facts and
// verdicts, into an analysis store. The one loop behind `vigil analyze` (files read and
// scored on every core) and the collector's live feed (measurements it has just
// archived). Writes run on a writer thread of its own, in batches, so that parsing and
// scoring go on while the store writes; at most `max_queued` measurements wait for the
// writer, beyond that the producer waits (memory stays bounded however slow the store).
// What ends up in the store does not depend on the batch size or the thread counts.
// Thread-safety: one producer thread calls every method; the writer thread is the only
// one that touches the store until the ScoreAndStore is destroyed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "analysis/ingest/ingest.h"
#include "base/result.h"

namespace vigil::analysis {

class Store;
class VerdictEngine;

struct ScoreAndStoreOptions {
  size_t batch = 2000;       ///< measurements per Store::Write
  size_t max_queued = 8000;  ///< measurements waiting for the writer at most
};

/// Sees each scored measurement on the producer thread, in input order, before it is
/// queued for the store.
using ScoredObserver = std::function<void(const ScoredMeasurement&)>;

class ScoreAndStore {
 public:
  /// `store` may be null: measurements are scored and observed, and nothing is written.
  /// `engine` and `ingest` must outlive this object.
  ScoreAndStore(Store* store, const VerdictEngine& engine, const IngestOptions& ingest,
                ScoreAndStoreOptions options = {});
  /// Writes what is queued (without committing) and stops the writer.
  ~ScoreAndStore();
  ScoreAndStore(const ScoreAndStore&) = delete;
  ScoreAndStore& operator=(const ScoreAndStore&) = delete;

  /// `vigil analyze`: reads `paths` and scores them on `threads` workers (IngestAndScore;
  /// 0 = one per core), queues every measurement for the store. Does not commit. An
  /// error only when a path cannot be read at all.
  Result<IngestStats> IngestPaths(const std::vector<std::string>& paths, unsigned threads,
                                  const ScoredObserver& observe, const ErrorSink& errors);

  /// The collector: extracts and scores each JSON document on the calling thread
  /// (source_file set to `source_file`) and queues it. A document that is not a
  /// measurement goes to `errors` (line: its 1-based index) and is skipped. Returns how
  /// many were queued. `now` (Unix seconds) is the time the verdicts are judged at.
  size_t AddDocuments(const std::vector<std::string>& documents, std::string_view source_file,
                      int64_t now, const ErrorSink& errors);

  /// Queues scored measurements, moving from them; waits while the queue is full.
  void Add(std::vector<ScoredMeasurement>& scored);

  /// Waits until everything queued is written, then commits the store. The first write
  /// or commit error since the previous Commit, naming how many measurements it lost.
  Result<void> Commit();

  /// Measurements written to the store (not counting failed writes).
  uint64_t written() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil::analysis
