#include "apps/vigil/live_store.h"

#include <cstdio>
#include <string_view>

#include "analysis/ingest/ingest.h"
#include "analysis/store/live_feed.h"
#include "analysis/store/store.h"
#include "analysis/verdict/rules.h"
#include "apps/vigil/commands.h"

namespace vigil::cli {

Result<std::unique_ptr<LiveStore>> LiveStore::Open(const std::string& spec,
                                                   const std::string& data_dir,
                                                   const std::string& backlog_path,
                                                   size_t max_queued_bytes) {
  std::unique_ptr<LiveStore> live(new LiveStore());
  auto store = analysis::OpenStoreOrDefault(spec);
  if (!store.ok()) return Error{"--store: " + store.error()};
  live->store_ = std::move(*store);
  live->describe_ = live->store_->Describe();
  auto engine =
      analysis::VerdictEngine::Load(data_dir + "/verdict/rules.json", data_dir + "/fingerprints");
  if (!engine.ok()) return Error{"verdict rules: " + engine.error()};
  live->engine_ = std::make_unique<analysis::VerdictEngine>(std::move(*engine));
  auto index = analysis::LoadCategoryIndex(TestListFiles(data_dir));
  if (!index.ok()) return Error{"test lists: " + index.error()};
  live->ingest_ = std::make_unique<analysis::IngestOptions>();
  live->ingest_->categories = std::move(*index);
  analysis::LiveFeedOptions options;
  options.backlog_path = backlog_path;
  options.max_queued_bytes = max_queued_bytes;
  options.report = [describe = live->describe_](const std::string& message) {
    std::fprintf(stderr, "vigil collector: store %s: %s\n", describe.c_str(), message.c_str());
  };
  auto feed =
      analysis::LiveFeed::Start(*live->store_, *live->engine_, *live->ingest_, std::move(options));
  if (!feed.ok()) return Error{feed.error()};
  live->feed_ = std::move(*feed);
  return live;
}

LiveStore::~LiveStore() { feed_.reset(); }

std::string LiveStore::Describe() const { return describe_; }

void LiveStore::Add(const std::vector<ArchivedMeasurement>& stored) {
  std::vector<std::string_view> documents;
  documents.reserve(stored.size());
  for (const auto& m : stored) documents.push_back(m.content);
  feed_->Add(documents);
}

}  // namespace vigil::cli
