// MisbehavingListeners: TCP endpoints on 127.0.0.1 that fail the ways interference makes
// connections fail (refusal, reset, silence, early EOF, dropped SYNs, hostile HTTP replies),
// served by one background poll() thread. All methods are thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace vigil::test_support {

class MisbehavingListeners {
 public:
  /// What http_garbage_port() answers until set_http_garbage() says otherwise.
  static constexpr char kDefaultHttpGarbageBytes[] =
      "\x16\x03\x01\x00\x2a not http at all \xff\xfe\x00\r\n\r\nHTTP/1.1 200 OK\r\n";
  static constexpr std::string_view kDefaultHttpGarbage{kDefaultHttpGarbageBytes,
                                                        sizeof kDefaultHttpGarbageBytes - 1};
  /// How long reset_port() and eof_port() wait for a client's first bytes before acting.
  static constexpr std::chrono::milliseconds kFirstBytesWait{200};

  /// Binds every port and starts the thread (a few ms). On failure ok() is false and a test
  /// failure is recorded.
  MisbehavingListeners();
  /// Stops the thread and closes every socket, which ends every connection.
  ~MisbehavingListeners();

  MisbehavingListeners(const MisbehavingListeners&) = delete;
  MisbehavingListeners& operator=(const MisbehavingListeners&) = delete;

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }

  /// Bound but not listening, so the kernel answers SYNs with RST: ECONNREFUSED.
  uint16_t refused_port() const { return refused_port_; }
  /// Accepts, reads the first bytes (or waits kFirstBytesWait), then aborts with RST: the
  /// client's next read or write fails with ECONNRESET, e.g. during a TLS handshake.
  uint16_t reset_port() const { return reset_port_; }
  /// Accepts and reads, but never writes or closes: the client times out.
  uint16_t silent_port() const { return silent_port_; }
  /// Accepts, reads the first bytes (or waits kFirstBytesWait), then sends FIN and keeps
  /// reading: the client sees a clean EOF, e.g. during a TLS handshake.
  uint16_t eof_port() const { return eof_port_; }
  /// A listener whose accept queue is kept full, so the kernel drops further SYNs and a
  /// connect() stays in progress until the client's own timeout (or the kernel's SYN
  /// retries, about two minutes).
  uint16_t blackhole_port() const { return blackhole_port_; }
  /// Reads a request (up to the blank line, or 1 s), answers the http_garbage bytes, then
  /// sends FIN.
  uint16_t http_garbage_port() const { return http_garbage_port_; }

  /// Replaces what http_garbage_port() sends to connections that have not been answered yet.
  void set_http_garbage(std::string bytes);

 private:
  enum class Behavior { kReset, kSilent, kEof, kHttpGarbage };
  enum class Phase { kReading, kWriting, kDraining, kClosed };
  struct Listener {
    int fd;
    Behavior behavior;
  };
  struct Connection {
    int fd = -1;
    Behavior behavior = Behavior::kSilent;
    Phase phase = Phase::kReading;
    std::chrono::steady_clock::time_point deadline;
    std::string request;
    std::string output;
    size_t written = 0;
  };

  bool Setup(std::string* error);
  void Run();
  void Accept(const Listener& listener);
  void OnReadable(Connection& connection);
  void OnWritable(Connection& connection);
  void OnDeadline(Connection& connection);
  void StartWriting(Connection& connection);
  void FinishWriting(Connection& connection);
  void Close(Connection& connection, bool reset);

  std::string error_;
  uint16_t refused_port_ = 0;
  uint16_t reset_port_ = 0;
  uint16_t silent_port_ = 0;
  uint16_t eof_port_ = 0;
  uint16_t blackhole_port_ = 0;
  uint16_t http_garbage_port_ = 0;

  // Sockets that are only held open: the unlistening one, the blackhole and its fillers.
  std::vector<int> held_fds_;
  // Owned by the thread once it runs.
  std::vector<Listener> listeners_;
  std::vector<Connection> connections_;
  int wake_fd_ = -1;
  std::thread thread_;

  std::mutex mutex_;
  std::string http_garbage_;  // guarded by mutex_
};

}  // namespace vigil::test_support
