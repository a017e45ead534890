// STUN Binding observation: one Binding Request over UDP to one ip:port, sent again
// on RFC 5389's schedule (RTO 500 ms, doubling, at most 7 requests, then 16 RTO of
// listening) until a Binding response with the same transaction id arrives or the
// step deadline passes. Records a UDP `connect` and every `write` and `read` as
// network events (sizes only); datagrams that are not our response are counted and
// described, never trusted. The mapped address in the response is the probe's own
// public address: only whether one was present is kept. Use from the executor's thread.
#pragma once

#include <asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "probe/net/trace.h"

namespace vigil {

/// RFC 5389 §7.2.1's defaults.
inline constexpr std::chrono::milliseconds kStunInitialRto{500};
inline constexpr int kStunMaxRequests = 7;
inline constexpr int kStunFinalWaitRtos = 16;

struct StunBindingOutcome {
  /// "" when a Binding Success Response arrived; otherwise the socket's failure,
  /// generic_timeout_error, or unknown_failure naming a Binding Error Response.
  std::string failure;
  bool response = false;  // a success or error response with our transaction id
  bool mapped_address_present = false;
  std::optional<int> error_code;  // of a Binding Error Response
  int requests_sent = 0;
  /// Why datagrams were ignored (malformed, someone else's transaction, not a
  /// Binding response), the first kMaxDiscardReasons of them; and how many there were.
  std::vector<std::string> discarded;
  int discarded_count = 0;
};

inline constexpr size_t kMaxDiscardReasons = 16;

/// Exchanges with ip:port within `timeout`; `initial_rto` is for tests that need the
/// schedule to run faster.
asio::awaitable<StunBindingOutcome> ObserveStunBinding(
    Trace& trace, const std::string& ip, uint16_t port, int64_t transaction_id,
    std::chrono::milliseconds timeout, std::chrono::milliseconds initial_rto = kStunInitialRto);

}  // namespace vigil
