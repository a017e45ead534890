// MakeDeliveryTransport: the one place that maps a transport's name to its maker.
#include "probe/experiments/delivery/delivery_options.h"
#include "probe/experiments/delivery/transport.h"

namespace vigil {

Result<std::unique_ptr<DeliveryTransport>> MakeDeliveryTransport(const ExperimentContext& context,
                                                                 const DeliveryOptions& options,
                                                                 DeliveryClock::time_point zero) {
  const std::string& name = options.transport;
  if (name == "relay-tcp" || name == "relay-http" || name == "relay-https") {
    return MakeRelayTransport(context, options, zero);
  }
  if (name == "xmpp") return MakeXmppTransport(context, options, zero);
  if (name == "mqtt") return MakeMqttTransport(context, options, zero);
  return Error("delivery: unknown transport '" + name +
               "' (relay-tcp, relay-http, relay-https, xmpp, mqtt)");
}

}  // namespace vigil
