#include "tests/support/misbehaving_listeners.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace vigil::test_support {
namespace {

using Clock = std::chrono::steady_clock;

// After FIN, how long a connection keeps draining what the client still sends: closing
// with unread data would turn the clean EOF into an RST.
constexpr std::chrono::seconds kDrainTime(5);
constexpr std::chrono::seconds kRequestWait(1);
constexpr size_t kMaxRequest = 64 * 1024;

sockaddr_in LoopbackAddress(uint16_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

// A non-blocking TCP socket bound to 127.0.0.1 on a kernel-chosen port; -1 on failure.
int BoundSocket(uint16_t* port, std::string* error) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *error = std::string("socket: ") + std::strerror(errno);
    return -1;
  }
  sockaddr_in address = LoopbackAddress(0);
  socklen_t length = sizeof address;
  if (bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    *error = std::string("bind: ") + std::strerror(errno);
    close(fd);
    return -1;
  }
  *port = ntohs(address.sin_port);
  return fd;
}

// For a listening socket Linux reports the accept queue length in tcpi_unacked and the
// backlog in tcpi_sacked; SYNs are dropped once the first exceeds the second.
bool AcceptQueueFull(int listen_fd) {
  tcp_info info{};
  socklen_t length = sizeof info;
  if (getsockopt(listen_fd, IPPROTO_TCP, TCP_INFO, &info, &length) != 0) return false;
  return info.tcpi_unacked > info.tcpi_sacked;
}

}  // namespace

MisbehavingListeners::MisbehavingListeners() : http_garbage_(kDefaultHttpGarbage) {
  std::string error;
  if (!Setup(&error)) {
    error_ = "MisbehavingListeners: " + error;
    ADD_FAILURE() << error_;
    return;
  }
  thread_ = std::thread([this] { Run(); });
}

MisbehavingListeners::~MisbehavingListeners() {
  if (thread_.joinable()) {
    const uint64_t one = 1;
    if (write(wake_fd_, &one, sizeof one) != sizeof one) {
      // An eventfd write fails only on counter overflow; the thread is then awake anyway.
    }
    thread_.join();
  }
  for (Connection& connection : connections_) Close(connection, false);
  for (const Listener& listener : listeners_) close(listener.fd);
  for (int fd : held_fds_) close(fd);
  if (wake_fd_ >= 0) close(wake_fd_);
}

void MisbehavingListeners::set_http_garbage(std::string bytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  http_garbage_ = std::move(bytes);
}

bool MisbehavingListeners::Setup(std::string* error) {
  wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd_ < 0) {
    *error = std::string("eventfd: ") + std::strerror(errno);
    return false;
  }

  const int refused = BoundSocket(&refused_port_, error);
  if (refused < 0) return false;
  held_fds_.push_back(refused);

  const std::pair<Behavior, uint16_t*> served[] = {
      {Behavior::kReset, &reset_port_},
      {Behavior::kSilent, &silent_port_},
      {Behavior::kEof, &eof_port_},
      {Behavior::kHttpGarbage, &http_garbage_port_},
  };
  for (const auto& [behavior, port] : served) {
    const int fd = BoundSocket(port, error);
    if (fd < 0) return false;
    listeners_.push_back({fd, behavior});
    if (listen(fd, SOMAXCONN) != 0) {
      *error = std::string("listen: ") + std::strerror(errno);
      return false;
    }
  }

  // With backlog 0 the accept queue counts as full once one connection waits in it, and
  // from then on the kernel drops every SYN, whatever tcp_syncookies says. Our own
  // connections fill it, and nobody ever accepts them.
  const int blackhole = BoundSocket(&blackhole_port_, error);
  if (blackhole < 0) return false;
  held_fds_.push_back(blackhole);
  if (listen(blackhole, 0) != 0) {
    *error = std::string("listen: ") + std::strerror(errno);
    return false;
  }
  const sockaddr_in address = LoopbackAddress(blackhole_port_);
  for (int filler = 0; filler < 8 && !AcceptQueueFull(blackhole); ++filler) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) break;
    held_fds_.push_back(fd);
    if (connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0 &&
        errno == EINPROGRESS) {
      pollfd pfd{fd, POLLOUT, 0};
      poll(&pfd, 1, 500);
    }
  }
  if (!AcceptQueueFull(blackhole)) {
    *error = "could not fill the accept queue of the blackhole listener";
    return false;
  }
  return true;
}

