#include "vantage/collector/archive.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "base/utc_time.h"
#include "base/whole_file.h"
#include "vantage/base/durable_file.h"
#include "vantage/base/gzip.h"
#include "vantage/collector/submission.h"

namespace vigil {
namespace {

std::string Reason() { return std::strerror(errno); }

std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return names;
  while (dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

bool IsDir(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// The uid of a stored line (what ParseSubmission computed when it arrived).
std::optional<std::string> UidOfLine(std::string_view line) {
  auto json = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object()) return std::nullopt;
  auto text = [&](const char* key) -> std::string {
    auto it = json.find(key);
    return it != json.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  return MeasurementUid(line, text("report_id"), text("measurement_start_time"), text("probe_cc"),
                        text("test_name"));
}

// Reads one archive file member by member: the uids of its complete members' lines,
// and the offset where the complete members end (a crash may have torn the last).
struct FileScan {
  std::vector<std::string> uids;
  size_t good_end = 0;
  bool torn = false;
};

FileScan ScanFile(const std::string& data) {
  FileScan scan;
  z_stream z{};
  inflateInit2(&z, 15 + 16);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  std::string member;
  char chunk[65536];
  while (z.avail_in > 0) {
    z.next_out = reinterpret_cast<Bytef*>(chunk);
    z.avail_out = sizeof(chunk);
    const int rc = inflate(&z, Z_NO_FLUSH);
    member.append(chunk, sizeof(chunk) - z.avail_out);
    if (rc == Z_STREAM_END) {
      for (size_t start = 0; start < member.size();) {
        size_t end = member.find('\n', start);
        if (end == std::string::npos) end = member.size();
        if (end > start) {
          if (auto uid = UidOfLine(std::string_view(member).substr(start, end - start))) {
            scan.uids.push_back(std::move(*uid));
          }
        }
        start = end + 1;
      }
      member.clear();
      scan.good_end = data.size() - z.avail_in;
      inflateReset(&z);
      continue;
    }
    if (rc != Z_OK) break;
  }
  inflateEnd(&z);
  scan.torn = scan.good_end != data.size();
  return scan;
}

}  // namespace

struct Archive::Impl {
  ArchiveOptions options;
  std::string file_prefix;  // unique to this process: its start time and pid

  struct Pending {
    ArchivedMeasurement m;
    Done done;
  };
  std::mutex mutex;
  std::condition_variable ready;
  std::vector<Pending> queue;                                    // guarded
  std::unordered_set<std::string> known;                         // guarded
  std::unordered_map<std::string, std::vector<Done>> in_flight;  // guarded: waiters
  bool closing = false;                                          // guarded
  OnCommitted on_committed;
  std::atomic<uint64_t> stored{0};

  struct OpenFile {
    int fd = -1;
    std::string path;
    size_t bytes = 0;
  };
  std::map<std::string, OpenFile> files;  // by bucket directory; the writer's alone
  uint64_t next_file = 0;
  std::thread writer;

  std::time_t Now() const { return options.clock ? options.clock() : std::time(nullptr); }

  ~Impl() {
    for (auto& [dir, f] : files) ::close(f.fd);
  }

  // The directory chain root/day/hour/cc/test, created, each new level's parent
  // fsync'd so the new entries survive a crash.
  Result<void> MakeBucket(const std::string& day, const std::string& hour, const std::string& cc,
                          const std::string& test) {
    std::string path = options.root;
    for (const std::string* part : {&day, &hour, &cc, &test}) {
      const std::string parent = path;
      path += "/" + *part;
      if (IsDir(path)) continue;
      auto made = MakeDirectories(path);
      if (!made.ok()) return made;
      auto synced = SyncDirectory(parent);
      if (!synced.ok()) return synced;
    }
    return {};
  }

  // The file a bucket's next member goes to, opened (and created) as needed.
  Result<OpenFile*> FileFor(const std::string& bucket, const std::string& day,
                            const std::string& hour, const std::string& cc,
                            const std::string& test) {
    auto it = files.find(bucket);
    if (it != files.end() && it->second.bytes < options.max_file_bytes) return &it->second;
    if (it != files.end()) {
      ::close(it->second.fd);
      files.erase(it);
    }
    auto made = MakeBucket(day, hour, cc, test);
    if (!made.ok()) return Error{made.error()};
    OpenFile f;
    f.path = bucket + "/" + file_prefix + "_" + std::to_string(next_file++) + ".jsonl.gz";
    f.fd = ::open(f.path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (f.fd < 0) return Error{f.path + ": cannot create: " + Reason()};
    auto synced = SyncDirectory(bucket);
    if (!synced.ok()) {
      ::close(f.fd);
      return Error{synced.error()};
    }
    return &files.emplace(bucket, std::move(f)).first->second;
  }

  // Appends `member` to a file; on failure cuts the file back to where it was.
  Result<void> Append(OpenFile& f, const std::string& member) {
    for (size_t done = 0; done < member.size();) {
      const ssize_t n = ::write(f.fd, member.data() + done, member.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        const std::string reason = Reason();
        // Cut back what was written; the file is not written again either way (a torn
        // member may stay if the cut fails, and must stay last for recovery to cut it).
        const bool cut = ::ftruncate(f.fd, static_cast<off_t>(f.bytes)) == 0;
        (void)cut;
        f.bytes = options.max_file_bytes;  // FileFor opens a new file next time
        return Error{f.path + ": write: " + reason};
      }
      done += static_cast<size_t>(n);
    }
    f.bytes += member.size();
    return {};
  }

  void Commit(std::vector<Pending>& batch) {
    const std::time_t now = Now();
    const std::string day = FormatUtc(now, "%Y%m%d"), hour = FormatUtc(now, "%H");
    // Bucket directory -> indexes into batch.
    std::map<std::string, std::vector<size_t>> buckets;
    for (size_t i = 0; i < batch.size(); ++i) {
      const auto& m = batch[i].m;
      buckets[options.root + "/" + day + "/" + hour + "/" + m.probe_cc + "/" + m.test_name]
          .push_back(i);
    }
    // Hours go by: close what is no longer written, before this commit holds pointers
    // into the map.
    if (files.size() + buckets.size() > 256) {
      for (auto& [dir, f] : files) ::close(f.fd);
      files.clear();
    }
    std::vector<std::string> errors(batch.size());
    std::vector<OpenFile*> touched;
    for (auto& [bucket, items] : buckets) {
      const auto& first = batch[items.front()].m;
      auto file = FileFor(bucket, day, hour, first.probe_cc, first.test_name);
      std::string failure;
      if (file.ok()) {
        std::string lines;
        for (size_t i : items) {
          lines += batch[i].m.content;
          lines.push_back('\n');
        }
        auto appended = Append(**file, GzipCompress(lines, 6));
        if (appended.ok()) {
          touched.push_back(*file);
        } else {
          failure = appended.error();
        }
      } else {
        failure = file.error();
      }
      if (!failure.empty()) {
        for (size_t i : items) errors[i] = failure;
      }
    }
    if (options.fsync) {
      for (OpenFile* f : touched) {
        if (::fsync(f->fd) == 0) continue;
        const std::string failure = f->path + ": fsync: " + Reason();
        const std::string bucket = f->path.substr(0, f->path.rfind('/'));
        for (size_t i : buckets[bucket]) errors[i] = failure;
      }
    }
    std::vector<ArchivedMeasurement> committed;
    std::vector<std::pair<std::vector<Done>, bool>> waiters;
    {
      std::lock_guard lock(mutex);
      for (size_t i = 0; i < batch.size(); ++i) {
        auto it = in_flight.find(batch[i].m.uid);
        if (it != in_flight.end()) {
          waiters.emplace_back(std::move(it->second), errors[i].empty());
          in_flight.erase(it);
        }
        if (errors[i].empty()) known.insert(batch[i].m.uid);
      }
    }
    for (size_t i = 0; i < batch.size(); ++i) {
      if (errors[i].empty()) {
        stored.fetch_add(1);
        batch[i].done(StoreOutcome::kStored, "");
      } else {
        batch[i].done(StoreOutcome::kFailed, errors[i]);
      }
    }
    for (auto& [dones, ok] : waiters) {
      for (auto& done : dones) {
        done(ok ? StoreOutcome::kDuplicate : StoreOutcome::kFailed,
             ok ? "" : "the same measurement, sent at the same time, could not be stored");
      }
    }
    if (on_committed) {
      for (size_t i = 0; i < batch.size(); ++i) {
        if (errors[i].empty()) committed.push_back(std::move(batch[i].m));
      }
      if (!committed.empty()) on_committed(committed);
    }
  }

  void Loop() {
    for (;;) {
      std::vector<Pending> batch;
      {
        std::unique_lock lock(mutex);
        ready.wait(lock, [&] { return closing || !queue.empty(); });
        if (queue.empty()) return;
        const size_t n = std::min(queue.size(), options.max_batch);
        batch.assign(std::make_move_iterator(queue.begin()),
                     std::make_move_iterator(queue.begin() + static_cast<ptrdiff_t>(n)));
        queue.erase(queue.begin(), queue.begin() + static_cast<ptrdiff_t>(n));
      }
      Commit(batch);
    }
  }

  Result<void> Recover(RecoveryReport& report) {
    const std::string cutoff = FormatUtc(Now() - std::time_t{86400} * options.dedup_days, "%Y%m%d");
    for (const std::string& day : ListDir(options.root)) {
      if (day.size() != 8 || day < cutoff || !IsDir(options.root + "/" + day)) continue;
      for (const std::string& hour : ListDir(options.root + "/" + day)) {
        for (const std::string& cc : ListDir(options.root + "/" + day + "/" + hour)) {
          const std::string cc_dir = options.root + "/" + day + "/" + hour + "/" + cc;
          for (const std::string& test : ListDir(cc_dir)) {
            for (const std::string& name : ListDir(cc_dir + "/" + test)) {
              const std::string path = cc_dir + "/" + test + "/" + name;
              if (name.size() < 9 || name.substr(name.size() - 9) != ".jsonl.gz") continue;
              auto data = ReadWholeFile(path);
              if (!data.ok()) {
                report.problems.push_back(data.error());
                continue;
              }
              ++report.files;
              // What a crash left may still be only in the page cache: make it durable
              // before its uids count as stored (a copy sent again is then acknowledged).
              if (const int sync_fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC); sync_fd >= 0) {
                if (::fsync(sync_fd) != 0) report.problems.push_back(path + ": fsync: " + Reason());
                ::close(sync_fd);
              }
              FileScan scan = ScanFile(*data);
              report.measurements += scan.uids.size();
              for (auto& uid : scan.uids) known.insert(std::move(uid));
              if (!scan.torn) continue;
              // A batch the crash interrupted: never acknowledged, so cut it off.
              ++report.torn_files;
              report.torn_bytes += data->size() - scan.good_end;
              const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
              if (fd < 0 || ::ftruncate(fd, static_cast<off_t>(scan.good_end)) != 0 ||
                  ::fsync(fd) != 0) {
                report.problems.push_back(path + ": cannot cut off a torn batch: " + Reason());
              }
              if (fd >= 0) ::close(fd);
            }
          }
        }
      }
    }
    return {};
  }
};

Archive::Archive() : impl_(std::make_unique<Impl>()) {}

Result<std::unique_ptr<Archive>> Archive::Open(ArchiveOptions options, RecoveryReport* report) {
  if (options.root.empty()) return Error{"the archive needs a directory"};
  auto made = MakeDirectories(options.root);
  if (!made.ok()) return Error{made.error()};
  std::unique_ptr<Archive> archive(new Archive());
  Impl& impl = *archive->impl_;
  impl.options = std::move(options);
  impl.file_prefix = FormatUtc(impl.Now(), kUtcCompact) + "_" + std::to_string(::getpid());
  RecoveryReport local;
  auto recovered = impl.Recover(report ? *report : local);
  if (!recovered.ok()) return Error{recovered.error()};
  impl.writer = std::thread([&impl] { impl.Loop(); });
  return archive;
}

Archive::~Archive() {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->closing = true;
  }
  impl_->ready.notify_all();
  if (impl_->writer.joinable()) impl_->writer.join();
}

void Archive::Submit(ArchivedMeasurement measurement, Done done) {
  {
    std::unique_lock lock(impl_->mutex);
    if (impl_->known.count(measurement.uid) > 0) {
      lock.unlock();
      done(StoreOutcome::kDuplicate, "");
      return;
    }
    auto waiting = impl_->in_flight.find(measurement.uid);
    if (waiting != impl_->in_flight.end()) {
      waiting->second.push_back(std::move(done));
      return;
    }
    impl_->in_flight.emplace(measurement.uid, std::vector<Done>{});
    impl_->queue.push_back({std::move(measurement), std::move(done)});
  }
  impl_->ready.notify_one();
}

void Archive::SetOnCommitted(OnCommitted callback) { impl_->on_committed = std::move(callback); }

uint64_t Archive::stored() const { return impl_->stored.load(); }

size_t Archive::known_uids() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->known.size();
}

}  // namespace vigil
