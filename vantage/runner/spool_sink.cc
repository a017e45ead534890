#include "vantage/runner/spool_sink.h"

#include <optional>
#include <string>

namespace vigil {
namespace {

// The run's failures: the target was down, the probe had no network, or there is no
// verdict.
bool IsFailure(RunVerdict verdict) {
  return verdict == RunVerdict::kDown || verdict == RunVerdict::kError ||
         verdict == RunVerdict::kNoNetwork;
}

}  // namespace

SpoolSink::SpoolSink(const Spool& spool, ResultsDb& db, int64_t run_id, UploadState upload_state,
                     std::function<void(const std::string&)> note)
    : spool_(spool),
      db_(db),
      run_id_(run_id),
      upload_state_(upload_state),
      note_(std::move(note)) {}

void SpoolSink::Keep(const Measurement& m, const RunSummary& summary, const std::string& line) {
  MeasurementRow row;
  row.uid = NewLocalUid();
  row.run_id = run_id_;
  row.test_name = m.test_name;
  row.input = m.input.is_string() ? m.input.get<std::string>() : "";
  row.start_time = m.measurement_start_time;
  row.probe_cc = m.probe_cc;
  row.probe_asn = m.probe_asn;
  row.verdict = std::string(RunVerdictName(summary.verdict));
  row.blocking = summary.blocking;
  row.anomaly = summary.verdict == RunVerdict::kBlocked || summary.verdict == RunVerdict::kAnomaly;
  row.upload_state = upload_state_;
  pending_files_.emplace_back(row.uid, line);
  pending_rows_.push_back(std::move(row));
}

void SpoolSink::Commit() {
  if (pending_files_.empty()) return;
  auto put = spool_.PutBatch(pending_files_);
  if (!put.ok()) {
    // One bad moment (a full disk, an I/O error) must not lose the batch: try each
    // measurement on its own, and keep the ones that go in.
    if (note_) note_("spool: " + put.error() + " (keeping the batch one by one)");
    std::vector<SpoolEntry> kept;
    std::vector<MeasurementRow> rows;
    for (size_t i = 0; i < pending_files_.size(); ++i) {
      auto one = spool_.Put(pending_files_[i].first, pending_files_[i].second);
      if (!one.ok()) {
        ++failures_;
        if (note_) note_("spool: " + one.error());
        continue;
      }
      kept.push_back(*one);
      rows.push_back(std::move(pending_rows_[i]));
    }
    put = std::move(kept);
    pending_rows_ = std::move(rows);
  }
  for (size_t i = 0; i < pending_rows_.size(); ++i) {
    MeasurementRow& row = pending_rows_[i];
    row.spool_path = (*put)[i].path;
    ++counts_.measurements;
    if (row.anomaly) ++counts_.anomalies;
    // The row's word was written from the name table in Keep.
    const std::optional<RunVerdict> verdict = ParseRunVerdict(row.verdict);
    if (verdict && IsFailure(*verdict)) ++counts_.failures;
  }
  auto added = db_.AddMeasurements(pending_rows_);
  if (!added.ok() && note_) note_("results database: " + added.error());
  pending_files_.clear();
  pending_rows_.clear();
}

}  // namespace vigil
