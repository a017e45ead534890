#include "vantage/spool/spool.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <random>

#include "base/utc_time.h"
#include "base/whole_file.h"
#include "vantage/base/durable_file.h"

namespace vigil {
namespace {

constexpr std::string_view kSuffix = ".json";
// A batch: <first uid>.<count>.batch, one "<uid>\t<json>" line per measurement; its
// acknowledged uids are appended to <batch>.sent beside it until all are.
constexpr std::string_view kBatchSuffix = ".batch";
constexpr std::string_view kMarksSuffix = ".sent";
// WriteFileDurably's temporary names: <destination>.tmp.<pid>.<random>.
constexpr std::string_view kTempInfix = ".tmp.";
constexpr size_t kMaxUidLength = 128;
// No durable write takes this long; a temp file this old is a leftover whatever its pid
// says (the pid may have been reused).
constexpr time_t kTempMaxAgeSeconds = 24 * 60 * 60;

std::string Reason() { return std::strerror(errno); }

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool Exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

// A temporary file of WriteFileDurably's for a measurement or a batch.
bool IsTempName(std::string_view name) {
  const bool temp = name.find(".json.tmp.") != std::string_view::npos ||
                    name.find(".batch.tmp.") != std::string_view::npos;
  return temp && !EndsWith(name, kSuffix) && !EndsWith(name, kBatchSuffix) &&
         !EndsWith(name, kMarksSuffix);
}

// Whether a temporary file's writer may still be at work: its pid (from the name) is a
// live process, this one included (another Spool of this process may be mid-Put), and
// the file is younger than a day.
bool TempFileInUse(const std::string& path, std::string_view name) {
  const size_t at = name.rfind(kTempInfix);
  const std::string_view rest = name.substr(at + kTempInfix.size());
  const std::string pid_text(rest.substr(0, rest.find('.')));
  char* end = nullptr;
  errno = 0;
  const long pid = std::strtol(pid_text.c_str(), &end, 10);
  if (pid_text.empty() || *end != '\0' || errno != 0 || pid <= 0) return false;
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && std::time(nullptr) - st.st_mtime > kTempMaxAgeSeconds) {
    return false;
  }
  if (pid == ::getpid()) return true;
  if (pid > INT32_MAX) return false;
  return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

// The names in a directory.
Result<std::vector<std::string>> Names(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return Error{dir + ": cannot list: " + Reason()};
  std::vector<std::string> out;
  errno = 0;
  while (const dirent* e = ::readdir(d)) out.emplace_back(e->d_name);
  const int read_errno = errno;
  ::closedir(d);
  if (read_errno != 0) return Error{dir + ": cannot list: " + std::strerror(read_errno)};
  return out;
}

// Calls line(start, end) for each line of `text` ([start, end), without the newline).
template <typename F>
void ForEachLine(const std::string& text, F line) {
  for (size_t start = 0; start < text.size();) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    line(start, end);
    start = end + 1;
  }
}

// The count in a batch's name (<first uid>.<count>.batch), or 0 when it is not one.
size_t BatchCount(std::string_view name) {
  if (!EndsWith(name, kBatchSuffix)) return 0;
  const std::string_view stem = name.substr(0, name.size() - kBatchSuffix.size());
  const size_t dot = stem.rfind('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == stem.size()) return 0;
  if (!IsValidSpoolUid(stem.substr(0, dot))) return 0;
  size_t count = 0;
  for (const char c : stem.substr(dot + 1)) {
    if (c < '0' || c > '9' || count > 1000000) return 0;
    count = count * 10 + static_cast<size_t>(c - '0');
  }
  return count;
}

// The entries of one batch file. Batches are renamed into place only once durable, so a
// line without a valid "<uid>\t" cannot come from the spool; it is skipped.
Result<std::vector<SpoolEntry>> ReadBatch(const std::string& path) {
  auto text = ReadWholeFile(path);
  if (!text.ok()) return Error{text.error()};
  std::vector<SpoolEntry> out;
  ForEachLine(*text, [&](size_t start, size_t end) {
    const size_t tab = text->find('\t', start);
    if (tab >= end) return;
    const std::string_view uid(text->data() + start, tab - start);
    if (IsValidSpoolUid(uid)) out.push_back({std::string(uid), path, true, tab + 1, end - tab - 1});
  });
  return out;
}

// The distinct uids acknowledged so far of a batch (its .sent file; none when absent).
std::vector<std::string> Marks(const std::string& batch_path) {
  auto text = ReadWholeFile(batch_path + std::string(kMarksSuffix));
  std::vector<std::string> out;
  if (!text.ok()) return out;
  ForEachLine(*text, [&](size_t start, size_t end) {
    if (end > start) out.emplace_back(text->substr(start, end - start));
  });
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

// The entries of one spool directory (single files and batches), sorted by uid, each uid
// once; in pending/, without the batch entries already acknowledged.
Result<std::vector<SpoolEntry>> ListEntries(const std::string& dir, bool skip_marked) {
  auto names = Names(dir);
  if (!names.ok()) return Error{names.error()};
  std::vector<SpoolEntry> out;
  for (const std::string& name : *names) {
    if (EndsWith(name, kSuffix)) {
      const std::string_view uid = std::string_view(name).substr(0, name.size() - kSuffix.size());
      if (IsValidSpoolUid(uid)) out.push_back({std::string(uid), dir + "/" + name});
    } else if (BatchCount(name) > 0) {
      auto batch = ReadBatch(dir + "/" + name);
      if (!batch.ok()) {
        if (!Exists(dir + "/" + name)) continue;  // moved to sent/ meanwhile
        return Error{batch.error()};
      }
      const std::vector<std::string> marked =
          skip_marked ? Marks(dir + "/" + name) : std::vector<std::string>{};
      for (auto& e : *batch) {
        if (!std::binary_search(marked.begin(), marked.end(), e.uid)) out.push_back(std::move(e));
      }
    }
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const SpoolEntry& a, const SpoolEntry& b) { return a.uid < b.uid; });
  out.erase(std::unique(out.begin(), out.end(),
                        [](const SpoolEntry& a, const SpoolEntry& b) { return a.uid == b.uid; }),
            out.end());
  return out;
}

}  // namespace

std::string NewLocalUid() {
  const std::string stamp = FormatUtcNow(kUtcCompact);
  thread_local std::mt19937_64 rng{(static_cast<uint64_t>(std::random_device{}()) << 32) ^
                                   std::random_device{}()};
  char random[17];
  std::snprintf(random, sizeof random, "%016llx", static_cast<unsigned long long>(rng()));
  return stamp + "_" + random;
}

bool IsValidSpoolUid(std::string_view uid) {
  if (uid.empty() || uid.size() > kMaxUidLength || uid == "." || uid == "..") return false;
  return std::all_of(uid.begin(), uid.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
  });
}

