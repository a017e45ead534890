// RunningHelper: our control helper (vantage/helper) serving on 127.0.0.1 inside the
// test process, on a port of its own choosing, from construction to destruction.
// Create and destroy it on one thread; port() is const.
#pragma once

#include <cstdint>
#include <string>
#include <thread>

#include "vantage/helper/helper_server.h"

namespace vigil::test_support {

class RunningHelper {
 public:
  /// Serves `config` (its listen address and logging are overridden: 127.0.0.1, any
  /// free port, quiet). On failure port() is 0 and a test failure is recorded.
  explicit RunningHelper(HelperConfig config);
  /// Stops the server and waits for it.
  ~RunningHelper();

  RunningHelper(const RunningHelper&) = delete;
  RunningHelper& operator=(const RunningHelper&) = delete;

  uint16_t port() const { return port_; }
  /// "http://127.0.0.1:PORT/", what a probe's helper_url would be.
  std::string url() const;

 private:
  HelperServer server_;
  uint16_t port_ = 0;
  std::thread thread_;
};

}  // namespace vigil::test_support
