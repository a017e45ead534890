// LiveFeed: measurements into the analysis store as a collector receives them. Add()
// hands over JSON documents (already durable elsewhere: the collector's archive) and
// returns at once; a thread of its own extracts, scores and writes them through
// ScoreAndStore, committing at most every `commit_every`. What waits is bounded: up to
// `max_queued_bytes` in memory (and as much again in the hands of the feed, besides the
// few batches ScoreAndStore holds), beyond that appended to a backlog file, which the
// feed reads back in order once it has caught up. A slow or stalled store costs disk, not
// memory, and drops nothing; a backlog left by a crash is fed at the next start (writes
// are idempotent by measurement_uid). Only when the backlog cannot be written (disk full)
// are documents dropped, counted and reported: the archive still has them.
// Thread-safe: Add and stats from any thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "analysis/ingest/ingest.h"
#include "analysis/store/score_and_store.h"
#include "base/result.h"

namespace vigil::analysis {

class Store;
class VerdictEngine;

struct LiveFeedOptions {
  std::string backlog_path;                    ///< required: the overflow file
  size_t max_queued_bytes = size_t{64} << 20;  ///< documents held in memory at most
  std::chrono::milliseconds commit_every{5000};
  std::string source_file = "collector";  ///< the stored rows' source_file
  ScoreAndStoreOptions writes{500, 2000};
  /// Problems (a document that is not a measurement, a failed write); default: none.
  std::function<void(const std::string& message)> report;
};

struct LiveFeedStats {
  uint64_t added = 0;            ///< documents handed to Add
  uint64_t backlogged = 0;       ///< of them, written to the backlog file first
  uint64_t dropped = 0;          ///< of them, neither queued nor backlogged (reported)
  uint64_t fed = 0;              ///< documents given to ScoreAndStore (backlog included)
  size_t peak_queued_bytes = 0;  ///< the most held in memory at once
};

class LiveFeed {
 public:
  /// Opens the backlog (feeding what a previous run left in it first) and starts the
  /// feed's thread. `store`, `engine` and `ingest` must outlive the feed.
  static Result<std::unique_ptr<LiveFeed>> Start(Store& store, const VerdictEngine& engine,
                                                 const IngestOptions& ingest,
                                                 LiveFeedOptions options);
  /// Feeds everything still queued or backlogged, commits, and stops the thread.
  ~LiveFeed();
  LiveFeed(const LiveFeed&) = delete;
  LiveFeed& operator=(const LiveFeed&) = delete;

  /// Copies the documents into the queue, or appends them to the backlog when the queue
  /// is full or a backlog is still being fed (order is kept). Never waits for the store.
  void Add(const std::vector<std::string_view>& documents);

  LiveFeedStats stats() const;

 private:
  LiveFeed() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil::analysis
