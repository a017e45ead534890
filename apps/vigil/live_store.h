// LiveStore: `vigil collector` feeding the analyzer's store as measurements arrive. It
// opens the store (SQLite or ClickHouse), the verdict rules and the test lists, and
// hands what the archive has durably stored to an analysis::LiveFeed, which scores and
// writes it on a thread of its own with bounded memory (a backlog file beyond it). The
// archive stays the record: a store that is slow or down never holds up an
// acknowledgement, and `vigil analyze ARCHIVE --store SPEC` can always load it again.
// Thread-safe: Add from the archive's writer thread.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "vantage/collector/archive.h"

namespace vigil::analysis {
class Store;
class VerdictEngine;
class LiveFeed;
struct IngestOptions;
}  // namespace vigil::analysis

namespace vigil::cli {

class LiveStore {
 public:
  /// Opens the store (`spec` as for `vigil analyze --store`) and the rules; documents
  /// beyond `max_queued_bytes` in memory wait in `backlog_path`.
  static Result<std::unique_ptr<LiveStore>> Open(const std::string& spec,
                                                 const std::string& data_dir,
                                                 const std::string& backlog_path,
                                                 size_t max_queued_bytes);
  ~LiveStore();  // writes and commits what is queued and backlogged

  /// From the archive's writer thread: queues copies (or backlogs them), returns at once.
  void Add(const std::vector<ArchivedMeasurement>& stored);

  std::string Describe() const;

 private:
  LiveStore() = default;

  std::string describe_;
  std::unique_ptr<analysis::Store> store_;
  std::unique_ptr<analysis::VerdictEngine> engine_;
  std::unique_ptr<analysis::IngestOptions> ingest_;
  std::unique_ptr<analysis::LiveFeed> feed_;  // destroyed first: it writes to store_
};

}  // namespace vigil::cli
