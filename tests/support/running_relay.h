// RunningRelay: our message relay (vantage/relay) serving on 127.0.0.1 inside the test
// process, each listener the config names on a port of its own choosing, from
// construction until Stop() or destruction. Create, stop and destroy it on one thread;
// the accessors are const.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "vantage/relay/relay_server.h"

namespace vigil::test_support {

class RunningRelay {
 public:
  /// Serves `config` (its listeners moved to 127.0.0.1 on free ports, logging off).
  /// On failure ok() is false and a test failure is recorded.
  explicit RunningRelay(relay::RelayConfig config);
  /// Stops the relay and waits for it.
  ~RunningRelay();

  RunningRelay(const RunningRelay&) = delete;
  RunningRelay& operator=(const RunningRelay&) = delete;

  bool ok() const { return ok_; }
  /// The ports, as GET /api/v1/relay tells clients.
  const relay::RelayInfo& info() const { return info_; }
  /// "http://127.0.0.1:PORT" (or https://), what a probe's relay_url would be.
  std::string http_url() const;
  std::string https_url() const;
  /// The relay's sessions; only before Stop().
  relay::SessionStore& store() { return server_->store(); }

  /// Stops serving and destroys the relay, which closes every listener and connection
  /// (a relay gone away: connecting is refused).
  void Stop();

 private:
  std::unique_ptr<relay::RelayServer> server_;
  relay::RelayInfo info_;
  bool ok_ = false;
  std::thread thread_;
};

}  // namespace vigil::test_support
