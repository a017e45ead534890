// ServerEndpoint: where a delivery transport's connections go — the server's host
// resolved once with the context's resolver (an IP literal as given, through the lab's
// address map) — and the address its events name. Use from the executor's thread.
#pragma once

#include <asio/awaitable.hpp>
#include <cstdint>
#include <string>

#include "base/host_port.h"

namespace vigil {

struct ExperimentContext;

struct ServerEndpoint {
  std::string ip;  ///< empty when the name did not resolve
  uint16_t port = 0;
  /// "IP:PORT" ("[IPv6]:PORT"); "HOST:PORT" when the name did not resolve.
  std::string address;
  /// "" on success, else the lookup's failure (dns_nxdomain_error, ...).
  std::string failure;
};

/// Resolves `server` (a name or an IP literal) and takes its first address.
asio::awaitable<ServerEndpoint> ResolveServer(const ExperimentContext& context,
                                              const HostPort& server);

}  // namespace vigil
