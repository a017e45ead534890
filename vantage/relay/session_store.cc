#include "vantage/relay/session_store.h"

#include <algorithm>
#include <utility>

#include "vantage/relay/relay_token.h"

namespace vigil::relay {

namespace {

constexpr size_t kIdBytes = 8;
constexpr size_t kTokenBytes = kTokenHexChars / 2;

// Runs the wake-ups collected under the lock, after it is released.
void RunAll(std::vector<SessionStore::Wake>& woken) {
  for (auto& wake : woken) wake();
}

}  // namespace

SessionStore::SessionStore(RelayLimits limits, Clock clock)
    : limits_(limits), clock_(std::move(clock)) {}

SessionStore::TimePoint SessionStore::Now() const {
  return clock_ ? clock_() : std::chrono::steady_clock::now();
}

SessionStore::Session* SessionStore::Find(std::string_view id, std::vector<Wake>* woken) {
  auto it = sessions_.find(std::string(id));
  if (it == sessions_.end()) return nullptr;
  Session& session = it->second;
  if (session.waiters.empty() && Now() - session.last_used >= limits_.session_ttl) {
    Erase(it, woken);
    return nullptr;
  }
  return &session;
}

void SessionStore::Erase(std::unordered_map<std::string, Session>::iterator it,
                         std::vector<Wake>* woken) {
  Session& session = it->second;
  memory_bytes_ -= session.held_bytes + kSessionOverhead;
  held_messages_ -= session.messages.size();
  for (auto& [watch, wake] : session.waiters) woken->push_back(std::move(wake));
  sessions_.erase(it);
}

RelayStatus SessionStore::Create(NewSession* out) {
  std::lock_guard lock(mutex_);
  if (sessions_.size() >= limits_.max_sessions) return RelayStatus::kBusy;
  if (memory_bytes_ + kSessionOverhead > limits_.max_memory_bytes) return RelayStatus::kFull;
  NewSession fresh;
  for (;;) {
    auto id = RandomHex(kIdBytes);
    if (!id) return RelayStatus::kInternal;
    if (!sessions_.contains(*id)) {
      fresh.id = std::move(*id);
      break;
    }
  }
  auto send = RandomHex(kTokenBytes);
  auto receive = RandomHex(kTokenBytes);
  if (!send || !receive) return RelayStatus::kInternal;
  fresh.send_token = std::move(*send);
  fresh.receive_token = std::move(*receive);
  Session& session = sessions_[fresh.id];
  session.send_token = fresh.send_token;
  session.receive_token = fresh.receive_token;
  session.last_used = Now();
  memory_bytes_ += kSessionOverhead;
  *out = std::move(fresh);
  return RelayStatus::kOk;
}

RelayStatus SessionStore::Send(std::string_view id, std::string_view send_token,
                               std::string_view body, uint64_t* seq) {
  std::vector<Wake> woken;
  RelayStatus status = RelayStatus::kOk;
  {
    std::lock_guard lock(mutex_);
    Session* session = Find(id, &woken);
    const size_t cost = body.size() + kMessageOverhead;
    if (!session) {
      status = RelayStatus::kNoSession;
    } else if (!SameToken(send_token, session->send_token)) {
      status = RelayStatus::kUnauthorized;
    } else if (body.size() > limits_.max_message_bytes) {
      status = RelayStatus::kTooLong;
    } else if (session->last_seq >= limits_.max_messages) {
      status = RelayStatus::kTooMany;
    } else if (memory_bytes_ + cost > limits_.max_memory_bytes) {
      status = RelayStatus::kFull;
    } else {
      *seq = ++session->last_seq;
      session->messages.push_back(StoredMessage{*seq, std::string(body)});
      session->held_bytes += cost;
      session->last_used = Now();
      memory_bytes_ += cost;
      ++held_messages_;
      for (auto& [watch, wake] : session->waiters) woken.push_back(std::move(wake));
      session->waiters.clear();
    }
  }
  RunAll(woken);
  return status;
}

ReadResult SessionStore::Read(std::string_view id, std::string_view receive_token, uint64_t after,
                              Wake wake) {
  std::vector<Wake> woken;
  ReadResult result;
  result.next = after;
  {
    std::lock_guard lock(mutex_);
    Session* session = Find(id, &woken);
    if (!session) {
      result.status = RelayStatus::kNoSession;
    } else if (!SameToken(receive_token, session->receive_token)) {
      result.status = RelayStatus::kUnauthorized;
    } else {
      session->last_used = Now();
      // What the reader acknowledged by asking for what comes after it.
      auto& messages = session->messages;
      const auto acknowledged =
          std::find_if(messages.begin(), messages.end(),
                       [after](const StoredMessage& m) { return m.seq > after; });
      for (auto it = messages.begin(); it != acknowledged; ++it) {
        const size_t cost = it->body.size() + kMessageOverhead;
        session->held_bytes -= cost;
        memory_bytes_ -= cost;
        --held_messages_;
      }
      messages.erase(messages.begin(), acknowledged);
      if (!messages.empty()) {
        result.messages = messages;
        result.next = messages.back().seq;
      } else if (wake) {
        if (session->waiters.size() >= limits_.max_waiters_per_session) {
          result.status = RelayStatus::kTooMany;
        } else {
          result.watch = ++last_watch_;
          session->waiters.emplace(result.watch, std::move(wake));
        }
      }
    }
  }
  RunAll(woken);
  return result;
}

void SessionStore::Unwatch(std::string_view id, uint64_t watch) {
  Wake dropped;  // destroyed outside the lock
  std::lock_guard lock(mutex_);
  auto it = sessions_.find(std::string(id));
  if (it == sessions_.end()) return;
  auto& waiters = it->second.waiters;
  if (auto w = waiters.find(watch); w != waiters.end()) {
    dropped = std::move(w->second);
    waiters.erase(w);
    // The wait was a use: the TTL runs from its end.
    it->second.last_used = Now();
  }
}

RelayStatus SessionStore::Delete(std::string_view id, std::string_view receive_token) {
  std::vector<Wake> woken;
  RelayStatus status = RelayStatus::kOk;
  {
    std::lock_guard lock(mutex_);
    if (!Find(id, &woken)) {
      status = RelayStatus::kNoSession;
    } else {
      auto it = sessions_.find(std::string(id));
      if (!SameToken(receive_token, it->second.receive_token)) {
        status = RelayStatus::kUnauthorized;
      } else {
        Erase(it, &woken);
      }
    }
  }
  RunAll(woken);
  return status;
}

size_t SessionStore::Sweep() {
  std::vector<Wake> woken;
  size_t removed = 0;
  {
    std::lock_guard lock(mutex_);
    const TimePoint now = Now();
    for (auto it = sessions_.begin(); it != sessions_.end();) {
      auto next = std::next(it);
      if (it->second.waiters.empty() && now - it->second.last_used >= limits_.session_ttl) {
        Erase(it, &woken);
        ++removed;
      }
      it = next;
    }
  }
  RunAll(woken);
  return removed;
}

StoreUsage SessionStore::Usage() const {
  std::lock_guard lock(mutex_);
  return StoreUsage{sessions_.size(), held_messages_, memory_bytes_};
}

}  // namespace vigil::relay
