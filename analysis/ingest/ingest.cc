// IngestPath: files and directories into measurements. Lines are read with zlib
// (which reads plain files as they are), in large chunks, and parsed where they lie in
// the chunk buffer: simdjson needs 64 readable bytes past a document's end, which the
// buffer's tail always gives, so no line is copied.
#include "analysis/ingest/ingest.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>

namespace vigil::analysis {

namespace {

constexpr size_t kChunk = size_t{1} << 20;
constexpr size_t kPadding = 64;  // simdjson::SIMDJSON_PADDING
// A single line longer than this is not a measurement we keep (OONI's probes cap bodies
// well below it); it is reported and skipped.
constexpr size_t kMaxLine = size_t{256} << 20;

bool EndsWith(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool IsMeasurementFile(const std::string& name) {
  return EndsWith(name, ".jsonl") || EndsWith(name, ".jsonl.gz") || EndsWith(name, ".json") ||
         EndsWith(name, ".json.gz");
}

bool IsWholeDocumentFile(const std::string& name) {
  return EndsWith(name, ".json") || EndsWith(name, ".json.gz");
}

bool IsBlank(const char* begin, const char* end) {
  for (const char* p = begin; p < end; ++p) {
    if (*p != ' ' && *p != '\t' && *p != '\r') return false;
  }
  return true;
}

// Reads one file's documents and hands each (non-blank) to `handler` where it lies in
// the read buffer, with `readable` bytes from its start (>= size + 64).
class FileIngest {
 public:
  using LineHandler = std::function<void(const std::string& path, const char* start, size_t size,
                                         size_t readable, uint64_t line)>;
  FileIngest(LineHandler handler, const ErrorSink& errors, IngestStats& stats)
      : handler_(std::move(handler)), errors_(errors), stats_(stats) {}

  Result<void> Run(const std::string& path) {
    gzFile file = gzopen(path.c_str(), "rb");
    if (!file) return Error{"cannot open: " + std::string(std::strerror(errno))};
    std::unique_ptr<gzFile_s, int (*)(gzFile)> closer(file, gzclose);
    gzbuffer(file, 256 << 10);
    ++stats_.files;
    path_ = path;
    const bool whole = IsWholeDocumentFile(path);
    buffer_.resize(kChunk + kPadding);
    size_t begin = 0, end = 0;  // unparsed bytes: [begin, end)
    uint64_t line = 0;
    bool eof = false;
    bool skipping = false;  // inside an over-long line
    for (;;) {
      // Parse every complete line in the buffer.
      if (!whole) {
        while (begin < end) {
          const char* start = buffer_.data() + begin;
          const char* nl = static_cast<const char*>(std::memchr(start, '\n', end - begin));
          if (!nl) break;
          ++line;
          if (skipping) {
            skipping = false;
          } else {
            Document(start, static_cast<size_t>(nl - start), line);
          }
          begin = static_cast<size_t>(nl - buffer_.data()) + 1;
        }
      }
      if (eof) break;
      // Keep the partial line, then read more behind it.
      if (begin > 0) {
        std::memmove(buffer_.data(), buffer_.data() + begin, end - begin);
        end -= begin;
        begin = 0;
      }
      if (buffer_.size() - kPadding - end < kChunk / 2) {
        if (buffer_.size() - kPadding >= kMaxLine && !whole) {
          // Drop the over-long line's bytes so far and skip to its end.
          if (!skipping) {
            ++stats_.lines;
            ++stats_.bad_lines;
            errors_({path_, line + 1, "line longer than 256 MiB: skipped"});
          }
          skipping = true;
          end = 0;
        } else {
          buffer_.resize((buffer_.size() - kPadding) * 2 + kPadding);
        }
      }
      const size_t room = buffer_.size() - kPadding - end;
      const int n =
          gzread(file, buffer_.data() + end, static_cast<unsigned>(std::min(room, kChunk)));
      if (n < 0) {
        int code = 0;
        const char* message = gzerror(file, &code);
        ++stats_.bad_lines;
        errors_({path_, line + 1,
                 std::string("unreadable from here on (") + (message ? message : "read error") +
                     "): the rest of the file is skipped"});
        return {};
      }
      if (n == 0) {
        eof = true;
        // zlib says nothing of a gzip stream cut short at a member's end; ask it.
        int code = Z_OK;
        gzerror(file, &code);
        if (code != Z_OK && code != Z_STREAM_END) {
          // The partial last line goes with it.
          ++stats_.lines;
          ++stats_.bad_lines;
          errors_({path_, line + 1, "truncated compressed data: the rest of the file is lost"});
          return {};
        }
        if (whole) {
          if (!IsBlank(buffer_.data(), buffer_.data() + end)) {
            Document(buffer_.data(), end, 1);
          }
          return {};
        }
        if (end > begin && !skipping) {
          // A last line without a newline.
          ++line;
          Document(buffer_.data() + begin, end - begin, line);
        }
        begin = end;
        continue;
      }
      end += static_cast<size_t>(n);
      stats_.bytes += static_cast<uint64_t>(n);
      // Zeroed padding: simdjson reads it, and stale bytes there must not look like JSON.
      std::memset(buffer_.data() + end, 0, kPadding);
    }
    return {};
  }

 private:
  void Document(const char* start, size_t size, uint64_t line) {
    if (IsBlank(start, start + size)) return;
    ++stats_.lines;
    // The bytes after the line are the next lines or the zeroed tail: readable.
    const size_t readable = static_cast<size_t>(buffer_.data() + buffer_.size() - start);
    handler_(path_, start, size, readable, line);
  }

  LineHandler handler_;
  const ErrorSink& errors_;
  IngestStats& stats_;
  std::string path_;
  std::string buffer_;
};

Result<std::vector<std::string>> MeasurementFiles(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const auto status = fs::status(path, ec);
  if (ec || !fs::exists(status)) return Error{"no such file or directory"};
  std::vector<std::string> files;
  if (fs::is_directory(status)) {
    for (fs::recursive_directory_iterator
             it(path, fs::directory_options::skip_permission_denied, ec),
         end;
         !ec && it != end; it.increment(ec)) {
      if (it->is_regular_file(ec) && IsMeasurementFile(it->path().filename().string())) {
        files.push_back(it->path().string());
      }
    }
    if (ec) return Error{"cannot list: " + ec.message()};
    std::sort(files.begin(), files.end());
  } else {
    files.push_back(path);
  }
  return files;
}

Result<void> CheckCpu() {
#if defined(__x86_64__) && defined(__SSE4_2__)
  if (!__builtin_cpu_supports("sse4.2") || !__builtin_cpu_supports("pclmul")) {
    return Error{"this CPU lacks SSE4.2 or CLMUL, which the analyzer's JSON parser needs"};
  }
#endif
  return {};
}

}  // namespace

Result<void> ReadMeasurementFiles(const std::string& path, IngestStats& stats,
                                  const ErrorSink& errors, const DocumentHandler& handler) {
  auto files = MeasurementFiles(path);
  if (!files.ok()) return Error{files.error()};
  if (auto cpu = CheckCpu(); !cpu) return cpu;
  FileIngest ingest(handler, errors, stats);
  for (const auto& file : *files) {
    auto done = ingest.Run(file);
    if (!done.ok()) {
      if (files->size() == 1) return Error{done.error()};
      ++stats.bad_lines;
      errors({file, 0, done.error()});
    }
  }
  return {};
}

void CategoryIndex::Add(const std::string& url, const std::string& category_code) {
  by_url_.emplace(url, category_code);
  const std::string_view host = UrlHost(url);
  if (!host.empty()) by_domain_.emplace(std::string(host), category_code);
}

std::string_view CategoryIndex::Find(std::string_view input, std::string_view domain) const {
  if (by_url_.empty()) return {};
  if (auto it = by_url_.find(std::string(input)); it != by_url_.end()) return it->second;
  if (auto it = by_domain_.find(std::string(domain)); it != by_domain_.end()) return it->second;
  return {};
}

Result<CategoryIndex> LoadCategoryIndex(const std::vector<std::string>& paths) {
  CategoryIndex index;
  for (const auto& path : paths) {
    std::ifstream in(path);
    if (!in) return Error{path + ": cannot read"};
    std::string line;
    if (!std::getline(in, line)) continue;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.rfind("url,category_code,", 0) != 0) {
      return Error{path + ":1: not a Citizen Lab test list (header url,category_code,...)"};
    }
    while (std::getline(in, line)) {
      // url,category_code,...: URLs hold no commas in these lists; a quoted field is skipped.
      if (line.empty() || line[0] == '"') continue;
      const size_t c1 = line.find(',');
      if (c1 == std::string::npos) continue;
      const size_t c2 = line.find(',', c1 + 1);
      index.Add(line.substr(0, c1),
                line.substr(c1 + 1, c2 == std::string::npos ? c2 : c2 - c1 - 1));
    }
  }
  return index;
}

Result<IngestStats> IngestPath(const std::string& path, const IngestOptions& options,
                               const MeasurementSink& sink, const ErrorSink& errors) {
  IngestStats stats;
  MeasurementExtractor extractor(options);
  ExtractedMeasurement m;  // reused: the extractor refills its buffers in place
  auto done = ReadMeasurementFiles(
      path, stats, errors,
      [&](const std::string& file, const char* start, size_t size, size_t readable, uint64_t line) {
        auto ok = extractor.ExtractPadded(start, size, readable, &m);
        if (!ok.ok()) {
          ++stats.bad_lines;
          errors({file, line, ok.error()});
          return;
        }
        m.measurement.source_file = file;
        m.measurement.source_line = line;
        ++stats.measurements;
        sink(m);
      });
  if (!done.ok()) return Error{done.error()};
  return stats;
}

}  // namespace vigil::analysis
