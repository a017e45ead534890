// LiveStore: the collector feeding the analyzer's store as measurements arrive. The
// archive hands over what it has durably stored; a thread of its own extracts facts,
// scores them under the verdict rules and writes them to the store (SQLite or
// ClickHouse), committing at most every few seconds. The archive stays the record: a
// store that is slow or down never holds up an acknowledgement, and what it missed
// can be loaded again with `vigil analyze ARCHIVE --store SPEC`.
#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/result.h"
#include "vantage/collector/archive.h"

namespace vigil::analysis {
class Store;
class VerdictEngine;
class MeasurementExtractor;
}  // namespace vigil::analysis

namespace vigil::cli {

class LiveStore {
 public:
  /// Opens the store (`spec` as for `vigil analyze --store`) and the rules.
  static Result<std::unique_ptr<LiveStore>> Open(const std::string& spec,
                                                 const std::string& data_dir);
  ~LiveStore();  // writes and commits what is queued

  /// From the archive's writer thread: queues copies, returns at once.
  void Add(const std::vector<ArchivedMeasurement>& stored);

  std::string Describe() const;

 private:
  LiveStore() = default;
  void Loop();

  std::unique_ptr<analysis::Store> store_;
  std::unique_ptr<analysis::VerdictEngine> engine_;
  std::unique_ptr<analysis::MeasurementExtractor> extractor_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::string> queue_;  // guarded
  bool closing_ = false;           // guarded
  std::thread thread_;
};

}  // namespace vigil::cli
