#include "probe/stun/stun_observer.h"

#include <algorithm>
#include <array>
#include <asio/buffer.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/ip/udp.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <cstdio>

#include "probe/net/failure.h"
#include "probe/stun/stun_message.h"

namespace vigil {

namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kAsTuple = asio::experimental::as_tuple(asio::use_awaitable);

std::string Hex16(uint16_t v) {
  char text[8];
  std::snprintf(text, sizeof text, "0x%04x", v);
  return text;
}

}  // namespace

asio::awaitable<StunBindingOutcome> ObserveStunBinding(Trace& trace, const std::string& ip,
                                                       uint16_t port, int64_t tid,
                                                       std::chrono::milliseconds timeout,
                                                       std::chrono::milliseconds initial_rto) {
  using namespace asio::experimental::awaitable_operators;
  auto executor = co_await asio::this_coro::executor;
  StunBindingOutcome outcome;
  const std::string address = JoinHostPort(ip, port);

  std::error_code ec;
  const auto ip_address = asio::ip::make_address(ip, ec);
  asio::ip::udp::socket socket(executor);
  double t0 = trace.Now();
  if (ec) {
    outcome.failure = UnknownFailure("not an IP address: " + ip);
  } else {
    const asio::ip::udp::endpoint endpoint(ip_address, port);
    socket.open(endpoint.protocol(), ec);
    if (!ec) socket.connect(endpoint, ec);
    if (ec) outcome.failure = FailureFromErrorCode(ec);
  }
  trace.Event("connect", t0, tid, address, std::nullopt, AsFailure(outcome.failure), "udp");
  if (!outcome.failure.empty()) co_return outcome;

  const StunTransactionId id = RandomStunTransactionId();
  const std::string request = EncodeStunBindingRequest(id);
  const auto deadline = Clock::now() + timeout;
  auto rto = initial_rto;
  auto next_send = Clock::now();
  asio::steady_timer timer(executor);
  std::array<char, 2048> buffer;

  for (;;) {
    const auto now = Clock::now();
    if (now >= deadline) {
      outcome.failure = std::string(kGenericTimeoutError);
      break;
    }
    if (outcome.requests_sent < kStunMaxRequests && now >= next_send) {
      t0 = trace.Now();
      const size_t n = socket.send(asio::buffer(request), 0, ec);
      trace.Event("write", t0, tid, address, static_cast<int64_t>(n),
                  AsFailure(ec ? FailureFromErrorCode(ec) : ""), "udp");
      if (ec) {
        outcome.failure = FailureFromErrorCode(ec);
        break;
      }
      ++outcome.requests_sent;
      // The last request is followed by a longer wait for a late answer.
      next_send =
          now + (outcome.requests_sent < kStunMaxRequests ? rto : kStunFinalWaitRtos * initial_rto);
      rto *= 2;
    }
    timer.expires_at(std::min(deadline, next_send));
    t0 = trace.Now();
    auto result = co_await (socket.async_receive(asio::buffer(buffer), kAsTuple) ||
                            timer.async_wait(kAsTuple));
    if (result.index() == 1) {
      // The timer: time to send again, give up after the final wait, or the deadline.
      if (outcome.requests_sent >= kStunMaxRequests && Clock::now() >= next_send) {
        outcome.failure = std::string(kGenericTimeoutError);
        break;
      }
      continue;
    }
    const auto [receive_error, n] = std::get<0>(result);
    trace.Event("read", t0, tid, address, static_cast<int64_t>(n),
                AsFailure(receive_error ? FailureFromErrorCode(receive_error) : ""), "udp");
    if (receive_error) {
      // On a connected UDP socket an ICMP error (port unreachable: connection_refused)
      // arrives here; nothing will answer after it.
      outcome.failure = FailureFromErrorCode(receive_error);
      break;
    }
    auto discard = [&outcome](std::string why) {
      if (outcome.discarded.size() < kMaxDiscardReasons)
        outcome.discarded.push_back(std::move(why));
      ++outcome.discarded_count;
    };
    auto message = ParseStunMessage(std::string_view(buffer.data(), n));
    if (!message.ok()) {
      discard("malformed: " + message.error());
      continue;
    }
    if (message->transaction_id != id) {
      discard("transaction id of another request");
      continue;
    }
    if (message->type != kStunBindingSuccess && message->type != kStunBindingError) {
      discard("message type " + Hex16(message->type) + " is not a Binding response");
      continue;
    }
    outcome.response = true;
    if (message->type == kStunBindingError) {
      outcome.error_code = message->error_code;
      outcome.failure = UnknownFailure("STUN Binding Error Response " +
                                       (message->error_code ? std::to_string(*message->error_code)
                                                            : std::string("without a code")));
      break;
    }
    outcome.mapped_address_present =
        message->xor_mapped_address.has_value() || message->mapped_address.has_value();
    break;
  }
  std::error_code ignored;
  socket.close(ignored);
  co_return outcome;
}

}  // namespace vigil
