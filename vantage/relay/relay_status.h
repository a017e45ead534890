// RelayStatus: the closed set of outcomes of a relay operation (make a session, send,
// read, end), and how each listener says it: the HTTP status with {"error": reason}, or
// "ERR reason" on the TCP line protocol (probe/experiments/delivery/relay_protocol.h).
// Pure functions; thread-safe.
#pragma once

#include <string_view>

namespace vigil::relay {

enum class RelayStatus {
  kOk,
  kBadRequest,    ///< 400 bad_request: malformed command, query or session id
  kUnauthorized,  ///< 401 unauthorized: no token, or not this session's
  kNoSession,     ///< 404 no_session: unknown or expired
  kTooLong,       ///< 413 too_long: a message over the message limit
  kTooMany,       ///< 429 too_many: the session's message limit, or its waiting readers
  kBusy,          ///< 503 busy: as many sessions as allowed
  kFull,          ///< 507 full: the memory cap across sessions
  kInternal,      ///< 500 internal: the random generator failed
};

/// 200 for kOk; the status above otherwise.
int HttpStatusOf(RelayStatus status);

/// "ok", "bad_request", "unauthorized", ...: the reason both protocols carry.
std::string_view ReasonOf(RelayStatus status);

}  // namespace vigil::relay
