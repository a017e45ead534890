#include "vantage/spool/spool.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <random>

#include "vantage/base/durable_file.h"

namespace vigil {
namespace {

constexpr std::string_view kSuffix = ".json";
// WriteFileDurably's temporary names: <destination>.tmp.<pid>.<random>.
constexpr std::string_view kTempInfix = ".json.tmp.";
constexpr size_t kMaxUidLength = 128;
// No durable write takes this long; a temp file this old is a leftover whatever its pid
// says (the pid may have been reused).
constexpr time_t kTempMaxAgeSeconds = 24 * 60 * 60;

std::string Reason() { return std::strerror(errno); }

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Whether a temporary file's writer may still be at work: its pid (from the name) is a
// live process, this one included (another Spool of this process may be mid-Put), and
// the file is younger than a day.
bool TempFileInUse(const std::string& path, std::string_view name) {
  const size_t at = name.find(kTempInfix);
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

// The entries (<uid>.json) of one spool directory, sorted by uid.
Result<std::vector<SpoolEntry>> ListEntries(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return Error{dir + ": cannot list: " + Reason()};
  std::vector<SpoolEntry> out;
  errno = 0;
  while (const dirent* e = ::readdir(d)) {
    const std::string_view name = e->d_name;
    if (!EndsWith(name, kSuffix)) continue;
    const std::string_view uid = name.substr(0, name.size() - kSuffix.size());
    if (!IsValidSpoolUid(uid)) continue;
    out.push_back({std::string(uid), dir + "/" + std::string(name)});
  }
  const int read_errno = errno;
  ::closedir(d);
  if (read_errno != 0) return Error{dir + ": cannot list: " + std::strerror(read_errno)};
  std::sort(out.begin(), out.end(),
            [](const SpoolEntry& a, const SpoolEntry& b) { return a.uid < b.uid; });
  return out;
}

bool Exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

}  // namespace

std::string NewLocalUid() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  ::gmtime_r(&now, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &utc);
  thread_local std::mt19937_64 rng{(static_cast<uint64_t>(std::random_device{}()) << 32) ^
                                   std::random_device{}()};
  char random[17];
  std::snprintf(random, sizeof random, "%016llx", static_cast<unsigned long long>(rng()));
  return std::string(stamp) + "_" + random;
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
  DIR* d = ::opendir(spool.pending_dir_.c_str());
  if (d == nullptr) return Error{spool.pending_dir_ + ": cannot list: " + Reason()};
  std::vector<std::string> leftovers;
  while (const dirent* e = ::readdir(d)) {
    const std::string_view name = e->d_name;
    if (name.find(kTempInfix) == std::string_view::npos || EndsWith(name, kSuffix)) continue;
    const std::string path = spool.pending_dir_ + "/" + std::string(name);
    if (!TempFileInUse(path, name)) leftovers.push_back(path);
  }
  ::closedir(d);
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
  std::vector<SpoolEntry> entries;
  std::vector<std::pair<std::string, std::string>> renames;  // temp -> final
  auto cleanup = [&] {
    for (const auto& [temp, final_path] : renames) ::unlink(temp.c_str());
  };
  static std::atomic<uint64_t> counter{0};
  for (const auto& [uid, json] : batch) {
    if (!IsValidSpoolUid(uid)) {
      cleanup();
      return Error{"spool " + dir_ + ": invalid uid \"" + uid.substr(0, kMaxUidLength) + "\""};
    }
    const std::string name = uid + std::string(kSuffix);
    if (json.empty() || json.front() != '{' || json.back() != '}' || json.find('\n') != std::string::npos) {
      cleanup();
      return Error{"spool " + dir_ + ": " + name + ": not a JSON object on one line"};
    }
    SpoolEntry entry{uid, pending_dir_ + "/" + name};
    if (Exists(entry.path) || Exists(sent_dir_ + "/" + name)) {
      // Already spooled: the single Put decides (same bytes: fine; others: an error).
      auto single = Put(uid, json);
      if (!single.ok()) {
        cleanup();
        return Error{single.error()};
      }
      entries.push_back(*single);
      continue;
    }
    const std::string temp = entry.path + ".tmp." + std::to_string(::getpid()) + "." +
                             std::to_string(counter.fetch_add(1));
    const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
      const std::string reason = Reason();
      cleanup();
      return Error{temp + ": cannot create: " + reason};
    }
    bool ok = true;
    for (size_t done = 0; ok && done < json.size();) {
      const ssize_t n = ::write(fd, json.data() + done, json.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) ok = false; else done += static_cast<size_t>(n);
    }
    const std::string reason = ok ? "" : Reason();
    ::close(fd);
    renames.emplace_back(temp, entry.path);
    if (!ok) {
      cleanup();
      return Error{temp + ": write: " + reason};
    }
    entries.push_back(std::move(entry));
  }
  if (renames.empty()) return entries;
  // The files' bytes first (one syncfs for all), then their names (one fsync of pending/).
  const int dir_fd = ::open(pending_dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0 || ::syncfs(dir_fd) != 0) {
    const std::string reason = Reason();
    if (dir_fd >= 0) ::close(dir_fd);
    cleanup();
    return Error{pending_dir_ + ": syncfs: " + reason};
  }
  ::close(dir_fd);
  for (const auto& [temp, final_path] : renames) {
    if (::rename(temp.c_str(), final_path.c_str()) != 0) {
      const std::string reason = Reason();
      cleanup();
      return Error{final_path + ": rename: " + reason};
    }
  }
  if (auto synced = SyncDirectory(pending_dir_); !synced.ok()) return Error{synced.error()};
  return entries;
}

Result<std::vector<SpoolEntry>> Spool::Pending() const { return ListEntries(pending_dir_); }

Result<std::vector<SpoolEntry>> Spool::Sent() const { return ListEntries(sent_dir_); }

Result<std::string> Spool::Read(const SpoolEntry& entry) const { return ReadWholeFile(entry.path); }

Result<void> Spool::MarkSent(std::string_view uid) const {
  if (!IsValidSpoolUid(uid))
    return Error{"spool " + dir_ + ": invalid uid \"" + std::string(uid) + "\""};
  const std::string name = std::string(uid) + std::string(kSuffix);
  const std::string from = pending_dir_ + "/" + name;
  const std::string to = sent_dir_ + "/" + name;
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
