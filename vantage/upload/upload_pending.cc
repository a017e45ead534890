#include "vantage/upload/upload_pending.h"

namespace vigil {

UploadReport UploadPending(const Spool& spool, ResultsDb* db, const UploadPendingOptions& options,
                           const std::function<void(const UploadProgress&)>& progress) {
  UploadReport report;
  auto pending = spool.Pending();
  if (!pending.ok()) {
    report.error = pending.error();
    return report;
  }
  report.pending = pending->size();
  size_t total = pending->size();
  if (options.limit > 0) total = std::min(total, options.limit);
  Uploader uploader(options.upload);
  size_t in_a_row = 0;
  size_t done = 0;
  for (const SpoolEntry& entry : *pending) {
    if (done == total) break;
    if (options.deadline && std::chrono::steady_clock::now() >= *options.deadline) break;
    if (options.give_up_after_consecutive_failures > 0 &&
        in_a_row >= options.give_up_after_consecutive_failures) {
      break;
    }
    ++done;
    auto text = spool.Read(entry);
    UploadResult result;
    if (!text.ok()) {
      result.error = text.error();
    } else {
      result = uploader.Upload(*text);
    }
    const std::string now = FormatUtcTime(std::chrono::system_clock::now());
    if (result.ok) {
      auto marked = spool.MarkSent(entry);
      if (!marked.ok()) {
        // Uploaded, but still in pending/: the next pass sends it again, and the
        // collector answers with the same uid. Say so rather than hide it.
        result.ok = false;
        result.error = "uploaded, but " + marked.error();
      }
    }
    if (db != nullptr) {
      UploadAttempt attempt;
      attempt.uid = entry.uid;
      attempt.ok = result.ok;
      attempt.at = now;
      attempt.collector = result.collector;
      attempt.report_id = result.report_id;
      attempt.measurement_uid = result.measurement_uid;
      attempt.error = result.error;
      db->RecordUploadAttempt(attempt);  // a measurement the database does not list: fine
    }
    if (result.ok) {
      ++report.uploaded;
      in_a_row = 0;
    } else {
      ++report.failed;
      report.failures.emplace_back(entry.uid, result.error);
      // A measurement refused for its content does not say the collector is away.
      in_a_row = result.permanent ? 0 : in_a_row + 1;
    }
    if (progress) progress({done, total, entry.uid, &result});
  }
  uploader.CloseReports();
  report.left = report.pending - report.uploaded - report.failed;
  return report;
}

}  // namespace vigil
