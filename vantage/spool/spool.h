// The spool: measurements on the volunteer's disk waiting for upload, written durably
// (temp file, fsync, rename, fsync of the directory) before anything else happens to
// them: one file each (<dir>/pending/<uid>.json, Put) or one file per batch
// (<dir>/pending/<first uid>.<count>.batch, a "<uid>\t<json>" line each, PutBatch: one
// new file per batch, which matters on filesystems where creating a file is dear).
// Acknowledged measurements leave pending: a file of its own moves to <dir>/sent/ (or is
// deleted); a batch's acknowledged uids are appended to <batch>.sent beside it, and the
// batch moves (or is deleted) once all are. What is put here must already be scrubbed
// (ScrubProbeIp): the spool stores and uploads exactly these bytes.
// Thread-safe: a Spool holds only its paths, so threads (and processes: a `vigil run`
// and a `vigil upload`) may use the same directory at once, as long as no two of them
// Put the same uid concurrently.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"

namespace vigil {

/// A fresh measurement uid for the spool: the UTC time and 64 random bits,
/// "20261203T112233Z_0123456789abcdef", so that uids sort by time. Thread-safe.
std::string NewLocalUid();

/// Whether `uid` can name a spool file: 1 to 128 of [A-Za-z0-9_.-], not "." or "..".
bool IsValidSpoolUid(std::string_view uid);

/// One spooled measurement.
struct SpoolEntry {
  std::string uid;
  std::string path;       // the file holding the measurement's JSON
  bool in_batch = false;  // the file is a batch: the JSON is bytes [offset, offset + size)
  uint64_t offset = 0;
  uint64_t size = 0;
};

struct SpoolOptions {
  /// MarkSent moves a file to sent/ (where `vigil results show` can still read it)
  /// rather than deleting it.
  bool keep_sent = true;
};

class Spool {
 public:
  /// Opens (creating, mode 0700) `dir`, `dir`/pending and `dir`/sent, and deletes the
  /// temporary files a crash left in pending/ (those of processes no longer running, or
  /// older than a day). The error names the directory that could not be made.
  static Result<Spool> Open(const std::string& dir, SpoolOptions options = {});

  /// Stores one measurement durably as pending/<uid>.json (mode 0600) and returns its
  /// entry. `measurement_json` must be one JSON object on one line. Putting the same
  /// uid with the same bytes again is a no-op; with other bytes it is an error (a uid
  /// names one measurement forever), as is a uid IsValidSpoolUid refuses.
  Result<SpoolEntry> Put(std::string_view uid, std::string_view measurement_json) const;

  /// Put for many at once, as one group commit: the measurements whose uid is not yet
  /// spooled go into one batch file (two syncs and one new file for the batch instead of
  /// two syncs and a file per measurement); a uid already spooled as a file of its own
  /// follows Put's rule. The uids are meant to be new (NewLocalUid): those inside earlier
  /// batches are not looked up (Pending lists each uid once). The same batch put again
  /// is a no-op. An entry that fails its checks fails the batch, and nothing is written.
  Result<std::vector<SpoolEntry>> PutBatch(
      const std::vector<std::pair<std::string, std::string>>& uid_and_json) const;

  /// The measurements waiting for upload, sorted by uid (so by time for NewLocalUid's).
  Result<std::vector<SpoolEntry>> Pending() const;

  /// The measurements already uploaded and kept (keep_sent), sorted by uid.
  Result<std::vector<SpoolEntry>> Sent() const;

  /// The JSON text of an entry, as it was put.
  Result<std::string> Read(const SpoolEntry& entry) const;

  /// Moves pending/<uid>.json to sent/ (or deletes it without keep_sent), durably; for
  /// a uid in a batch, records it in the batch's .sent file (fdatasync) and retires the
  /// batch once every uid of it is recorded. Marking a uid that is already in sent/ again
  /// succeeds (two uploaders may race); an unknown uid is an error, and so, without
  /// keep_sent, is one already deleted.
  Result<void> MarkSent(std::string_view uid) const;
  /// MarkSent for an entry of Pending() (no search for its batch).
  Result<void> MarkSent(const SpoolEntry& entry) const;

  const std::string& dir() const { return dir_; }
  const std::string& pending_dir() const { return pending_dir_; }
  const std::string& sent_dir() const { return sent_dir_; }
  /// How many crash leftovers (temporary files) Open deleted.
  size_t removed_temp_files() const { return removed_temp_files_; }

 private:
  Spool(std::string dir, SpoolOptions options);

  std::string dir_;
  std::string pending_dir_;
  std::string sent_dir_;
  SpoolOptions options_;
  size_t removed_temp_files_ = 0;
};

}  // namespace vigil
