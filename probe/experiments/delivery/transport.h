// DeliveryTransport: one way of carrying messages from a sending end to a receiving end
// over separate connections (the relay over TCP, HTTP or HTTPS; XMPP between two
// accounts; MQTT through one topic), for the delivery experiment. A transport records
// what happened to each connection in OONI's failure vocabulary (probe/net/failure.h)
// and never judges a message: the experiment compares what was sent with what arrived.
// An instance is used by one coroutine at a time on the context's executor; transports
// whose client library has its own loop (libstrophe) run it on a thread of their own
// and say so in their file.
#pragma once

#include <asio/awaitable.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "probe/measurement/measurement.h"

namespace vigil {

struct DeliveryOptions;
struct ExperimentContext;

/// What became of one Send at the sending end.
struct SendOutcome {
  /// OONI failure string of the sending connection (connection_reset,
  /// generic_timeout_error, eof_error, connection_refused, ...); nullopt when the
  /// transport accepted the message (written, and acknowledged where the protocol
  /// acknowledges).
  std::optional<std::string> failure;
  /// The failure came while or right after this message was written on a connection
  /// that had been working (a reset provoked by the content), not while connecting.
  bool on_send = false;
  double t0 = 0, t = 0;  // seconds since the transport's zero
};

struct ReceivedMessage {
  std::string body;  // the bytes as they arrived
  double t = 0;      // seconds since the transport's zero
};

struct ReceiveOutcome {
  std::vector<ReceivedMessage> messages;  // in arrival order
  /// OONI failure string of the receiving connection; nullopt when it worked (even if
  /// nothing arrived).
  std::optional<std::string> failure;
};

class DeliveryTransport {
 public:
  virtual ~DeliveryTransport() = default;

  /// relay-tcp, relay-http, relay-https, xmpp, mqtt.
  virtual std::string_view name() const = 0;

  /// Sets up both ends (a relay session, two logins, a subscription). nullopt on success;
  /// else the OONI failure string (the experiment then records every message as not sent).
  virtual asio::awaitable<std::optional<std::string>> Open() = 0;

  /// Sends one message (one line of UTF-8 text, no '\n') from the sending end, on the
  /// current sending connection, opening a new one when there is none or the last one
  /// failed (so a message after a reset tests whether the server can be reached again).
  /// Takes at most the context's timeout.
  virtual asio::awaitable<SendOutcome> Send(std::string_view text) = 0;

  /// Makes the next Send open a new sending connection. The experiment starts each frame
  /// (control, test, control) on one, so that a censor matching a combination across a
  /// flow sees only that frame's words. The default does nothing (a transport whose
  /// every message already goes on a connection of its own).
  virtual void FreshSendConnection() {}

  /// What arrived at the receiving end since the last call, waiting up to `wait` for the
  /// first message when none is there yet. Reconnects the receiving end when it failed.
  virtual asio::awaitable<ReceiveOutcome> Receive(std::chrono::milliseconds wait) = 0;

  /// Ends both ends (best effort; failures are recorded, not returned).
  virtual asio::awaitable<void> Close() = 0;

  /// The connection log so far, for the measurement's x_transport_events: one object per
  /// event {"t": s, "end": "send"|"receive", "operation": "connect"|"tls_handshake"|
  /// "login"|"subscribe"|"send"|"receive"|"close", "address": "IP:PORT" of the server
  /// (never the probe's), "failure": null or an OONI string}.
  virtual Json Events() const = 0;
};

using DeliveryClock = std::chrono::steady_clock;

/// Makes the transport `options.transport` names; the error names an unknown transport
/// or a missing setting ("delivery: xmpp needs xmpp_sender_jid"). `zero` is the
/// measurement's start, the origin of every t.
Result<std::unique_ptr<DeliveryTransport>> MakeDeliveryTransport(const ExperimentContext& context,
                                                                 const DeliveryOptions& options,
                                                                 DeliveryClock::time_point zero);

/// Each family's maker (relay_transport.cc, xmpp_transport.cc, mqtt_transport.cc);
/// MakeDeliveryTransport dispatches on the name.
Result<std::unique_ptr<DeliveryTransport>> MakeRelayTransport(const ExperimentContext& context,
                                                              const DeliveryOptions& options,
                                                              DeliveryClock::time_point zero);
Result<std::unique_ptr<DeliveryTransport>> MakeXmppTransport(const ExperimentContext& context,
                                                             const DeliveryOptions& options,
                                                             DeliveryClock::time_point zero);
Result<std::unique_ptr<DeliveryTransport>> MakeMqttTransport(const ExperimentContext& context,
                                                             const DeliveryOptions& options,
                                                             DeliveryClock::time_point zero);

}  // namespace vigil
