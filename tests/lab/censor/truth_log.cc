#include "tests/lab/censor/truth_log.h"

namespace vigil::lab {

FileTruthSink::FileTruthSink(const std::string& path) : file_(std::fopen(path.c_str(), "w")) {}

FileTruthSink::~FileTruthSink() {
  if (file_ != nullptr) std::fclose(file_);
}

void FileTruthSink::Record(const nlohmann::json& line) {
  if (file_ == nullptr) return;
  // Replace invalid UTF-8 (names from the network) rather than throw.
  std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  text.push_back('\n');
  std::fwrite(text.data(), 1, text.size(), file_);
  std::fflush(file_);
}

}  // namespace vigil::lab
