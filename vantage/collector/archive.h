// Archive: the collector's durable store of raw measurements, as JSONL.gz files in
// OONI's layout, <root>/YYYYMMDD/HH/CC/<test_name>/<file>.jsonl.gz (the hour is when
// the measurement arrived, UTC). Submissions are group-committed: a writer thread
// takes everything queued, appends one gzip member per file (concatenated members
// are valid gzip), fsyncs every file it touched (and the directories of new files),
// and only then completes the submissions, so an acknowledgement means "on disk".
// A measurement already stored (same uid) is not stored again: its submission
// completes at once as a duplicate. On Open the archive reads back the files of the
// last `dedup_days` days: it cuts off a torn trailing member left by a crash (never
// acknowledged, so nothing acknowledged is lost) and learns the uids it holds.
// Thread-safe: Submit from any thread; completions run on the writer thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ctime>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"

namespace vigil {

struct ArchiveOptions {
  std::string root;
  int dedup_days = 7;                        // how far back Open reads uids
  size_t max_file_bytes = size_t{64} << 20;  // a new file after this many (compressed)
  size_t max_batch = 4096;                   // submissions per group commit at most
  bool fsync = true;                         // off only for benchmarks of the rest
  std::function<std::time_t()> clock;        // UTC seconds; default: time()
};

struct ArchivedMeasurement {
  std::string uid;
  std::string test_name, probe_cc;
  std::string content;  // one JSON line, no newline
};

enum class StoreOutcome { kStored, kDuplicate, kFailed };

struct RecoveryReport {
  size_t files = 0, measurements = 0, torn_files = 0, torn_bytes = 0;
  std::vector<std::string> problems;  // file: reason (unreadable beyond repair)
};

class Archive {
 public:
  using Done = std::function<void(StoreOutcome, const std::string& error)>;
  /// Called on the writer thread after each commit with what it stored (not duplicates).
  using OnCommitted = std::function<void(const std::vector<ArchivedMeasurement>&)>;

  static Result<std::unique_ptr<Archive>> Open(ArchiveOptions options,
                                               RecoveryReport* report = nullptr);
  ~Archive();  // commits what is queued, then stops the writer

  Archive(const Archive&) = delete;
  Archive& operator=(const Archive&) = delete;

  /// Queues a measurement; `done` runs once it is durable, a duplicate, or failed.
  void Submit(ArchivedMeasurement measurement, Done done);

  void SetOnCommitted(OnCommitted callback);  // before the first Submit

  /// Measurements stored since Open (not counting duplicates), and uids known.
  uint64_t stored() const;
  size_t known_uids() const;

 private:
  Archive();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil
