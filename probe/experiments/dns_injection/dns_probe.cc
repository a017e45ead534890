#include "probe/experiments/dns_injection/dns_probe.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <asio/ip/udp.hpp>
#include <asio/redirect_error.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <cerrno>
#include <cstring>
#include <optional>

#include "base/host_port.h"
#include "probe/dns/dns_exchange.h"
#include "probe/net/deadline.h"
#include "probe/net/failure.h"

namespace vigil {

namespace {

using Clock = Trace::Clock;

std::string SourceOf(const sockaddr_storage& from) {
  char text[INET6_ADDRSTRLEN] = {};
  if (from.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&from);
    inet_ntop(AF_INET, &a->sin_addr, text, sizeof text);
    return JoinHostPort(text, ntohs(a->sin_port));
  }
  const auto* a = reinterpret_cast<const sockaddr_in6*>(&from);
  inet_ntop(AF_INET6, &a->sin6_addr, text, sizeof text);
  return JoinHostPort(text, ntohs(a->sin6_port));
}

std::optional<int> TtlOf(msghdr& msg) {
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    const bool v4 = c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL;
    const bool v6 = c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT;
    if (!v4 && !v6) continue;
    int ttl = 0;
    std::memcpy(&ttl, CMSG_DATA(c), sizeof ttl);
    return ttl;
  }
  return std::nullopt;
}

}  // namespace

asio::awaitable<DnsProbeObservation> SendDnsProbe(DnsProbeTarget target, DnsProbeTiming timing) {
  auto executor = co_await asio::this_coro::executor;
  DnsProbeObservation p;
  p.kind = target.kind;
  p.address = JoinHostPort(target.ip, target.port);
  p.hostname = target.hostname;
  p.qtype = target.qtype;
  p.id = RandomDnsId();
  auto wire = EncodeDnsQuery(target.hostname, target.qtype, p.id);
  if (!wire.ok()) {
    p.failure = UnknownFailure(wire.error());
    co_return p;
  }
  std::error_code ec;
  const auto ip = asio::ip::make_address(target.ip, ec);
  if (ec) {
    p.failure = UnknownFailure("not an IP address: " + target.ip);
    co_return p;
  }
  asio::ip::udp::socket socket(executor);
  socket.open(ip.is_v4() ? asio::ip::udp::v4() : asio::ip::udp::v6(), ec);
  if (!ec) {
    const int on = 1;
    const int fd = socket.native_handle();
    if (ip.is_v4()) {
      setsockopt(fd, IPPROTO_IP, IP_RECVTTL, &on, sizeof on);
    } else {
      setsockopt(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &on, sizeof on);
    }
    socket.connect({ip, target.port}, ec);
  }
  auto send = [&]() -> bool {
    socket.send(asio::buffer(*wire), 0, ec);
    if (ec) return false;
    ++p.queries_sent;
    return true;
  };
  if (ec || !send()) {
    p.failure = FailureFromErrorCode(ec);
    co_return p;
  }

  const Clock::time_point start = Clock::now();
  Clock::time_point end = start + timing.timeout;
  std::optional<Clock::time_point> resend_at = start + timing.timeout / 2;
  std::string error;  // an ICMP error reported on the socket (connection_refused, ...)
  auto shorten = [&](Clock::time_point now) {
    end = std::min(end, now + timing.listen);
    resend_at.reset();
  };
  while (true) {
    const Clock::time_point now = Clock::now();
    if (now >= end) break;
    const Clock::time_point wake = resend_at ? std::min(*resend_at, end) : end;
    {
      Deadline deadline(executor,
                        std::chrono::duration_cast<std::chrono::milliseconds>(wake - now) +
                            std::chrono::milliseconds(1),
                        [&socket] {
                          std::error_code ignored;
                          socket.cancel(ignored);
                        });
      std::error_code waited;
      co_await socket.async_wait(asio::ip::udp::socket::wait_read,
                                 asio::redirect_error(asio::use_awaitable, waited));
      if (deadline.expired() || waited == asio::error::operation_aborted) {
        if (resend_at && Clock::now() >= *resend_at) {
          resend_at.reset();
          if (!send()) error = FailureFromErrorCode(ec);
        }
        continue;
      }
      if (waited) {
        // Some reactors hand the socket's pending error (ICMP) to the wait itself.
        if (error.empty()) error = FailureFromErrorCode(waited);
        if (p.datagrams.empty()) shorten(Clock::now());
        continue;
      }
    }
    // Everything queued now; the error an ICMP message left on the socket comes out of
    // recvmsg once and the datagrams after it still arrive.
    while (true) {
      char buffer[4096];
      char control[256];
      sockaddr_storage from{};
      iovec iov{buffer, sizeof buffer};
      msghdr msg{};
      msg.msg_name = &from;
      msg.msg_namelen = sizeof from;
      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      msg.msg_control = control;
      msg.msg_controllen = sizeof control;
      const ssize_t n = recvmsg(socket.native_handle(), &msg, MSG_DONTWAIT);
      const Clock::time_point at = Clock::now();
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        if (errno == EINTR) continue;
        if (error.empty()) error = FailureFromErrno(errno);
        if (p.datagrams.empty()) shorten(at);
        continue;
      }
      DnsDatagram d;
      d.t = std::chrono::duration<double>(at - timing.zero).count();
      d.source = SourceOf(from);
      d.ip_ttl = TtlOf(msg);
      d.payload.assign(buffer, static_cast<size_t>(n));
      if (p.datagrams.empty()) {
        end = at + timing.listen;
        resend_at.reset();
      }
      p.datagrams.push_back(std::move(d));
    }
  }
  if (p.datagrams.empty()) {
    p.failure = error.empty() ? std::string(kGenericTimeoutError) : error;
  }
  co_return p;
}

}  // namespace vigil