void MisbehavingListeners::Run() {
  std::vector<pollfd> fds;
  for (;;) {
    fds.clear();
    fds.push_back({wake_fd_, POLLIN, 0});
    for (const Listener& listener : listeners_) fds.push_back({listener.fd, POLLIN, 0});
    auto next_deadline = Clock::time_point::max();
    for (const Connection& connection : connections_) {
      const short events = connection.phase == Phase::kWriting ? POLLOUT : POLLIN;
      fds.push_back({connection.fd, events, 0});
      next_deadline = std::min(next_deadline, connection.deadline);
    }
    int timeout_ms = -1;
    if (next_deadline != Clock::time_point::max()) {
      const auto left =
          std::chrono::ceil<std::chrono::milliseconds>(next_deadline - Clock::now()).count();
      timeout_ms = static_cast<int>(std::max<decltype(left)>(left, 0));
    }
    if (poll(fds.data(), fds.size(), timeout_ms) < 0 && errno != EINTR) return;
    if (fds[0].revents != 0) return;

    // Connections first: Accept() appends to connections_, which would shift the indexes.
    const size_t first_connection = 1 + listeners_.size();
    for (size_t i = 0; i < connections_.size(); ++i) {
      Connection& connection = connections_[i];
      const short revents = fds[first_connection + i].revents;
      if (revents == 0) continue;
      if (connection.phase == Phase::kWriting) {
        OnWritable(connection);
      } else {
        OnReadable(connection);
      }
    }
    const auto now = Clock::now();
    for (Connection& connection : connections_) {
      if (connection.phase != Phase::kClosed && connection.deadline <= now) OnDeadline(connection);
    }
    connections_.erase(
        std::remove_if(connections_.begin(), connections_.end(),
                       [](const Connection& c) { return c.phase == Phase::kClosed; }),
        connections_.end());
    for (size_t i = 0; i < listeners_.size(); ++i) {
      if (fds[1 + i].revents != 0) Accept(listeners_[i]);
    }
  }
}

void MisbehavingListeners::Accept(const Listener& listener) {
  for (;;) {
    const int fd = accept4(listener.fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    Connection connection;
    connection.fd = fd;
    connection.behavior = listener.behavior;
    switch (listener.behavior) {
      case Behavior::kReset:
      case Behavior::kEof:
        connection.deadline = Clock::now() + kFirstBytesWait;
        break;
      case Behavior::kSilent:
        connection.deadline = Clock::time_point::max();
        break;
      case Behavior::kHttpGarbage:
        connection.deadline = Clock::now() + kRequestWait;
        break;
    }
    connections_.push_back(std::move(connection));
  }
}

void MisbehavingListeners::OnReadable(Connection& connection) {
  char buffer[16384];
  const ssize_t n = recv(connection.fd, buffer, sizeof buffer, MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
  if (n <= 0) {
    // The client closed or reset. A reset listener still answers with RST so that the
    // client sees the same thing whatever it did first.
    const bool reset =
        connection.phase == Phase::kReading && connection.behavior == Behavior::kReset;
    if (connection.phase == Phase::kReading && connection.behavior == Behavior::kHttpGarbage &&
        n == 0) {
      StartWriting(connection);
      return;
    }
    Close(connection, reset);
    return;
  }
  if (connection.phase == Phase::kDraining) return;
  switch (connection.behavior) {
    case Behavior::kReset:
      Close(connection, true);
      break;
    case Behavior::kEof:
      FinishWriting(connection);
      break;
    case Behavior::kSilent:
      break;
    case Behavior::kHttpGarbage:
      connection.request.append(buffer, static_cast<size_t>(n));
      if (connection.request.find("\r\n\r\n") != std::string::npos ||
          connection.request.size() >= kMaxRequest) {
        StartWriting(connection);
      }
      break;
  }
}

void MisbehavingListeners::OnWritable(Connection& connection) {
  while (connection.written < connection.output.size()) {
    const ssize_t n =
        send(connection.fd, connection.output.data() + connection.written,
             connection.output.size() - connection.written, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
    if (n <= 0) {
      Close(connection, false);
      return;
    }
    connection.written += static_cast<size_t>(n);
  }
  FinishWriting(connection);
}

void MisbehavingListeners::OnDeadline(Connection& connection) {
  if (connection.phase == Phase::kReading) {
    switch (connection.behavior) {
      case Behavior::kReset:
        Close(connection, true);
        return;
      case Behavior::kEof:
        FinishWriting(connection);
        return;
      case Behavior::kHttpGarbage:
        StartWriting(connection);
        return;
      case Behavior::kSilent:
        return;
    }
  }
  // A client that neither reads what it is sent nor closes is not waited for forever.
  Close(connection, false);
}

void MisbehavingListeners::StartWriting(Connection& connection) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    connection.output = http_garbage_;
  }
  connection.phase = Phase::kWriting;
  connection.deadline = Clock::now() + kDrainTime;
  OnWritable(connection);
}

void MisbehavingListeners::FinishWriting(Connection& connection) {
  shutdown(connection.fd, SHUT_WR);
  connection.phase = Phase::kDraining;
  connection.deadline = Clock::now() + kDrainTime;
}

void MisbehavingListeners::Close(Connection& connection, bool reset) {
  if (connection.fd < 0) return;
  if (reset) {
    const linger abort{1, 0};
    setsockopt(connection.fd, SOL_SOCKET, SO_LINGER, &abort, sizeof abort);
  }
  close(connection.fd);
  connection.fd = -1;
  connection.phase = Phase::kClosed;
}

}  // namespace vigil::test_support
