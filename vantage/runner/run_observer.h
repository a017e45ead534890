// RunObserver: what a run tells whoever started it while it goes on — a job that
// ended (for a progress line), where the run measures from, a write that failed,
// each upload. The runner prints nothing itself; `vigil run` prints these, a test
// records them. Each method says on which thread it is called; the default
// implementations ignore everything.
#pragma once

#include <string>

#include "probe/experiments/experiment.h"
#include "vantage/geo/geolocate.h"
#include "vantage/upload/upload_pending.h"

namespace vigil {

/// One job's line: the experiment and its summary (a measurement's, or why there is
/// none: verdict kError when it could not run, kSkipped when it was not started).
struct JobOutcome {
  std::string test;
  RunSummary summary;
};

class RunObserver {
 public:
  virtual ~RunObserver() = default;

  /// A line for the volunteer: an experiment left out or that could not run, a write
  /// that failed. From the caller's thread or the run's writer thread (never both at
  /// once for the same line, but lines of the two may interleave).
  virtual void OnNote(const std::string& /*text*/) {}

  /// Where the run measures from, once geolocation has answered: from the writer
  /// thread before the first measurement is written, or the caller's thread after.
  virtual void OnLocated(const GeoInfo& /*where*/) {}

  /// A job ended (measured, could not run, or not started); on the caller's thread.
  virtual void OnJobDone(const JobOutcome& /*job*/) {}

  /// One measurement of the upload pass went or failed; on the caller's thread.
  virtual void OnUploaded(const UploadProgress& /*progress*/) {}
};

}  // namespace vigil
