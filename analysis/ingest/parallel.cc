// IngestAndScore: ingest and verdicts on every core. Reading a file is cheap (memchr for
// newlines, zlib for .gz); parsing and scoring are not. So the calling thread reads and
// copies lines into blocks of 64 KB, workers each with their own extractor parse and
// score whole blocks, and the calling thread takes finished blocks back in order and
// hands them to the sink, so that stores see measurements in file order and errors keep
// their file:line order.
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

#include "analysis/ingest/ingest.h"
#include "analysis/verdict/rules.h"

namespace vigil::analysis {
namespace {

// Blocks small enough that a block's results (several times its bytes) stay in cache
// between the worker that makes them and the sink that reads them, and that the rows a
// recycled block's measurements are refilled into are still in cache: 4 MB blocks cost
// a third of the one-worker throughput in cache misses and cold allocations, and 64 KB
// blocks take a quarter less CPU than 256 KB ones for the same work.
constexpr size_t kBlockBytes = size_t{64} << 10;
constexpr size_t kPadding = 64;  // simdjson::SIMDJSON_PADDING

struct Line {
  size_t offset;
  size_t size;
  uint64_t number;
  uint32_t file;  // index into Block::files
};

struct Block {
  uint64_t seq = 0;
  std::string data;  // the lines, each followed by '\n'; zeroed padding at the end
  std::vector<Line> lines;
  std::vector<std::string> files;
  // Results
  std::vector<ScoredMeasurement> scored;
  std::vector<IngestError> errors;
};

class Pipeline {
 public:
  Pipeline(const IngestOptions& options, const VerdictEngine& engine, unsigned threads)
      : engine_(engine),
        // One "now" for the whole run: every measurement is judged against the same
        // instant, whichever worker scores it.
        now_(std::chrono::duration_cast<std::chrono::seconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count()) {
    for (unsigned i = 0; i < threads; ++i) {
      workers_.emplace_back([this, &options] { Work(options); });
    }
  }

  ~Pipeline() {
    {
      std::lock_guard lock(mu_);
      closing_ = true;
    }
    work_ready_.notify_all();
    for (auto& w : workers_) w.join();
  }

  // Queues a block; waits (delivering finished blocks) while too many are in flight.
  void Submit(std::unique_ptr<Block> block, const ScoredSink& sink, const ErrorSink& errors,
              IngestStats& stats) {
    {
      std::unique_lock lock(mu_);
      block->seq = next_seq_++;
      queue_.push_back(std::move(block));
    }
    work_ready_.notify_one();
    Deliver(sink, errors, stats, /*all=*/false);
  }

  // Delivers finished blocks in order: all of them when `all`, else only while more than
  // two per worker are in flight (back-pressure on the reader).
  void Deliver(const ScoredSink& sink, const ErrorSink& errors, IngestStats& stats, bool all) {
    for (;;) {
      std::unique_ptr<Block> block;
      {
        std::unique_lock lock(mu_);
        auto in_flight = [&] { return next_seq_ - delivered_; };
        if (!all && in_flight() <= 2 * workers_.size()) {
          // Hand over what is already done without waiting.
          auto it = done_.find(delivered_);
          if (it == done_.end()) return;
          block = std::move(it->second);
          done_.erase(it);
        } else {
          if (in_flight() == 0) return;
          block_done_.wait(lock, [&] { return done_.count(delivered_) > 0; });
          auto it = done_.find(delivered_);
          block = std::move(it->second);
          done_.erase(it);
        }
        ++delivered_;
      }
      for (const auto& e : block->errors) errors(e);
      stats.bad_lines += block->errors.size();
      stats.measurements += block->scored.size();
      if (!block->scored.empty()) sink(block->scored);
      Recycle(std::move(block));
    }
  }

  // An empty block, its buffers reused from a delivered one when there is one (a fresh
  // 4 MB buffer per block costs page faults and copies as it grows).
  std::unique_ptr<Block> Take() {
    if (free_.empty()) {
      auto block = std::make_unique<Block>();
      block->data.reserve(kBlockBytes + (kBlockBytes >> 2));
      return block;
    }
    auto block = std::move(free_.back());
    free_.pop_back();
    return block;
  }

 private:
  void Work(const IngestOptions& options) {
    MeasurementExtractor extractor(options);
    for (;;) {
      std::unique_ptr<Block> block;
      {
        std::unique_lock lock(mu_);
        work_ready_.wait(lock, [&] { return closing_ || !queue_.empty(); });
        if (queue_.empty()) return;
        block = std::move(queue_.front());
        queue_.pop_front();
      }
      // The previous use's measurements are refilled in place, so their buffers are
      // reused rather than freed and allocated again.
      auto& scored = block->scored;
      size_t n = 0;
      for (const Line& line : block->lines) {
        if (n == scored.size()) scored.emplace_back();
        ScoredMeasurement& s = scored[n];
        const char* start = block->data.data() + line.offset;
        auto ok =
            extractor.ExtractPadded(start, line.size, block->data.size() - line.offset, &s.facts);
        if (!ok.ok()) {
          block->errors.push_back({block->files[line.file], line.number, ok.error()});
          continue;
        }
        s.facts.measurement.source_file = block->files[line.file];
        s.facts.measurement.source_line = line.number;
        s.verdict = engine_.Score(s.facts, now_);
        ++n;
      }
      scored.resize(n);
      {
        std::lock_guard lock(mu_);
        const uint64_t seq = block->seq;
        done_.emplace(seq, std::move(block));
      }
      block_done_.notify_all();
    }
  }

  void Recycle(std::unique_ptr<Block> block) {
    block->data.clear();
    block->lines.clear();
    block->files.clear();
    block->errors.clear();  // `scored` is cleared by the worker that takes the block next
    if (free_.size() < 4) free_.push_back(std::move(block));
  }

  const VerdictEngine& engine_;
  const int64_t now_;
  std::vector<std::unique_ptr<Block>> free_;  // the calling thread's only
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable work_ready_, block_done_;
  std::deque<std::unique_ptr<Block>> queue_;
  std::map<uint64_t, std::unique_ptr<Block>> done_;
  uint64_t next_seq_ = 0;
  uint64_t delivered_ = 0;
  bool closing_ = false;
};

}  // namespace

Result<IngestStats> IngestAndScore(const std::vector<std::string>& paths,
                                   const IngestOptions& options, const VerdictEngine& engine,
                                   unsigned threads, const ScoredSink& sink,
                                   const ErrorSink& errors) {
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  IngestStats stats;
  Pipeline pipeline(options, engine, threads);
  auto block = pipeline.Take();
  auto finish_block = [&] {
    if (block->lines.empty()) return;
    block->data.append(kPadding, '\0');
    pipeline.Submit(std::move(block), sink, errors, stats);
    block = pipeline.Take();
  };
  for (const auto& path : paths) {
    auto read = ReadMeasurementFiles(
        path, stats, errors,
        [&](const std::string& file, const char* start, size_t size, size_t, uint64_t line) {
          if (block->files.empty() || block->files.back() != file) block->files.push_back(file);
          block->lines.push_back(
              {block->data.size(), size, line, static_cast<uint32_t>(block->files.size() - 1)});
          block->data.append(start, size);
          block->data.push_back('\n');
          if (block->data.size() >= kBlockBytes) finish_block();
        });
    if (!read.ok()) {
      finish_block();
      pipeline.Deliver(sink, errors, stats, /*all=*/true);
      return Error{path + ": " + read.error()};
    }
  }
  finish_block();
  pipeline.Deliver(sink, errors, stats, /*all=*/true);
  return stats;
}

}  // namespace vigil::analysis