Spool::Spool(std::string dir, SpoolOptions options)
    : dir_(std::move(dir)),
      pending_dir_(dir_ + "/pending"),
      sent_dir_(dir_ + "/sent"),
      options_(options) {}

Result<Spool> Spool::Open(const std::string& dir, SpoolOptions options) {
  if (dir.empty()) return Error{"spool: no directory given"};
  std::string trimmed = dir;
  while (trimmed.size() > 1 && trimmed.back() == '/') trimmed.pop_back();
  Spool spool(trimmed, options);
  for (const std::string* d : {&spool.dir_, &spool.pending_dir_, &spool.sent_dir_}) {
    if (auto made = MakeDirectories(*d); !made.ok()) {
      return Error{"spool " + spool.dir_ + ": " + made.error()};
    }
  }
  auto names = Names(spool.pending_dir_);
  if (!names.ok()) return Error{names.error()};
  std::vector<std::string> leftovers;
  for (const std::string& name : *names) {
    const std::string path = spool.pending_dir_ + "/" + name;
    if (IsTempName(name)) {
      if (!TempFileInUse(path, name)) leftovers.push_back(path);
    } else if (EndsWith(name, kMarksSuffix)) {
      // The marks of a batch that is gone (retired by an uploader that stopped before
      // deleting them).
      const std::string batch = path.substr(0, path.size() - kMarksSuffix.size());
      if (BatchCount(name.substr(0, name.size() - kMarksSuffix.size())) > 0 && !Exists(batch)) {
        leftovers.push_back(path);
      }
    }
  }
  for (const std::string& path : leftovers) {
    // Another process may have cleaned it first: that is as good.
    if (::unlink(path.c_str()) == 0) {
      ++spool.removed_temp_files_;
    } else if (errno != ENOENT) {
      return Error{path + ": cannot delete a crash leftover: " + Reason()};
    }
  }
  if (spool.removed_temp_files_ > 0) {
    if (auto synced = SyncDirectory(spool.pending_dir_); !synced.ok()) return Error{synced.error()};
  }
  return spool;
}

