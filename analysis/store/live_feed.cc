// The queue and the backlog are one sequence: while the backlog holds anything, new
// documents go to its end, so the feed takes the queue first (the older documents),
// then the backlog from its read offset; reading it to the end empties it (under the
// lock, so no append is lost) and new documents go to memory again.
#include "analysis/store/live_feed.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <string_view>
#include <thread>

#include "analysis/store/store.h"

namespace vigil::analysis {

namespace {

// Bytes of backlog read back at once at most (more when one document is larger).
constexpr size_t kBacklogChunk = size_t{4} << 20;
constexpr size_t kMinBacklogChunk = size_t{64} << 10;

std::string Reason() { return std::strerror(errno); }

}  // namespace

struct LiveFeed::Impl {
  Impl(Store& s, const VerdictEngine& e, const IngestOptions& i, LiveFeedOptions o)
      : options(std::move(o)), writes(&s, e, i, options.writes) {}

  ~Impl() {
    {
      std::lock_guard lock(mu);
      closing = true;
    }
    ready.notify_all();
    if (thread.joinable()) thread.join();
    if (fd >= 0) ::close(fd);
  }

  void Report(const std::string& message) const {
    if (options.report) options.report(message);
  }

  // Appends to the backlog; false (errno set) when it could not be written whole.
  bool Append(const std::vector<std::string_view>& documents, size_t from) {
    std::string text;
    for (size_t i = from; i < documents.size(); ++i) {
      const size_t at = text.size();
      text.append(documents[i]);
      // A raw newline in a JSON text is whitespace outside strings and invalid inside
      // them, so a space keeps the document's meaning and the file one per line.
      for (size_t k = at; k < text.size(); ++k) {
        if (text[k] == '\n') text[k] = ' ';
      }
      text.push_back('\n');
    }
    size_t written = 0;
    while (written < text.size()) {
      const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        // Keep the file whole lines: cut what part of this append reached it.
        if (::ftruncate(fd, backlog_end) != 0) {
          Report("store backlog " + options.backlog_path + ": " + Reason());
        }
        return false;
      }
      written += static_cast<size_t>(n);
    }
    backlog_end += static_cast<off_t>(written);
    return true;
  }

  // Up to a chunk of whole lines from the backlog's read offset; at its end the backlog
  // is emptied. Under the lock.
  Result<std::vector<std::string>> ReadBacklog() {
    std::vector<std::string> out;
    // No more than the memory queue may hold: what is read back waits in memory too.
    size_t want = std::clamp(options.max_queued_bytes, kMinBacklogChunk, kBacklogChunk);
    while (read_offset < backlog_end) {
      const size_t size = std::min(want, static_cast<size_t>(backlog_end - read_offset));
      std::string data(size, '\0');
      size_t got = 0;
      while (got < size) {
        const ssize_t n =
            ::pread(fd, data.data() + got, size - got, read_offset + static_cast<off_t>(got));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return Error{"store backlog " + options.backlog_path + ": read: " + Reason()};
        got += static_cast<size_t>(n);
      }
      const size_t last = data.rfind('\n');
      if (last == std::string::npos) {
        if (size < want || read_offset + static_cast<off_t>(size) >= backlog_end) {
          // A last line without its newline (a crash during an append): skip it.
          read_offset = backlog_end;
          break;
        }
        want *= 2;
        continue;
      }
      for (size_t start = 0; start <= last;) {
        const size_t end = data.find('\n', start);
        if (end > start) out.emplace_back(data, start, end - start);
        start = end + 1;
      }
      read_offset += static_cast<off_t>(last + 1);
      break;
    }
    if (read_offset >= backlog_end) {
      if (::ftruncate(fd, 0) != 0) {
        return Error{"store backlog " + options.backlog_path + ": truncate: " + Reason()};
      }
      read_offset = backlog_end = 0;
    }
    return out;
  }

  void Add(const std::vector<std::string_view>& documents) {
    {
      std::lock_guard lock(mu);
      stats.added += documents.size();
      size_t i = 0;
      if (backlog_end == 0) {
        for (; i < documents.size(); ++i) {
          if (queued_bytes + documents[i].size() > options.max_queued_bytes && !queue.empty()) {
            break;
          }
          queue.emplace_back(documents[i]);
          queued_bytes += documents[i].size();
        }
        stats.peak_queued_bytes = std::max(stats.peak_queued_bytes, queued_bytes);
      }
      if (i < documents.size()) {
        const size_t rest = documents.size() - i;
        if (Append(documents, i)) {
          stats.backlogged += rest;
        } else {
          stats.dropped += rest;
          Report("store backlog " + options.backlog_path + ": " + Reason() + ": " +
                 std::to_string(rest) +
                 " measurements not fed to the store (the archive has them: `vigil analyze "
                 "ARCHIVE --store ...` feeds them)");
        }
      }
    }
    ready.notify_one();
  }

