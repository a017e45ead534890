#include "tests/support/blackhole_host.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace vigil::test_support {

namespace {

// True once the listener has a connection it has not accepted and SYNs stop being
// answered: the queue (backlog 0) is full.
bool Full(int fd) {
  tcp_info info{};
  socklen_t length = sizeof info;
  return getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &length) == 0 &&
         info.tcpi_unacked > info.tcpi_sacked;
}

}  // namespace

BlackholeHost::BlackholeHost(const std::string& ip, const std::vector<uint16_t>& ports) {
  for (uint16_t port : ports) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    if (inet_pton(AF_INET, ip.c_str(), &a.sin_addr) != 1) {
      error_ = ip + " is not an IPv4 address";
      return;
    }
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    fds_.push_back(fd);
    if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(fd, 0) != 0) {
      error_ = ip + ":" + std::to_string(port) + ": " + std::strerror(errno);
      return;
    }
    for (int i = 0; i < 8 && !Full(fd); ++i) {
      const int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      fds_.push_back(c);
      if (connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 && errno == EINPROGRESS) {
        pollfd p{c, POLLOUT, 0};
        poll(&p, 1, 500);
      }
    }
    if (!Full(fd)) {
      error_ = "cannot fill the accept queue of " + ip + ":" + std::to_string(port);
      return;
    }
  }
}

BlackholeHost::~BlackholeHost() {
  for (int fd : fds_) close(fd);
}

}  // namespace vigil::test_support
