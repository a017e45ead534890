#include "tests/support/resetting_proxy.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

namespace vigil::test_support {
namespace {

sockaddr_in LoopbackAddress(uint16_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

bool WriteAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    const ssize_t n = send(fd, data, size, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

// Closes with an RST instead of a FIN.
void Abort(int fd) {
  linger abort{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort, sizeof abort);
  close(fd);
}

struct Relay {
  int client = -1;
  int server = -1;
  std::string sent;  // what the client sent, for keywords split across writes
};

}  // namespace

ResettingProxy::ResettingProxy(uint16_t target_port) : target_port_(target_port) {
  listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address = LoopbackAddress(0);
  socklen_t length = sizeof address;
  if (listen_fd_ < 0 ||
      bind(listen_fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0 ||
      listen(listen_fd_, 16) != 0 ||
      getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    error_ = std::string("ResettingProxy: cannot listen: ") + std::strerror(errno);
    ADD_FAILURE() << error_;
    return;
  }
  port_ = ntohs(address.sin_port);
  stop_fd_ = eventfd(0, EFD_CLOEXEC);
  thread_ = std::thread([this] { Run(); });
}

ResettingProxy::~ResettingProxy() {
  if (thread_.joinable()) {
    const uint64_t one = 1;
    if (write(stop_fd_, &one, sizeof one) != sizeof one) ADD_FAILURE() << "eventfd write";
    thread_.join();
  }
  if (stop_fd_ >= 0) close(stop_fd_);
  if (listen_fd_ >= 0) close(listen_fd_);
}

std::string ResettingProxy::address() const { return "127.0.0.1:" + std::to_string(port_); }

void ResettingProxy::ResetOnKeyword(std::string keyword) {
  std::lock_guard lock(mutex_);
  keyword_ = std::move(keyword);
}

void ResettingProxy::ResetNextClientWrite() {
  std::lock_guard lock(mutex_);
  reset_next_write_ = true;
}

int ResettingProxy::resets() const {
  std::lock_guard lock(mutex_);
  return resets_;
}

void ResettingProxy::Run() {
  std::vector<Relay> relays;
  auto end = [&relays](size_t i, bool reset) {
    if (reset) {
      Abort(relays[i].client);
      Abort(relays[i].server);
    } else {
      close(relays[i].client);
      close(relays[i].server);
    }
    relays.erase(relays.begin() + static_cast<std::ptrdiff_t>(i));
  };
  for (;;) {
    std::vector<pollfd> watch = {{stop_fd_, POLLIN, 0}, {listen_fd_, POLLIN, 0}};
    for (const Relay& relay : relays) {
      watch.push_back({relay.client, POLLIN, 0});
      watch.push_back({relay.server, POLLIN, 0});
    }
    if (poll(watch.data(), watch.size(), -1) < 0 && errno != EINTR) break;
    if (watch[0].revents != 0) break;
    if (watch[1].revents & POLLIN) {
      const int client = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      const int server = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      const sockaddr_in target = LoopbackAddress(target_port_);
      if (client >= 0 && server >= 0 &&
          connect(server, reinterpret_cast<const sockaddr*>(&target), sizeof target) == 0) {
        relays.push_back({client, server, ""});
      } else {
        if (client >= 0) Abort(client);
        if (server >= 0) close(server);
      }
      continue;  // the relays changed under `watch`
    }
    for (size_t i = relays.size(); i-- > 0;) {
      const short from_client = watch[2 + 2 * i].revents;
      const short from_server = watch[3 + 2 * i].revents;
      char buffer[16384];
      if (from_client != 0) {
        const ssize_t n = recv(relays[i].client, buffer, sizeof buffer, 0);
        if (n <= 0) {
          end(i, false);
          continue;
        }
        relays[i].sent.append(buffer, static_cast<size_t>(n));
        bool reset = false;
        {
          std::lock_guard lock(mutex_);
          reset = std::exchange(reset_next_write_, false) ||
                  (!keyword_.empty() && relays[i].sent.find(keyword_) != std::string::npos);
          if (reset) ++resets_;
        }
        if (reset || !WriteAll(relays[i].server, buffer, static_cast<size_t>(n))) {
          end(i, reset);
          continue;
        }
      }
      if (from_server != 0) {
        const ssize_t n = recv(relays[i].server, buffer, sizeof buffer, 0);
        if (n <= 0 || !WriteAll(relays[i].client, buffer, static_cast<size_t>(n))) end(i, false);
      }
    }
  }
  for (size_t i = relays.size(); i-- > 0;) end(i, false);
}

}  // namespace vigil::test_support
