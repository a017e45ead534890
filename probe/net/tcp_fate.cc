#include "probe/net/tcp_fate.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "probe/net/failure.h"

namespace vigil {

std::string FailureFromTcpState(int fd) {
  if (fd < 0) return "";
  int error = 0;
  socklen_t length = sizeof error;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) == 0 && error != 0) {
    return FailureFromErrno(error);
  }
  tcp_info info{};
  length = sizeof info;
  if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &length) != 0) return "";
  switch (info.tcpi_state) {
    case TCP_CLOSE:
      // A reset moves an established connection straight to CLOSE (its error is read
      // by whoever reads first); a peer's FIN never does.
      return "connection_reset";
    case TCP_CLOSE_WAIT:
    case TCP_LAST_ACK:
    case TCP_CLOSING:
    case TCP_TIME_WAIT:
      return std::string(kEofError);
    default:
      return "";
  }
}

bool TcpHandshakeCompleted(int fd) {
  tcp_info info{};
  socklen_t length = sizeof info;
  if (fd < 0 || getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &length) != 0) return false;
  return info.tcpi_rtt != 0;  // the estimator never stores 0 once it has a sample
}

}  // namespace vigil
