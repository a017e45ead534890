#include "vantage/runner/measurement_writer.h"

#include <sys/resource.h>
#include <unistd.h>

#include <type_traits>
#include <utility>

#include "probe/measurement/measurement_json.h"

namespace vigil {

// The queue is a vector whose capacity the two threads hand back and forth: pushing
// a measurement allocates nothing once the run is under way, and growing moves them.
static_assert(std::is_nothrow_move_constructible_v<Measurement>);

namespace {
constexpr int kWriterNiceness = 10;
}  // namespace

MeasurementWriter::MeasurementWriter(std::ofstream* file, bool to_stdout, Hook hook,
                                     BatchHook batch_hook, Complete complete,
                                     std::chrono::milliseconds commit_interval)
    : file_(file),
      to_stdout_(to_stdout),
      hook_(std::move(hook)),
      batch_hook_(std::move(batch_hook)),
      complete_(std::move(complete)),
      commit_interval_(commit_interval),
      thread_([this] { Loop(); }) {}

MeasurementWriter::~MeasurementWriter() { Finish(); }

void MeasurementWriter::Push(Measurement measurement, RunSummary summary, size_t tag) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(Item{std::move(measurement), std::move(summary), tag});
  }
  ready_.notify_one();
}

bool MeasurementWriter::Finish() {
  {
    std::lock_guard lock(mutex_);
    closing_ = true;
  }
  ready_.notify_one();
  if (thread_.joinable()) thread_.join();
  return !file_failed_;
}

void MeasurementWriter::Loop() {
  // Rendering and committing can wait; the measurements in flight cannot: their
  // timings are part of what they record, and a round trip whose answer waits for a
  // CPU busy here would be measured longer than it was. So this thread yields the CPU
  // to the event loop (and to anything else that is waiting) and runs in the gaps.
  // A thread's own niceness may always be raised; if even that fails it runs as is.
  setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), kWriterNiceness);
  using Clock = std::chrono::steady_clock;
  std::vector<Item> batch;
  size_t uncommitted = 0;  // lines rendered and handed to the hook since the last commit
  Clock::time_point last_commit = Clock::now();
  auto commit = [&] {
    if (batch_hook_) batch_hook_();
    // One flush per commit: a line is whole on disk (and on a pipe) as soon as its
    // batch is committed, and a burst costs one write instead of one per measurement.
    if (file_ && file_->is_open()) {
      file_->flush();
      if (!*file_) file_failed_ = true;
    }
    if (to_stdout_) std::fflush(stdout);
    uncommitted = 0;
    last_commit = Clock::now();
  };
  for (;;) {
    bool closing = false;
    {
      std::unique_lock lock(mutex_);
      auto more = [this] { return closing_ || !queue_.empty(); };
      if (uncommitted == 0) {
        ready_.wait(lock, more);
      } else {
        ready_.wait_until(lock, last_commit + commit_interval_, more);
      }
      batch.swap(queue_);
      closing = closing_ && batch.empty();
    }
    for (auto& [m, summary, tag] : batch) {
      if (complete_) complete_(m);
      std::string line = ToJson(m).dump(-1, ' ', false, Json::error_handler_t::replace);
      if (hook_) hook_(m, summary, line, tag);
      if (file_ && file_->is_open()) {
        *file_ << line << '\n';
      }
      if (to_stdout_) {
        std::fwrite(line.data(), 1, line.size(), stdout);
        std::fputc('\n', stdout);
      }
      ++uncommitted;
    }
    batch.clear();
    if (closing) {
      if (uncommitted > 0) commit();
      return;
    }
    if (uncommitted > 0 && Clock::now() >= last_commit + commit_interval_) commit();
  }
}

}  // namespace vigil
