// The delivery experiment's XMPP transport (MakeXmppTransport, declared in transport.h):
// two accounts on one server, each logged in over a connection of its own (STARTTLS
// required; the server's certificate verified against the context's CA file, else the
// system store); the sender sends each message as <message type='chat'> to the
// receiver's bare JID and the receiver collects the bodies that arrive. libstrophe runs
// each connection on a thread the transport owns (xmpp_transport.cc says why); callers
// use the transport as transport.h says, from one coroutine at a time.
//
// Events() holds, per connection, "connect", "tls_handshake" (STARTTLS and the
// handshake) and "login" (SASL, the resource, presence), each as it succeeded or failed;
// "send" or "receive" when an established connection fails; "close" when one is ended.
// The steps XMPP adds fail with the strings below, the rest in OONI's vocabulary.
#pragma once

#include <string_view>

#include "probe/experiments/delivery/transport.h"

namespace vigil {

/// The server refused the account's credentials (a SASL <failure/>), at "login".
inline constexpr std::string_view kXmppAuthFailed = "xmpp_auth_failed";
/// The server offered no STARTTLS (stripped on the way, or a plaintext-only server), at
/// "tls_handshake": the transport never logs in without TLS.
inline constexpr std::string_view kXmppStartTlsUnavailable = "xmpp_starttls_unavailable";
/// The server ended the stream with an error: this prefix and the error's condition
/// ("xmpp_stream_error: policy-violation").
inline constexpr std::string_view kXmppStreamErrorPrefix = "xmpp_stream_error: ";

}  // namespace vigil
