// The relay transports of the delivery experiment (relay-tcp, relay-http, relay-https):
// a session on `vigil relay` (relay_protocol.h) made over relay_url, messages sent on a
// connection of their own to the listener the transport names (the TCP line protocol,
// or POSTs over HTTP or HTTPS, on relay_url's host at the port GET /api/v1/relay gives),
// and read back by long polls over relay_url on another connection. A connection found
// closed or reset before a message is sent is replaced; one that fails while or after a
// message is written is recorded as failing on that message (SendOutcome::on_send).
// MakeRelayTransport (transport.h) makes them; use from the context's executor, one
// coroutine at a time.
#pragma once

#include <optional>
#include <string_view>

namespace vigil {

/// Which of the relay's listeners carries the messages.
enum class RelayListener { kTcp, kHttp, kHttps };

/// relay-tcp, relay-http, relay-https → the listener; nullopt for any other name.
std::optional<RelayListener> RelayListenerFromName(std::string_view transport);

}  // namespace vigil
