// The message relay's protocol, shared by `vigil relay` (vantage/relay) and the
// delivery experiment's relay transports, so both read one definition.
//
// A session is a mailbox with two secrets: the send token and the receive token
// (128 random bits each, hex). Sessions are made and read over HTTP or HTTPS; messages
// are sent over the plain TCP line protocol, HTTP or HTTPS, always on a connection of
// their own (never the one that reads).
//
// HTTP (the same on the HTTPS listener):
//   GET  /api/v1/relay                  → 200 {"version":1,"tcp_port":P|null,
//                                               "http_port":P|null,"https_port":P|null,
//                                               "max_message_bytes":N,"session_ttl_s":S}
//   POST /api/v1/sessions               → 201 {"session":ID,"send_token":T,
//                                               "receive_token":R,"expires_in":S}
//   POST /api/v1/sessions/ID/messages   Authorization: Bearer T; the body is the message,
//                                       raw bytes (text/plain; charset=utf-8)
//                                       → 201 {"seq":N}
//   GET  /api/v1/sessions/ID/messages?after=N&wait=S   Authorization: Bearer R
//                                       → 200 {"messages":[{"seq":N,"body":"..."}...],
//                                              "next":N}; waits up to S seconds
//                                       (at most kMaxWaitSeconds) for a message after N
//   DELETE /api/v1/sessions/ID          Authorization: Bearer R → 204
// "body" holds the bytes as a JSON string when they are valid UTF-8, else the message
// comes as "body_base64". Errors: 400/401/404/413/429/503/507 with {"error": reason}.
//
// TCP line protocol (lines end in "\n"; one connection carries many messages):
//   SEND ID T TEXT\n   → "OK N\n" | "ERR reason\n"   (TEXT: the rest of the line)
//   QUIT\n             → the relay closes
// A line longer than the message limit plus kMaxLineOverhead is refused ("ERR
// too_long") and the connection closed.
#pragma once

#include <cstddef>
#include <string_view>

namespace vigil::relay {

inline constexpr int kProtocolVersion = 1;
inline constexpr std::string_view kInfoPath = "/api/v1/relay";
inline constexpr std::string_view kSessionsPath = "/api/v1/sessions";
inline constexpr size_t kDefaultMaxMessageBytes = 4096;
inline constexpr size_t kMaxLineOverhead = 256;
inline constexpr int kMaxWaitSeconds = 30;
inline constexpr size_t kTokenHexChars = 32;

}  // namespace vigil::relay
