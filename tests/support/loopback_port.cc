#include "tests/support/loopback_port.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <set>

namespace vigil::test_support {
namespace {

// A socket that closes itself, so that every early return below leaks nothing.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

sockaddr_storage Loopback(int family, uint16_t port, socklen_t* length) {
  sockaddr_storage address{};
  if (family == AF_INET) {
    auto* v4 = reinterpret_cast<sockaddr_in*>(&address);
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    v4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    *length = sizeof(sockaddr_in);
  } else {
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&address);
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    v6->sin6_addr = in6addr_loopback;
    *length = sizeof(sockaddr_in6);
  }
  return address;
}

// Binds without SO_REUSEADDR on purpose: a port still in TIME_WAIT is skipped rather than
// handed to a server that might then see stray segments of an old connection.
bool Binds(const Fd& socket_fd, int family, uint16_t port) {
  if (socket_fd.get() < 0) return false;
  if (family == AF_INET6) {
    const int on = 1;
    setsockopt(socket_fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
  }
  socklen_t length = 0;
  const sockaddr_storage address = Loopback(family, port, &length);
  return bind(socket_fd.get(), reinterpret_cast<const sockaddr*>(&address), length) == 0;
}

uint16_t BoundPort(const Fd& socket_fd) {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  if (getsockname(socket_fd.get(), reinterpret_cast<sockaddr*>(&address), &length) != 0) return 0;
  if (address.ss_family == AF_INET) {
    return ntohs(reinterpret_cast<const sockaddr_in*>(&address)->sin_port);
  }
  return ntohs(reinterpret_cast<const sockaddr_in6*>(&address)->sin6_port);
}

bool ConnectsWithin(int family, const sockaddr* address, socklen_t length, int timeout_ms) {
  Fd fd(socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return false;
  if (connect(fd.get(), address, length) == 0) return true;
  if (errno != EINPROGRESS) return false;
  pollfd pfd{fd.get(), POLLOUT, 0};
  if (poll(&pfd, 1, timeout_ms) != 1) return false;
  int error = 0;
  socklen_t error_length = sizeof error;
  getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &error, &error_length);
  return error == 0;
}

}  // namespace

bool Ipv6LoopbackWorks() {
  static const bool works = [] {
    Fd listener(socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!Binds(listener, AF_INET6, 0) || listen(listener.get(), 1) != 0) return false;
    socklen_t length = 0;
    const sockaddr_storage address = Loopback(AF_INET6, BoundPort(listener), &length);
    return ConnectsWithin(AF_INET6, reinterpret_cast<const sockaddr*>(&address), length, 200);
  }();
  return works;
}

uint16_t FreeLoopbackPort() {
  static std::mutex mutex;
  static std::set<uint16_t> handed_out;
  const bool ipv6 = Ipv6LoopbackWorks();
  for (int attempt = 0; attempt < 200; ++attempt) {
    Fd tcp4(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!Binds(tcp4, AF_INET, 0)) continue;
    const uint16_t port = BoundPort(tcp4);
    if (port == 0) continue;
    Fd udp4(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!Binds(udp4, AF_INET, port)) continue;
    if (ipv6) {
      Fd tcp6(socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
      if (!Binds(tcp6, AF_INET6, port)) continue;
    }
    std::lock_guard<std::mutex> lock(mutex);
    if (handed_out.insert(port).second) return port;
  }
  return 0;
}

bool TcpConnects(const std::string& ip, uint16_t port) {
  sockaddr_storage address{};
  socklen_t length = 0;
  int family = AF_INET;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&address);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&address);
  if (inet_pton(AF_INET, ip.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    length = sizeof(sockaddr_in);
  } else if (inet_pton(AF_INET6, ip.c_str(), &v6->sin6_addr) == 1) {
    family = AF_INET6;
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    length = sizeof(sockaddr_in6);
  } else {
    return false;
  }
  return ConnectsWithin(family, reinterpret_cast<const sockaddr*>(&address), length, 200);
}

}  // namespace vigil::test_support
