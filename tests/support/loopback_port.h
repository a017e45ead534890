// Loopback addressing for the test servers: ports that are free to bind, whether [::1]
// exists on this machine, and whether a TCP listener accepts connections yet.
// All functions are thread-safe.
#pragma once

#include <cstdint>
#include <string>

namespace vigil::test_support {

/// A port that was free on 127.0.0.1 for both TCP and UDP (and on [::1] for TCP when
/// Ipv6LoopbackWorks()) when it was picked, and that this process never returned before;
/// 0 if none could be found. Another process may still take it before the server binds,
/// which is why the servers retry their start on fresh ports.
uint16_t FreeLoopbackPort();

/// True when a TCP socket can be bound and connected on [::1] (containers often lack it).
bool Ipv6LoopbackWorks();

/// True when a TCP connect to ip:port (a numeric address) completes within 200 ms.
bool TcpConnects(const std::string& ip, uint16_t port);

}  // namespace vigil::test_support
