// The volunteer's results database: one SQLite file listing every run (`vigil run im`,
// an autorun pass) and every measurement it produced, with its verdict, where it is
// spooled and how its upload went — what `vigil results` shows and what `vigil upload`
// works through. The measurements themselves live in the spool; this is their index.
// Thread-safe: a mutex serialises the calls on one ResultsDb. Processes (a `vigil run`
// and a `vigil upload` at once) share the file through SQLite's WAL journal and locks,
// waiting up to a busy timeout for each other.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/utc_time.h"

namespace vigil {

enum class UploadState { kPending, kUploaded, kFailed, kDisabled };

/// "pending", "uploaded", "failed", "disabled": the column's values.
std::string_view UploadStateName(UploadState state);
std::optional<UploadState> ParseUploadState(std::string_view name);

/// What a run is when it starts.
struct RunStart {
  std::string started_at;  // FormatUtcTime
  std::string target;      // the experiment or group run ("whatsapp", "im")
  std::string probe_cc;
  std::string probe_asn;  // "AS1234"
  std::string network_name;
};

struct RunCounts {
  int64_t measurements = 0;
  int64_t anomalies = 0;
  int64_t failures = 0;
};

struct RunRow {
  int64_t id = 0;
  std::string started_at;
  std::optional<std::string> finished_at;  // none while running, or if it never finished
  std::string target;
  std::string probe_cc;
  std::string probe_asn;
  std::string network_name;
  RunCounts counts;
};

struct MeasurementRow {
  std::string uid;  // the spool's uid
  int64_t run_id = 0;
  std::string test_name;
  std::string input;       // "" for experiments without input
  std::string start_time;  // the measurement's measurement_start_time
  std::string probe_cc;
  std::string probe_asn;
  /// The caller's word, stored and read back as text (`vigil run` writes RunVerdictName's
  /// words; an older or unknown word reads back unchanged).
  std::string verdict;
  std::string blocking;  // "" or the blocking type ("dns", "tcp_ip", "http-diff", ...)
  bool anomaly = false;
  std::optional<std::string> failure;  // why the experiment could not run
  std::string spool_path;
  UploadState upload_state = UploadState::kPending;
  int64_t upload_attempts = 0;
  std::optional<std::string> last_attempt_at;
  std::optional<std::string> upload_error;
  std::optional<std::string> collector;
  std::optional<std::string> report_id;
  std::optional<std::string> measurement_uid;  // the collector's, once uploaded
  std::optional<std::string> uploaded_at;
};

struct RunWithMeasurements {
  RunRow run;
  std::vector<MeasurementRow> measurements;  // in the order they were added
};

struct MeasurementFilter {
  std::optional<int64_t> run_id;
  std::vector<UploadState> upload_states;  // any of these; empty: any state
  size_t limit = 0;                        // 0: no limit
};

/// One try at uploading a measurement.
struct UploadAttempt {
  std::string uid;
  bool ok = false;
  std::string at;  // FormatUtcTime
  std::string collector;
  std::string report_id;        // when ok
  std::string measurement_uid;  // when ok: the collector's
  std::string error;            // when not ok
};

class ResultsDb {
 public:
  /// The schema version this vigil reads and writes (PRAGMA user_version).
  static constexpr int kSchemaVersion = 1;

  /// Opens `path`, creating it (mode 0600, and its directory) with the schema when it is
  /// new. Refuses a file that is not SQLite, not a vigil results database, or of a newer
  /// schema version than kSchemaVersion; every error names the file.
  static Result<std::unique_ptr<ResultsDb>> Open(const std::string& path);

  ~ResultsDb();
  ResultsDb(const ResultsDb&) = delete;
  ResultsDb& operator=(const ResultsDb&) = delete;

  /// Records a new run and returns its id.
  Result<int64_t> BeginRun(const RunStart& run);

  /// Sets where the run measured from, once geolocation has answered (it runs beside
  /// the first measurements, so a run starts with OONI's defaults, ZZ and AS0).
  Result<void> SetRunNetwork(int64_t run_id, std::string_view probe_cc, std::string_view probe_asn,
                             std::string_view network_name);

  /// Sets the run's finish time and final counts (the runner's tally; AddMeasurement
  /// keeps them current meanwhile, so an interrupted run still shows what it stored).
  Result<void> FinishRun(int64_t run_id, std::string_view finished_at, const RunCounts& counts);

  /// Adds a measurement of an existing run and counts it in the run. Adding a uid that is
  /// already there changes nothing (a retry after a crash).
  Result<void> AddMeasurement(const MeasurementRow& row);
  /// The same for many, in one transaction (one sync to disk for all of them).
  Result<void> AddMeasurements(const std::vector<MeasurementRow>& rows);

  /// The most recent runs first; limit 0: all.
  Result<std::vector<RunRow>> ListRuns(size_t limit);

  /// One run and its measurements; nullopt when there is no such run.
  Result<std::optional<RunWithMeasurements>> GetRun(int64_t run_id);

  /// One measurement; nullopt when there is no such uid.
  Result<std::optional<MeasurementRow>> GetMeasurement(std::string_view uid);

  /// Measurements matching `filter`, oldest first (the order to upload them in).
  Result<std::vector<MeasurementRow>> ListMeasurements(const MeasurementFilter& filter);

  /// Counts an upload try. Success: state "uploaded", with the collector, report id,
  /// the collector's measurement uid and uploaded_at. Failure: state "failed" with the
  /// error — unless the measurement was uploaded already, which stays as it was (the
  /// attempt is still counted). An unknown uid is an error.
  Result<void> RecordUploadAttempt(const UploadAttempt& attempt);

  /// How many measurements are in each upload state (every state present, maybe 0).
  Result<std::map<UploadState, int64_t>> CountByUploadState();

  /// The database file.
  const std::string& path() const;

 private:
  struct Impl;
  explicit ResultsDb(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;  // the connection, its statements and the mutex
};

}  // namespace vigil
