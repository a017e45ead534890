// UploadPending: what `vigil upload` (and `vigil run` with uploads on) does: every
// measurement waiting in the spool goes to the collectors through the Uploader, in
// the order it was measured; each one acknowledged is moved to the spool's sent/ and
// marked uploaded in the results database; each failure is recorded there with its
// reason and stays pending for the next time. Nothing is lost or silent: the report
// lists every failure. A deadline bounds the whole pass (a blocked collector cannot
// stall the probe: what is left stays pending).
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "vantage/spool/results_db.h"
#include "vantage/spool/spool.h"
#include "vantage/upload/uploader.h"

namespace vigil {

struct UploadProgress {
  size_t done = 0, total = 0;
  std::string uid;
  const UploadResult* result = nullptr;  // of this measurement
};

struct UploadReport {
  size_t pending = 0, uploaded = 0, failed = 0, left = 0;     // left: not tried (deadline, limit)
  std::vector<std::pair<std::string, std::string>> failures;  // uid, reason
  std::string error;  // the pass could not start (spool unreadable)
};

struct UploadPendingOptions {
  UploadOptions upload;
  size_t limit = 0;  // 0: all
  std::optional<std::chrono::steady_clock::time_point> deadline;
  /// After this many failures in a row no collector is reachable: stop, leave the rest.
  size_t give_up_after_consecutive_failures = 3;
};

UploadReport UploadPending(const Spool& spool, ResultsDb* db, const UploadPendingOptions& options,
                           const std::function<void(const UploadProgress&)>& progress = {});

}  // namespace vigil