Result<SpoolEntry> Spool::Put(std::string_view uid, std::string_view measurement_json) const {
  if (!IsValidSpoolUid(uid)) {
    return Error{"spool " + dir_ + ": invalid uid \"" + std::string(uid.substr(0, kMaxUidLength)) +
                 "\" (want 1-128 of A-Z a-z 0-9 _ . -)"};
  }
  const std::string name = std::string(uid) + std::string(kSuffix);
  if (measurement_json.empty() || measurement_json.front() != '{' ||
      measurement_json.back() != '}') {
    return Error{"spool " + dir_ + ": " + name + ": not a JSON object"};
  }
  if (measurement_json.find('\n') != std::string_view::npos) {
    return Error{"spool " + dir_ + ": " + name + ": measurement is not on one line"};
  }
  SpoolEntry entry{std::string(uid), pending_dir_ + "/" + name};
  for (const std::string& existing : {entry.path, sent_dir_ + "/" + name}) {
    if (!Exists(existing)) continue;
    auto bytes = ReadWholeFile(existing);
    if (!bytes.ok()) return Error{bytes.error()};
    if (*bytes != measurement_json) {
      return Error{existing + ": uid already spooled with a different measurement"};
    }
    return SpoolEntry{entry.uid, existing};
  }
  if (auto written = WriteFileDurably(entry.path, measurement_json); !written.ok()) {
    return Error{written.error()};
  }
  return entry;
}

Result<std::vector<SpoolEntry>> Spool::PutBatch(
    const std::vector<std::pair<std::string, std::string>>& batch) const {
  std::vector<SpoolEntry> entries(batch.size());
  std::vector<size_t> fresh;  // indexes of the entries that go into the batch file
  for (size_t i = 0; i < batch.size(); ++i) {
    const auto& [uid, json] = batch[i];
    if (!IsValidSpoolUid(uid)) {
      return Error{"spool " + dir_ + ": invalid uid \"" + uid.substr(0, kMaxUidLength) + "\""};
    }
    const std::string name = uid + std::string(kSuffix);
    if (json.empty() || json.front() != '{' || json.back() != '}' ||
        json.find('\n') != std::string::npos) {
      return Error{"spool " + dir_ + ": " + name + ": not a JSON object on one line"};
    }
    if (Exists(pending_dir_ + "/" + name) || Exists(sent_dir_ + "/" + name)) {
      // Already spooled as a file of its own: the single Put decides (same bytes: fine;
      // others: an error).
      auto single = Put(uid, json);
      if (!single.ok()) return Error{single.error()};
      entries[i] = *single;
      continue;
    }
    fresh.push_back(i);
  }
  if (fresh.empty()) return entries;
  const std::string name =
      batch[fresh[0]].first + "." + std::to_string(fresh.size()) + std::string(kBatchSuffix);
  std::string text;
  size_t total = 0;
  for (size_t i : fresh) total += batch[i].first.size() + batch[i].second.size() + 2;
  text.reserve(total);
  for (size_t i : fresh) {
    const auto& [uid, json] = batch[i];
    text += uid;
    text += '\t';
    entries[i] = {uid, pending_dir_ + "/" + name, true, text.size(), json.size()};
    text += json;
    text += '\n';
  }
  for (const std::string& existing : {pending_dir_ + "/" + name, sent_dir_ + "/" + name}) {
    if (!Exists(existing)) continue;
    // The same batch again (a retry) is a no-op; another under its name is an error.
    auto bytes = ReadWholeFile(existing);
    if (!bytes.ok()) return Error{bytes.error()};
    if (*bytes != text) return Error{existing + ": batch already spooled with other measurements"};
    for (size_t i : fresh) entries[i].path = existing;
    return entries;
  }
  // One file for the batch: one new inode, one fsync, one rename, one directory fsync.
  if (auto written = WriteFileDurably(pending_dir_ + "/" + name, text); !written.ok()) {
    return Error{written.error()};
  }
  return entries;
}

Result<std::vector<SpoolEntry>> Spool::Pending() const { return ListEntries(pending_dir_, true); }

Result<std::vector<SpoolEntry>> Spool::Sent() const { return ListEntries(sent_dir_, false); }

