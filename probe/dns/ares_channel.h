// AresChannel: one c-ares channel driven by an Asio executor — c-ares reports the
// sockets it wants watched (socket-state callback), Asio waits on them and on a
// timer for c-ares' own timeouts, so lookups need no thread of their own.
// Use from the executor's thread only. Destroying the channel completes pending
// operations with ARES_EDESTRUCTION.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace vigil {

struct AresOptions {
  /// "ip:port" servers; empty means the system's (resolv.conf).
  std::vector<std::string> servers;
  bool use_tcp = false;
  /// A system-style lookup keeps the system's search list, ndots and retries;
  /// otherwise one try, no search domains (a measurement of exactly one question).
  bool system_style = false;
  std::chrono::milliseconds timeout{5000};
};

/// What came back for one ares_send.
struct AresReply {
  int status = 0;       // ARES_SUCCESS or an ARES_E* code
  std::string message;  // the raw DNS response when there was one
};

/// One address from a getaddrinfo-style lookup.
struct AresAddress {
  std::string ip;
  int family = 0;  // AF_INET / AF_INET6
  int ttl = 0;
};

struct AresAddrinfoReply {
  int status = 0;
  std::vector<AresAddress> addresses;
  std::vector<std::string> cnames;
};

class AresChannel {
 public:
  /// Returns nullptr and sets `error` when c-ares refuses the options.
  static std::unique_ptr<AresChannel> Create(const asio::any_io_executor& executor,
                                             const AresOptions& options, std::string* error);
  ~AresChannel();

  AresChannel(const AresChannel&) = delete;
  AresChannel& operator=(const AresChannel&) = delete;

  /// Sends one query (RD set, no retries, no search domains) and returns whatever
  /// answer arrives — REFUSED and SERVFAIL included (NOCHECKRESP).
  asio::awaitable<AresReply> Query(const std::string& name, int qtype);

  /// A system-style lookup (hosts file, then DNS) of A and AAAA.
  asio::awaitable<AresAddrinfoReply> GetAddrinfo(const std::string& name);

  /// Cancels every pending operation (they complete with ARES_ECANCELLED).
  void Cancel();

  struct State;

 private:
  explicit AresChannel(std::shared_ptr<State> state) : state_(std::move(state)) {}
  std::shared_ptr<State> state_;
};

}  // namespace vigil
