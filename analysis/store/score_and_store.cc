// The writer thread takes jobs in order: a batch to write, or a commit. The producer
// fills one batch at a time and hands it over whole, so the writer's locking is per
// batch, not per measurement, and the store sees the measurements in input order.
#include "analysis/store/score_and_store.h"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "analysis/store/store.h"
#include "analysis/verdict/rules.h"

namespace vigil::analysis {

namespace {

struct Job {
  std::vector<ExtractedMeasurement> facts;
  std::vector<VerdictRow> verdicts;
  bool commit = false;
};

}  // namespace

struct ScoreAndStore::Impl {
  Impl(Store* s, const VerdictEngine& e, const IngestOptions& i, ScoreAndStoreOptions o)
      : store(s), engine(e), ingest(i), options(o) {
    if (options.batch == 0) options.batch = 1;
    if (options.max_queued < options.batch) options.max_queued = options.batch;
    if (store) writer = std::thread([this] { Write(); });
  }

  ~Impl() {
    Hand();
    {
      std::lock_guard lock(mu);
      closing = true;
    }
    work_ready.notify_all();
    if (writer.joinable()) writer.join();
  }

  // Queues the batch being filled (if any) and starts a new one in a written batch's
  // vectors when there is one.
  void Hand() {
    if (filled == 0 || !store) return;
    Job job;
    facts.resize(filled);
    verdicts.resize(filled);
    job.facts.swap(facts);
    job.verdicts.swap(verdicts);
    filled = 0;
    {
      std::unique_lock lock(mu);
      room.wait(lock,
                [&] { return queued + job.facts.size() <= options.max_queued || queued == 0; });
      queued += job.facts.size();
      jobs.push_back(std::move(job));
      if (!spare.empty()) {
        facts.swap(spare.back().facts);
        verdicts.swap(spare.back().verdicts);
        spare.pop_back();
      }
    }
    work_ready.notify_one();
  }

  // Moves into the batch's next element: a written measurement's buffers, which the
  // move hands back to `s` to be refilled, rather than freed on the writer.
  void Queue(ScoredMeasurement& s) {
    if (!store) return;
    if (filled == facts.size()) {
      facts.emplace_back();
      verdicts.emplace_back();
    }
    facts[filled] = std::move(s.facts);
    verdicts[filled] = std::move(s.verdict);
    if (++filled >= options.batch) Hand();
  }

  void Write() {
    for (;;) {
      Job job;
      {
        std::unique_lock lock(mu);
        work_ready.wait(lock, [&] { return closing || !jobs.empty(); });
        if (jobs.empty()) return;
        job = std::move(jobs.front());
        jobs.pop_front();
      }
      Result<void> done;
      if (job.commit) {
        done = store->Commit();
      } else if (!job.facts.empty()) {
        done = store->Write(job.facts, job.verdicts);
      }
      const size_t n = job.facts.size();
      {
        std::lock_guard lock(mu);
        queued -= n;
        if (done.ok()) {
          written += n;
        } else {
          lost += n;
          if (error.empty()) error = done.error();
        }
        if (job.commit) ++commits_done;
        if (n > 0 && spare.size() < 2) spare.push_back(std::move(job));
      }
      room.notify_all();
    }
  }

  Result<void> Commit() {
    if (!store) return {};
    Hand();
    uint64_t ticket = 0;
    {
      std::unique_lock lock(mu);
      Job job;
      job.commit = true;
      jobs.push_back(std::move(job));
      ticket = ++commits_asked;
    }
    work_ready.notify_one();
    std::unique_lock lock(mu);
    room.wait(lock, [&] { return commits_done >= ticket; });
    std::string e;
    e.swap(error);
    const uint64_t n = lost;
    lost = 0;
    if (e.empty()) return {};
    return Error{e + (n ? " (" + std::to_string(n) + " measurements not stored)" : "")};
  }

  Store* store;
  const VerdictEngine& engine;
  const IngestOptions& ingest;
  ScoreAndStoreOptions options;
  std::unique_ptr<MeasurementExtractor> extractor;  // AddDocuments' only, made on first use

  // The producer's batch being filled: its first `filled` elements.
  std::vector<ExtractedMeasurement> facts;
  std::vector<VerdictRow> verdicts;
  size_t filled = 0;

  std::mutex mu;
  std::condition_variable work_ready, room;
  std::deque<Job> jobs;    // guarded
  std::vector<Job> spare;  // guarded: written batches, for the producer to refill
  size_t queued = 0;       // guarded: measurements in jobs or being written
  uint64_t written = 0;    // guarded
  uint64_t lost = 0;       // guarded: since the last Commit
  std::string error;       // guarded: the first since the last Commit
  uint64_t commits_asked = 0, commits_done = 0;  // guarded
  bool closing = false;                          // guarded
  std::thread writer;
};

ScoreAndStore::ScoreAndStore(Store* store, const VerdictEngine& engine, const IngestOptions& ingest,
                             ScoreAndStoreOptions options)
    : impl_(std::make_unique<Impl>(store, engine, ingest, options)) {}

ScoreAndStore::~ScoreAndStore() = default;

Result<IngestStats> ScoreAndStore::IngestPaths(const std::vector<std::string>& paths,
                                               unsigned threads, const ScoredObserver& observe,
                                               const ErrorSink& errors) {
  return IngestAndScore(
      paths, impl_->ingest, impl_->engine, threads,
      [&](std::vector<ScoredMeasurement>& scored) {
        for (auto& s : scored) {
          if (observe) observe(s);
          impl_->Queue(s);
        }
      },
      errors);
}

size_t ScoreAndStore::AddDocuments(const std::vector<std::string>& documents,
                                   std::string_view source_file, int64_t now,
                                   const ErrorSink& errors) {
  if (!impl_->extractor) impl_->extractor = std::make_unique<MeasurementExtractor>(impl_->ingest);
  size_t queued = 0;
  ScoredMeasurement s;
  for (size_t i = 0; i < documents.size(); ++i) {
    auto ok = impl_->extractor->Extract(documents[i], &s.facts);
    if (!ok.ok()) {
      if (errors) errors({std::string(source_file), i + 1, ok.error()});
      continue;
    }
    s.facts.measurement.source_file = std::string(source_file);
    s.facts.measurement.source_line = 0;  // a document of the archive, not a file's line
    // Fed as it arrives: now is when it was uploaded.
    if (s.facts.measurement.upload_time == 0) s.facts.measurement.upload_time = now;
    s.verdict = impl_->engine.Score(s.facts, now);
    impl_->Queue(s);
    ++queued;
  }
  return queued;
}

void ScoreAndStore::Add(std::vector<ScoredMeasurement>& scored) {
  for (auto& s : scored) impl_->Queue(s);
}

Result<void> ScoreAndStore::Commit() { return impl_->Commit(); }

uint64_t ScoreAndStore::written() const {
  std::lock_guard lock(impl_->mu);
  return impl_->written;
}

}  // namespace vigil::analysis
