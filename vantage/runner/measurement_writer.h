// MeasurementWriter: renders finished measurements to JSON lines and writes them
// (to a file, to stdout, or both) on a thread of its own, in the order they were
// handed over, so that the event loop running the measurements never waits for
// serialisation or for the disk. Lines are rendered as they come; they are committed
// (the batch hook: the spool's group commit, the file's flush) at most once per
// commit interval, so a burst of finished measurements costs one commit, not one for
// every few measurements the thread happened to find queued. Push() may be called from
// one thread at a time; Finish() commits what is left, joins the writer and says
// whether every line reached its file.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "probe/experiments/experiment.h"
#include "probe/measurement/measurement.h"

namespace vigil {

class MeasurementWriter {
 public:
  /// Runs on the writer thread for each rendered line before it is written anywhere:
  /// may rewrite it (scrubbing), judge it (the summary) and keep it (the spool); `tag`
  /// is Push's.
  using Hook =
      std::function<void(const Measurement&, RunSummary& summary, std::string& line, size_t tag)>;

  /// Runs on the writer thread after each batch of lines (a group commit's moment).
  using BatchHook = std::function<void()>;

  /// Runs on the writer thread for each measurement before it is rendered: fills in
  /// what the run learnt while it measured (where the probe is) and may block until
  /// that is known, without holding up the measurements in flight.
  using Complete = std::function<void(Measurement&)>;

  /// `file` may be closed (no file output); `to_stdout` adds one line per measurement.
  MeasurementWriter(std::ofstream* file, bool to_stdout, Hook hook = {}, BatchHook batch_hook = {},
                    Complete complete = {},
                    std::chrono::milliseconds commit_interval = kDefaultCommitInterval);

  /// A measurement waits at most this long, once rendered, for its commit: short
  /// beside the round trips that made it, long enough to gather a burst.
  static constexpr std::chrono::milliseconds kDefaultCommitInterval{100};
  ~MeasurementWriter();

  MeasurementWriter(const MeasurementWriter&) = delete;
  MeasurementWriter& operator=(const MeasurementWriter&) = delete;

  /// Queues a measurement; `tag` is handed to the hook with it (the caller's job index).
  void Push(Measurement measurement, RunSummary summary = {}, size_t tag = 0);

  /// Writes what is queued, stops the thread; false when a write to the file failed.
  bool Finish();

 private:
  void Loop();

  std::ofstream* file_;
  bool to_stdout_;
  std::mutex mutex_;
  std::condition_variable ready_;
  Hook hook_;
  BatchHook batch_hook_;
  Complete complete_;
  std::chrono::milliseconds commit_interval_;
  struct Item {
    Measurement measurement;
    RunSummary summary;
    size_t tag = 0;
  };
  std::vector<Item> queue_;   // guarded by mutex_
  bool closing_ = false;      // guarded by mutex_
  bool file_failed_ = false;  // the writer thread's alone until joined
  std::thread thread_;
};

}  // namespace vigil
