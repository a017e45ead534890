// SilentResolver: a UDP socket on loopback that never answers, so that every DNS query
// sent to it times out: DNS fails fast and honestly, and nothing leaves the machine.
#pragma once

#include <cstdint>
#include <string>

namespace vigil::test_support {

class SilentResolver {
 public:
  SilentResolver();
  ~SilentResolver();
  SilentResolver(const SilentResolver&) = delete;
  SilentResolver& operator=(const SilentResolver&) = delete;

  /// "udp://127.0.0.1:PORT", for --resolver.
  std::string url() const { return "udp://127.0.0.1:" + std::to_string(port_); }
  /// Whether the socket is bound.
  bool ok() const { return port_ != 0; }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

}  // namespace vigil::test_support
