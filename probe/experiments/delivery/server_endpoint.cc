#include "probe/experiments/delivery/server_endpoint.h"

#include "probe/dns/dns_observer.h"
#include "probe/experiments/experiment.h"
#include "probe/net/trace.h"

namespace vigil {

asio::awaitable<ServerEndpoint> ResolveServer(const ExperimentContext& context,
                                              const HostPort& server) {
  ServerEndpoint endpoint;
  endpoint.port = server.port;
  std::string ip = server.host;
  if (!IsIpLiteral(server.host)) {
    // The lookup's own records stay out of the measurement: the transports' events say
    // what the experiment needs (the address reached, or the lookup's failure).
    DnsObserver dns(context.executor, context.resolver, context.timeout);
    Trace trace;
    LookupResult lookup = co_await dns.Lookup(trace, server.host);
    if (!lookup.failure.empty() || lookup.addresses.empty()) {
      endpoint.failure = lookup.failure.empty() ? "dns_no_answer" : lookup.failure;
      endpoint.address = JoinHostPort(server.host, server.port);
      co_return endpoint;
    }
    ip = lookup.addresses.front();
  }
  endpoint.ip = context.MapAddress(ip);
  endpoint.address = JoinHostPort(endpoint.ip, endpoint.port);
  co_return endpoint;
}

}  // namespace vigil
