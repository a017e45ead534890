// The delivery experiment's MQTT transport (MakeMqttTransport, declared in transport.h):
// a publisher connection and a subscriber connection to one broker (mqtt://HOST:PORT
// plain, mqtts://HOST:PORT over TLS verified against the context's CA file, else the
// system store), one random topic per session (vigil/delivery/<128-bit hex>), every
// message published once at QoS 0 (mqtt_transport.cc says why). libmosquitto runs on the
// context's executor, without a thread; callers use the transport as transport.h says,
// from one coroutine at a time.
//
// Events() holds, per connection, "connect", "tls_handshake" (mqtts), "login" (CONNECT
// and CONNACK) and, for the subscriber, "subscribe", each as it succeeded or failed;
// "send" or "receive" when an established connection fails; "close" when one is ended.
// The steps MQTT adds fail with the strings below, the rest in OONI's vocabulary.
#pragma once

#include <string_view>

#include "probe/experiments/delivery/transport.h"

namespace vigil {

/// The broker refused the connection in its CONNACK: this prefix and the reason
/// ("mqtt_connect_refused: not_authorized").
inline constexpr std::string_view kMqttConnectRefusedPrefix = "mqtt_connect_refused: ";
/// The broker refused the subscription to the session's topic (SUBACK 0x80).
inline constexpr std::string_view kMqttSubscribeRefused = "mqtt_subscribe_refused";

}  // namespace vigil
