// TruthSink: where the censor writes its ground truth, one JSON object per action
// taken or phase started. FileTruthSink appends JSON lines to a file and flushes each
// line, so a reader (or a crash) never sees half a record. Not thread-safe.
#pragma once

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

namespace vigil::lab {

class TruthSink {
 public:
  virtual ~TruthSink() = default;
  /// Records one line of ground truth.
  virtual void Record(const nlohmann::json& line) = 0;
};

class FileTruthSink : public TruthSink {
 public:
  /// Opens (truncating) `path`; ok() tells whether that worked.
  explicit FileTruthSink(const std::string& path);
  ~FileTruthSink() override;
  FileTruthSink(const FileTruthSink&) = delete;
  FileTruthSink& operator=(const FileTruthSink&) = delete;

  bool ok() const { return file_ != nullptr; }
  void Record(const nlohmann::json& line) override;

 private:
  FILE* file_ = nullptr;
};

}  // namespace vigil::lab
