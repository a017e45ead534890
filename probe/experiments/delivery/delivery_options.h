// DeliveryOptions: what the delivery experiment needs besides the common context —
// whether the volunteer enabled it (sensitive words cross their network, so it is off
// until they acknowledge that), the transport, and each transport's server and
// accounts. Filled by `vigil run` from the config's "delivery" object and flags.
// Plain values; thread-safe.
#pragma once

#include <chrono>
#include <string>

namespace vigil {

struct DeliveryOptions {
  /// The config's delivery.enabled with its acknowledgement: without it the delivery
  /// experiment refuses to run (an Error, before anything is sent).
  bool enabled = false;
  /// relay-tcp | relay-http | relay-https | xmpp | mqtt.
  std::string transport = "relay-https";
  /// The relay's base URL, http://HOST:PORT or https://HOST:PORT: sessions are made and
  /// messages fetched there; its /api/v1/relay says where the other listeners are.
  std::string relay_url;
  /// XMPP: two accounts on one server; the sender sends to the receiver's bare JID.
  std::string xmpp_server;  // HOST or HOST:PORT to connect to; empty: the JIDs' domain:5222
  std::string xmpp_sender_jid, xmpp_sender_password;
  std::string xmpp_receiver_jid, xmpp_receiver_password;
  /// MQTT: mqtt://HOST:PORT (plain) or mqtts://HOST:PORT (TLS); one topic per session.
  std::string mqtt_broker;
  /// The keyword list (testlists/keywords CSV); empty: every *.csv in data_dir/keywords.
  std::string keywords_file;
  /// How long a message may take to arrive before it counts as lost.
  std::chrono::milliseconds delivery_wait{8000};
  /// How long controls are re-sent after a test message broke the channel before the
  /// channel counts as lost: residual blocks last 90-180 s in the wild.
  std::chrono::seconds stateful_wait{200};
};

}  // namespace vigil
