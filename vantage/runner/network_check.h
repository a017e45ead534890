// NetworkCheck: whether the probe's own network works at all, asked once per run beside
// its first measurements. Without it, a machine with no network (or a resolver that
// answers nobody) reads as a country that blocks everything. Canaries: the run's
// resolver asked for names no censor blocks (only addresses in its answer count: a
// resolver cut off from the internet may still say NXDOMAIN), and TCP connects to the
// run's own servers
// (helper, collectors) and to any canary addresses the volunteer named. Loopback
// addresses prove nothing about the network and are left out. The result goes into
// every measurement of the run as test_keys.x_network ({"usable", "checks": [...]});
// the analyzer calls a measurement whose network was unusable no_network, not blocked.
// CheckNetwork runs on the run's event loop; NetworkCheck may be waited for from any
// thread.
#pragma once

#include <asio/awaitable.hpp>
#include <chrono>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "probe/experiments/experiment.h"

namespace vigil {

struct NetworkCheckOptions {
  /// Names the resolver is asked for (one A query each, or getaddrinfo).
  std::vector<std::string> names = {"example.com", "example.org", "example.net"};
  /// URLs or host:port of servers to connect to (the helper, collectors, canaries);
  /// names among them are resolved first. Loopback addresses are skipped.
  std::vector<std::string> endpoints;
};

/// Asks every canary at once (each bounded by context.timeout); the result is the
/// x_network object: "usable" is true when any canary answered (null when there was
/// none to ask), and "checks" lists each
/// ({"kind": "dns"|"tcp", "target", "failure": null or OONI's failure string}).
asio::awaitable<Json> CheckNetwork(const ExperimentContext& context,
                                   const NetworkCheckOptions& options);

/// The run's one check, set from the event loop and read by the writer thread.
class NetworkCheck {
 public:
  NetworkCheck() : answer_(promise_.get_future().share()) {}
  void Set(Json result);
  /// Waits for Set; the same object every time.
  const Json& Get() const { return answer_.get(); }

 private:
  std::promise<Json> promise_;
  std::shared_future<Json> answer_;
};

}  // namespace vigil
