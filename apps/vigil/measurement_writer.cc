#include "apps/vigil/measurement_writer.h"

#include <utility>

#include "probe/measurement/measurement_json.h"

namespace vigil::cli {

MeasurementWriter::MeasurementWriter(std::ofstream* file, bool to_stdout, Hook hook,
                                     BatchHook batch_hook)
    : file_(file),
      to_stdout_(to_stdout),
      hook_(std::move(hook)),
      batch_hook_(std::move(batch_hook)),
      thread_([this] { Loop(); }) {}

MeasurementWriter::~MeasurementWriter() { Finish(); }

void MeasurementWriter::Push(Measurement measurement, RunSummary summary) {
  {
    std::lock_guard lock(mutex_);
    queue_.emplace_back(std::move(measurement), std::move(summary));
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
  std::deque<std::pair<Measurement, RunSummary>> batch;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      ready_.wait(lock, [this] { return closing_ || !queue_.empty(); });
      if (queue_.empty()) return;  // closing, and nothing left
      batch.swap(queue_);
    }
    for (const auto& [m, summary] : batch) {
      std::string line = ToJson(m).dump(-1, ' ', false, Json::error_handler_t::replace);
      if (hook_) hook_(m, summary, line);
      if (file_ && file_->is_open()) {
        *file_ << line << '\n';
      }
      if (to_stdout_) {
        std::fwrite(line.data(), 1, line.size(), stdout);
        std::fputc('\n', stdout);
      }
    }
    batch.clear();
    if (batch_hook_) batch_hook_();
    // One flush per batch: a line is whole on disk (and on a pipe) as soon as its
    // batch is written, and a burst costs one write instead of one per measurement.
    if (file_ && file_->is_open()) {
      file_->flush();
      if (!*file_) file_failed_ = true;
    }
    if (to_stdout_) std::fflush(stdout);
  }
}

}  // namespace vigil::cli
