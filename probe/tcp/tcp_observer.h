// TCP connect observation: one attempt to one ip:port, recorded as an OONI
// tcpconnect `tcp_connect[]` entry and a `connect` network event, with a deadline
// (generic_timeout_error) so a blackholed SYN never stalls a measurement.
// Use from the executor's thread.
#pragma once

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "probe/net/trace.h"

namespace vigil {

struct TcpConnectOutcome {
  std::optional<asio::ip::tcp::socket> socket;  // set on success
  std::string failure;                          // "" on success
};

/// Connects to ip:port; `transaction_id` ties the entry to the exchange it opens.
asio::awaitable<TcpConnectOutcome> ObserveTcpConnect(Trace& trace, const std::string& ip,
                                                     uint16_t port, int64_t transaction_id,
                                                     std::chrono::milliseconds timeout);

}  // namespace vigil
