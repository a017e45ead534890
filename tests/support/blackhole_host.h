// BlackholeHost: TCP listeners on fixed ports of one loopback address whose accept
// queues are kept full, so the kernel drops further SYNs as a censor's blackhole does:
// a connect stays in progress until the client's own deadline. For experiments whose
// ports are fixed (443, 5222, 8080, ...); ports below 1024 need root. Construct and
// destroy on one thread; the accessors are const.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace vigil::test_support {

class BlackholeHost {
 public:
  /// Binds `ip` (e.g. "127.77.0.1") on every port and fills the queues. On failure
  /// error() says why (for GTEST_SKIP: binding a privileged port needs root).
  BlackholeHost(const std::string& ip, const std::vector<uint16_t>& ports);
  ~BlackholeHost();

  BlackholeHost(const BlackholeHost&) = delete;
  BlackholeHost& operator=(const BlackholeHost&) = delete;

  /// "" when every port is blackholed.
  const std::string& error() const { return error_; }

 private:
  std::string error_;
  std::vector<int> fds_;
};

}  // namespace vigil::test_support