  void Loop() {
    using Clock = std::chrono::steady_clock;
    auto last_commit = Clock::now();
    bool dirty = false;
    const auto wait =
        std::min<std::chrono::milliseconds>(options.commit_every, std::chrono::milliseconds(1000));
    for (;;) {
      std::vector<std::string> batch;
      bool closing_now = false;
      {
        std::unique_lock lock(mu);
        ready.wait_for(lock, wait, [&] { return closing || !queue.empty() || backlog_end > 0; });
        if (!queue.empty()) {
          batch.swap(queue);
          queued_bytes = 0;
        } else if (backlog_end > 0) {
          auto read = ReadBacklog();
          if (read.ok()) {
            batch = std::move(*read);
          } else {
            // Unreadable: give it up (the archive has what it held) rather than loop.
            Report(read.error() + " (the archive has what it held)");
            if (::ftruncate(fd, 0) != 0) Report("store backlog: " + Reason());
            read_offset = backlog_end = 0;
          }
        }
        closing_now = closing && queue.empty() && backlog_end == 0;
        stats.fed += batch.size();
      }
      if (!batch.empty()) {
        const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count();
        writes.AddDocuments(batch, options.source_file, now, [this](const IngestError& e) {
          Report("a stored measurement not ingested: " + e.reason);
        });
        dirty = true;
      }
      if (dirty && (closing_now || Clock::now() - last_commit >= options.commit_every)) {
        if (auto c = writes.Commit(); !c) Report(c.error() + " (the archive has them)");
        dirty = false;
        last_commit = Clock::now();
      }
      if (closing_now) return;
    }
  }

  LiveFeedOptions options;
  ScoreAndStore writes;

  mutable std::mutex mu;
  std::condition_variable ready;
  std::vector<std::string> queue;  // guarded
  size_t queued_bytes = 0;         // guarded
  int fd = -1;                     // the backlog; appended and read under mu
  off_t backlog_end = 0;           // guarded: 0 = empty
  off_t read_offset = 0;           // guarded
  LiveFeedStats stats;             // guarded
  bool closing = false;            // guarded
  std::thread thread;
};

Result<std::unique_ptr<LiveFeed>> LiveFeed::Start(Store& store, const VerdictEngine& engine,
                                                  const IngestOptions& ingest,
                                                  LiveFeedOptions options) {
  if (options.backlog_path.empty()) return Error{"store backlog: no path given"};
  std::unique_ptr<LiveFeed> feed(new LiveFeed());
  feed->impl_ = std::make_unique<Impl>(store, engine, ingest, std::move(options));
  Impl& impl = *feed->impl_;
  impl.fd =
      ::open(impl.options.backlog_path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (impl.fd < 0) return Error{"store backlog " + impl.options.backlog_path + ": " + Reason()};
  const off_t end = ::lseek(impl.fd, 0, SEEK_END);
  if (end < 0) return Error{"store backlog " + impl.options.backlog_path + ": " + Reason()};
  // What a previous run left is fed first, but for a last line a crash cut short
  // (never complete, and the archive has it): new lines must not be glued to it.
  off_t whole = end;
  char tail[4096];
  while (whole > 0) {
    const off_t from = std::max<off_t>(0, whole - static_cast<off_t>(sizeof tail));
    const ssize_t n = ::pread(impl.fd, tail, static_cast<size_t>(whole - from), from);
    if (n <= 0) return Error{"store backlog " + impl.options.backlog_path + ": " + Reason()};
    const std::string_view text(tail, static_cast<size_t>(n));
    const size_t last = text.rfind('\n');
    if (last != std::string_view::npos) {
      whole = from + static_cast<off_t>(last) + 1;
      break;
    }
    whole = from;
  }
  if (whole != end && ::ftruncate(impl.fd, whole) != 0) {
    return Error{"store backlog " + impl.options.backlog_path + ": " + Reason()};
  }
  impl.backlog_end = whole;
  impl.thread = std::thread([p = &impl] { p->Loop(); });
  return feed;
}

LiveFeed::~LiveFeed() = default;

void LiveFeed::Add(const std::vector<std::string_view>& documents) { impl_->Add(documents); }

LiveFeedStats LiveFeed::stats() const {
  std::lock_guard lock(impl_->mu);
  return impl_->stats;
}

}  // namespace vigil::analysis