Result<std::string> Spool::Read(const SpoolEntry& entry) const {
  if (!entry.in_batch) return ReadWholeFile(entry.path);
  std::string path = entry.path;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) {
    // Retired to sent/ since it was listed.
    path = sent_dir_ + path.substr(path.rfind('/'));
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  }
  if (fd < 0) return Error{entry.path + ": cannot open: " + Reason()};
  std::string out(entry.size, '\0');
  size_t done = 0;
  while (done < out.size()) {
    const ssize_t n =
        ::pread(fd, out.data() + done, out.size() - done, static_cast<off_t>(entry.offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  const std::string reason = done == out.size() ? "" : (errno ? Reason() : "short file");
  ::close(fd);
  if (done != out.size()) return Error{path + ": cannot read " + entry.uid + ": " + reason};
  return out;
}

Result<void> Spool::MarkSent(const SpoolEntry& entry) const {
  if (!entry.in_batch) return MarkSent(entry.uid);
  const std::string name = entry.path.substr(entry.path.rfind('/') + 1);
  const size_t count = BatchCount(name);
  if (count == 0) return Error{entry.path + ": not a spool batch"};
  const std::string batch = pending_dir_ + "/" + name;
  if (!Exists(batch)) {
    if (Exists(sent_dir_ + "/" + name) || !options_.keep_sent) return {};  // retired already
    return Error{batch + ": no such batch"};
  }
  // The acknowledgement is durable before anything else.
  const std::string marks = batch + std::string(kMarksSuffix);
  bool created = true;
  int fd = ::open(marks.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0 && errno == EEXIST) {
    created = false;
    fd = ::open(marks.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  }
  if (fd < 0) return Error{marks + ": cannot open: " + Reason()};
  const std::string line = entry.uid + "\n";
  const ssize_t n = ::write(fd, line.data(), line.size());
  const bool ok = n == static_cast<ssize_t>(line.size()) && ::fdatasync(fd) == 0;
  const std::string reason = ok ? "" : Reason();
  ::close(fd);
  if (!ok) return Error{marks + ": cannot record " + entry.uid + ": " + reason};
  if (created) {
    if (auto synced = SyncDirectory(pending_dir_); !synced.ok()) return synced;
  }
  if (Marks(batch).size() < count) return {};
  // Every measurement of the batch is acknowledged: retire it.
  if (options_.keep_sent) {
    if (::rename(batch.c_str(), (sent_dir_ + "/" + name).c_str()) != 0) {
      const int error = errno;
      if (error != ENOENT || !Exists(sent_dir_ + "/" + name)) {
        return Error{batch + ": cannot move to " + sent_dir_ + ": " + std::strerror(error)};
      }
    }
    if (auto synced = SyncDirectory(sent_dir_); !synced.ok()) return synced;
  } else if (::unlink(batch.c_str()) != 0 && errno != ENOENT) {
    return Error{batch + ": cannot delete: " + Reason()};
  }
  ::unlink(marks.c_str());
  return SyncDirectory(pending_dir_);
}

Result<void> Spool::MarkSent(std::string_view uid) const {
  if (!IsValidSpoolUid(uid))
    return Error{"spool " + dir_ + ": invalid uid \"" + std::string(uid) + "\""};
  const std::string name = std::string(uid) + std::string(kSuffix);
  const std::string from = pending_dir_ + "/" + name;
  const std::string to = sent_dir_ + "/" + name;
  if (!Exists(from) && !Exists(to)) {
    // Not a file of its own: in a batch, pending or already retired.
    for (const std::string* dir : {&pending_dir_, &sent_dir_}) {
      auto names = Names(*dir);
      if (!names.ok()) return Error{names.error()};
      for (const std::string& n : *names) {
        if (BatchCount(n) == 0) continue;
        auto entries = ReadBatch(*dir + "/" + n);
        if (!entries.ok()) continue;
        for (const SpoolEntry& e : *entries) {
          if (e.uid != uid) continue;
          if (dir == &sent_dir_) return {};
          return MarkSent(e);
        }
      }
    }
  }
  if (options_.keep_sent) {
    if (::rename(from.c_str(), to.c_str()) != 0) {
      const int error = errno;
      if (error == ENOENT && Exists(to)) return {};
      const std::string reason = std::strerror(error);
      return Error{from + ": cannot move to " + sent_dir_ + ": " + reason};
    }
    if (auto synced = SyncDirectory(sent_dir_); !synced.ok()) return synced;
  } else if (::unlink(from.c_str()) != 0) {
    const std::string reason = Reason();
    return Error{from + ": cannot delete: " + reason};
  }
  return SyncDirectory(pending_dir_);
}

}  // namespace vigil
