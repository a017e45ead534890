#include "probe/tcp/tcp_observer.h"

#include <asio/redirect_error.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include "probe/net/deadline.h"
#include "probe/net/failure.h"

namespace vigil {

asio::awaitable<TcpConnectOutcome> ObserveTcpConnect(Trace& trace, const std::string& ip,
                                                     uint16_t port, int64_t transaction_id,
                                                     std::chrono::milliseconds timeout) {
  auto executor = co_await asio::this_coro::executor;
  TcpConnectOutcome outcome;
  TcpConnect entry;
  entry.ip = ip;
  entry.port = port;
  const double t0 = trace.Now();

  std::error_code ec;
  const auto address = asio::ip::make_address(ip, ec);
  asio::ip::tcp::socket socket(executor);
  if (ec) {
    outcome.failure = UnknownFailure("not an IP address: " + ip);
  } else {
    Deadline deadline(executor, timeout, [&socket] {
      std::error_code ignored;
      socket.close(ignored);
    });
    // Bound before connecting so that the flow's local port is known even when the
    // connect fails: the packet capture finds the flow's segments by it.
    uint16_t local_port = 0;
    socket.open(address.is_v4() ? asio::ip::tcp::v4() : asio::ip::tcp::v6(), ec);
    if (!ec)
      socket.bind({address.is_v4() ? asio::ip::address(asio::ip::address_v4::any())
                                   : asio::ip::address(asio::ip::address_v6::any()),
                   0},
                  ec);
    if (!ec) local_port = socket.local_endpoint(ec).port();
    ec.clear();
    trace.keys().flows.push_back({transaction_id, ip, port, local_port, t0});
    co_await socket.async_connect({address, port}, asio::redirect_error(asio::use_awaitable, ec));
    if (deadline.expired()) {
      outcome.failure = std::string(kGenericTimeoutError);
    } else if (ec) {
      outcome.failure = FailureFromErrorCode(ec);
    }
  }
  entry.status.success = outcome.failure.empty();
  entry.status.failure = AsFailure(outcome.failure);
  entry.timing = trace.Span(t0, transaction_id);
  trace.keys().tcp_connect.push_back(entry);
  trace.Event("connect", t0, transaction_id, JoinHostPort(ip, port), std::nullopt,
              entry.status.failure, "tcp");
  if (outcome.failure.empty()) outcome.socket = std::move(socket);
  co_return outcome;
}

}  // namespace vigil
