// SpoolSink: where a run keeps its measurements — each scrubbed line in the spool
// and its row in the results database, by group commit: Keep gathers a batch,
// Commit writes the batch's spool file, then its rows in one transaction. A batch
// the spool refuses (a full disk, an I/O error) is kept one measurement at a time,
// so one bad moment loses only what cannot be written, and says so.
// Not thread-safe: one thread (the run's writer thread) uses it; counts() and
// failures() may be read by another once that thread is joined.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "probe/experiments/experiment.h"
#include "probe/measurement/measurement.h"
#include "vantage/spool/results_db.h"
#include "vantage/spool/spool.h"

namespace vigil {

class SpoolSink {
 public:
  /// Rows of run `run_id` start in `upload_state` (pending when the run uploads);
  /// `note` hears of each write that failed.
  SpoolSink(const Spool& spool, ResultsDb& db, int64_t run_id, UploadState upload_state,
            std::function<void(const std::string&)> note);

  /// Adds a measurement (its scrubbed JSON line) to the batch.
  void Keep(const Measurement& measurement, const RunSummary& summary, const std::string& line);

  /// Writes the batch: spool first, then the results database.
  void Commit();

  /// The measurements, anomalies and failures kept so far.
  const RunCounts& counts() const { return counts_; }

  /// Measurements the spool refused.
  size_t failures() const { return failures_; }

 private:
  const Spool& spool_;
  ResultsDb& db_;
  int64_t run_id_;
  UploadState upload_state_;
  std::function<void(const std::string&)> note_;
  std::vector<std::pair<std::string, std::string>> pending_files_;  // uid, line
  std::vector<MeasurementRow> pending_rows_;
  RunCounts counts_;
  size_t failures_ = 0;
};

}  // namespace vigil
