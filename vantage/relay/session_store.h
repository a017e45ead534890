// SessionStore: the relay's mailboxes. A session holds the messages sent to it, in
// order and numbered from 1, until its receiver acknowledges them (by reading after
// their number) or the session ends: deleted, or expired a TTL after it was last used
// (Sweep removes those; any access treats them as gone). Each session has two secrets,
// the send token and the receive token (relay_token.h), checked in constant time.
// Everything is bounded: sessions, bytes per message, messages per session over its
// life, readers waiting per session, and the bytes held across all sessions (the memory
// cap: messages and sessions counted with their overhead). A reader with nothing to read
// may leave a wake-up that runs once when a message arrives or the session ends (the
// long poll of relay_http_api.h).
// Thread-safe: one mutex; wake-ups run on the thread that caused them, outside it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "probe/experiments/delivery/relay_protocol.h"
#include "vantage/relay/relay_status.h"

namespace vigil::relay {

struct RelayLimits {
  size_t max_sessions = 10000;
  size_t max_message_bytes = kDefaultMaxMessageBytes;
  /// Messages a session accepts over its life (acknowledged ones included).
  size_t max_messages = 1000;
  /// Bytes held across sessions: message bodies plus kMessageOverhead each, and
  /// kSessionOverhead per session.
  size_t max_memory_bytes = size_t{64} << 20;
  std::chrono::seconds session_ttl{600};
  /// Long polls waiting at once on one session.
  size_t max_waiters_per_session = 4;
};

struct NewSession {
  std::string id;  // 16 hex digits
  std::string send_token;
  std::string receive_token;  // kTokenHexChars hex digits each
};

struct StoredMessage {
  uint64_t seq = 0;
  std::string body;
};

struct ReadResult {
  RelayStatus status = RelayStatus::kOk;
  std::vector<StoredMessage> messages;  // seq > after, in order
  uint64_t next = 0;                    // the `after` of the next read
  uint64_t watch = 0;                   // the wake-up left, or 0
};

struct StoreUsage {
  size_t sessions = 0;
  size_t messages = 0;      // held, not yet acknowledged
  size_t memory_bytes = 0;  // as the cap counts it
};

class SessionStore {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  /// The clock expiry reads: steady_clock::now, or a test's.
  using Clock = std::function<TimePoint()>;
  using Wake = std::function<void()>;

  static constexpr size_t kMessageOverhead = 64;
  static constexpr size_t kSessionOverhead = 256;

  explicit SessionStore(RelayLimits limits, Clock clock = nullptr);

  SessionStore(const SessionStore&) = delete;
  SessionStore& operator=(const SessionStore&) = delete;

  const RelayLimits& limits() const { return limits_; }

  /// A fresh session: kBusy at max_sessions, kFull at the memory cap.
  RelayStatus Create(NewSession* session);

  /// Appends `body` to the session; `*seq` is its number.
  RelayStatus Send(std::string_view id, std::string_view send_token, std::string_view body,
                   uint64_t* seq);

  /// The messages after `after`, dropping those up to `after` (the reader has them).
  /// With `wake` and nothing to return, leaves the wake-up (result.watch); it runs once,
  /// when a message arrives or the session ends, unless Unwatch comes first.
  ReadResult Read(std::string_view id, std::string_view receive_token, uint64_t after,
                  Wake wake = nullptr);

  /// Takes back a wake-up that has not run (harmless when it has, or the session is gone).
  void Unwatch(std::string_view id, uint64_t watch);

  /// Ends the session; its waiting readers are woken.
  RelayStatus Delete(std::string_view id, std::string_view receive_token);

  /// Removes the sessions unused for a TTL (those with a waiting reader are in use);
  /// returns how many.
  size_t Sweep();

  StoreUsage Usage() const;

 private:
  struct Session {
    std::string send_token;
    std::string receive_token;
    std::vector<StoredMessage> messages;  // held, ascending seq
    size_t held_bytes = 0;                // of `messages`, with overhead
    uint64_t last_seq = 0;                // also the count accepted over the session's life
    TimePoint last_used;
    std::map<uint64_t, Wake> waiters;
  };

  TimePoint Now() const;
  // The live session `id`, or null (an expired one is removed, its wake-ups into `woken`).
  Session* Find(std::string_view id, std::vector<Wake>* woken);
  void Erase(std::unordered_map<std::string, Session>::iterator it, std::vector<Wake>* woken);

  const RelayLimits limits_;
  const Clock clock_;

  mutable std::mutex mutex_;
  std::unordered_map<std::string, Session> sessions_;  // guarded by mutex_
  size_t memory_bytes_ = 0;                            // guarded by mutex_
  size_t held_messages_ = 0;                           // guarded by mutex_
  uint64_t last_watch_ = 0;                            // guarded by mutex_
};

}  // namespace vigil::relay
