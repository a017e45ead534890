#include "apps/vigil/live_store.h"

#include <chrono>
#include <cstdio>

#include "analysis/ingest/ingest.h"
#include "analysis/store/store.h"
#include "analysis/verdict/rules.h"
#include "apps/vigil/commands.h"

namespace vigil::cli {

Result<std::unique_ptr<LiveStore>> LiveStore::Open(const std::string& spec,
                                                   const std::string& data_dir) {
  std::unique_ptr<LiveStore> live(new LiveStore());
  auto store = analysis::OpenStore(spec.empty() ? analysis::DefaultStoreSpec() : spec);
  if (!store.ok()) return Error{"--store: " + store.error()};
  live->store_ = std::move(*store);
  auto engine =
      analysis::VerdictEngine::Load(data_dir + "/verdict/rules.json", data_dir + "/fingerprints");
  if (!engine.ok()) return Error{"verdict rules: " + engine.error()};
  live->engine_ = std::make_unique<analysis::VerdictEngine>(std::move(*engine));
  analysis::IngestOptions options;
  auto index = analysis::LoadCategoryIndex(TestListFiles(data_dir));
  if (!index.ok()) return Error{"test lists: " + index.error()};
  options.categories = std::move(*index);
  live->extractor_ = std::make_unique<analysis::MeasurementExtractor>(options);
  live->thread_ = std::thread([p = live.get()] { p->Loop(); });
  return live;
}

LiveStore::~LiveStore() {
  {
    std::lock_guard lock(mutex_);
    closing_ = true;
  }
  ready_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::string LiveStore::Describe() const { return store_->Describe(); }

void LiveStore::Add(const std::vector<ArchivedMeasurement>& stored) {
  {
    std::lock_guard lock(mutex_);
    for (const auto& m : stored) queue_.push_back(m.content);
  }
  ready_.notify_one();
}

void LiveStore::Loop() {
  using Clock = std::chrono::steady_clock;
  auto last_commit = Clock::now();
  bool dirty = false;
  for (;;) {
    std::deque<std::string> batch;
    bool closing = false;
    {
      std::unique_lock lock(mutex_);
      ready_.wait_for(lock, std::chrono::seconds(1), [&] { return closing_ || !queue_.empty(); });
      batch.swap(queue_);
      closing = closing_;
    }
    std::vector<analysis::ExtractedMeasurement> facts;
    std::vector<analysis::VerdictRow> verdicts;
    const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    for (const std::string& line : batch) {
      analysis::ExtractedMeasurement m;
      auto ok = extractor_->Extract(line, &m);
      if (!ok.ok()) {
        std::fprintf(stderr, "vigil collector: store: a stored measurement not ingested: %s\n",
                     ok.error().c_str());
        continue;
      }
      m.measurement.source_file = "collector";
      verdicts.push_back(engine_->Score(m, now));
      facts.push_back(std::move(m));
    }
    if (!facts.empty()) {
      auto written = store_->Write(facts, verdicts);
      if (!written.ok()) {
        std::fprintf(stderr, "vigil collector: store %s: %s (the archive has them)\n",
                     store_->Describe().c_str(), written.error().c_str());
      } else {
        dirty = true;
      }
    }
    if (dirty && (closing || Clock::now() - last_commit >= std::chrono::seconds(5))) {
      auto committed = store_->Commit();
      if (!committed.ok()) {
        std::fprintf(stderr, "vigil collector: store %s: %s\n", store_->Describe().c_str(),
                     committed.error().c_str());
      }
      dirty = false;
      last_commit = Clock::now();
    }
    if (closing) {
      std::lock_guard lock(mutex_);
      if (queue_.empty()) return;
    }
  }
}

}  // namespace vigil::cli
