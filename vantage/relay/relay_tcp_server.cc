#include "vantage/relay/relay_tcp_server.h"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <atomic>
#include <cstdio>

#include "probe/experiments/delivery/relay_protocol.h"
#include "vantage/base/server_loops.h"

namespace vigil::relay {

namespace {

using asio::ip::tcp;
using Clock = std::chrono::steady_clock;
constexpr auto kTuple = asio::experimental::as_tuple(asio::use_awaitable);

constexpr auto kWriteTimeout = std::chrono::seconds(10);
constexpr auto kLingerTimeout = std::chrono::seconds(2);
constexpr size_t kMaxLingerBytes = size_t{1} << 20;

// Appends what the peer sends next to `buffer`; 0 on EOF, error or `deadline`.
asio::awaitable<size_t> ReadSome(tcp::socket& socket, std::string& buffer,
                                 Clock::time_point deadline) {
  using namespace asio::experimental::awaitable_operators;
  char chunk[8192];
  asio::steady_timer timer(socket.get_executor(), deadline);
  auto result =
      co_await (socket.async_read_some(asio::buffer(chunk), kTuple) || timer.async_wait(kTuple));
  if (result.index() != 0) co_return 0;
  auto [ec, n] = std::get<0>(result);
  if (ec) co_return 0;
  buffer.append(chunk, n);
  co_return n;
}

asio::awaitable<bool> WriteLine(tcp::socket& socket, const std::string& line) {
  using namespace asio::experimental::awaitable_operators;
  asio::steady_timer timer(socket.get_executor(), kWriteTimeout);
  auto result =
      co_await (asio::async_write(socket, asio::buffer(line), kTuple) || timer.async_wait(kTuple));
  co_return result.index() == 0 && !std::get<0>(std::get<0>(result));
}

// After the last answer: a FIN, then what the client still sends is read and dropped
// for a while, so that closing with unread bytes does not reset the connection (and
// the answer with it) before the client reads it.
asio::awaitable<void> LingeringClose(tcp::socket& socket) {
  asio::error_code ec;
  socket.shutdown(tcp::socket::shutdown_send, ec);
  const auto deadline = Clock::now() + kLingerTimeout;
  std::string scratch;
  for (size_t dropped = 0; dropped < kMaxLingerBytes;) {
    scratch.clear();
    const size_t n = co_await ReadSome(socket, scratch, deadline);
    if (n == 0) break;
    dropped += n;
  }
  socket.close(ec);
}

// "SEND ID T TEXT" split at its first three spaces; false when it is not that shape.
bool SplitSend(std::string_view line, std::string_view* id, std::string_view* token,
               std::string_view* text) {
  constexpr std::string_view kSend = "SEND ";
  if (!line.starts_with(kSend)) return false;
  line.remove_prefix(kSend.size());
  const size_t a = line.find(' ');
  if (a == std::string_view::npos) return false;
  const size_t b = line.find(' ', a + 1);
  if (b == std::string_view::npos) return false;
  *id = line.substr(0, a);
  *token = line.substr(a + 1, b - a - 1);
  *text = line.substr(b + 1);
  return !id->empty() && !token->empty();
}

}  // namespace

struct RelayTcpServer::Impl {
  // Declared before the loops: the connections' frames, destroyed with the loops, use it.
  RelayTcpConfig config;
  SessionStore& store;
  std::atomic<size_t> connections{0};
  ServerLoops loops;  // declared last: destroyed first

  // One connection counted for as long as its coroutine lives.
  struct Counted {
    explicit Counted(std::atomic<size_t>& c) : counter(c), count(c.fetch_add(1) + 1) {}
    ~Counted() { counter.fetch_sub(1); }
    Counted(const Counted&) = delete;
    Counted& operator=(const Counted&) = delete;
    std::atomic<size_t>& counter;
    const size_t count;  // open with this one
  };

  Impl(RelayTcpConfig c, SessionStore& s) : config(std::move(c)), store(s), loops(config.threads) {}

  // "SEND OK", "SEND ERR unauthorized", "QUIT", "ERR too_long": never an id or token.
  void Log(std::string_view what) const {
    if (!config.log_requests) return;
    std::fprintf(stderr, "%s tcp: %.*s\n", config.name.c_str(), static_cast<int>(what.size()),
                 what.data());
  }

  // The answer to one line, and whether the connection goes on after it.
  std::string Answer(std::string_view line, bool* go_on) {
    *go_on = true;
    if (line == "QUIT") {
      Log("QUIT");
      *go_on = false;
      return "";
    }
    std::string_view id, token, text;
    if (!SplitSend(line, &id, &token, &text)) {
      Log("ERR bad_request");
      return "ERR bad_request\n";
    }
    uint64_t seq = 0;
    const RelayStatus status = store.Send(id, token, text, &seq);
    if (status != RelayStatus::kOk) {
      const std::string answer = "ERR " + std::string(ReasonOf(status));
      Log("SEND " + answer);
      return answer + "\n";
    }
    Log("SEND OK");
    return "OK " + std::to_string(seq) + "\n";
  }

  asio::awaitable<void> Connection(tcp::socket socket) {
    Counted counted(connections);
    if (config.max_connections > 0 && counted.count > config.max_connections) {
      Log("ERR busy");
      if (co_await WriteLine(socket, "ERR busy\n")) co_await LingeringClose(socket);
      co_return;
    }
    const size_t max_line = store.limits().max_message_bytes + kMaxLineOverhead;
    std::string buffer;
    for (;;) {
      size_t newline;
      while ((newline = buffer.find('\n')) == std::string::npos) {
        if (buffer.size() > max_line) break;
        if (co_await ReadSome(socket, buffer, Clock::now() + config.idle_timeout) == 0) co_return;
      }
      if (newline == std::string::npos || newline > max_line) {
        Log("ERR too_long");
        if (co_await WriteLine(socket, "ERR too_long\n")) co_await LingeringClose(socket);
        co_return;
      }
      bool go_on = true;
      const std::string answer = Answer(std::string_view(buffer).substr(0, newline), &go_on);
      if (!go_on) {
        co_await LingeringClose(socket);
        co_return;
      }
      if (!co_await WriteLine(socket, answer)) co_return;
      buffer.erase(0, newline + 1);  // a pipelined next line stays
    }
  }
};

RelayTcpServer::RelayTcpServer(RelayTcpConfig config, SessionStore& store)
    : impl_(std::make_unique<Impl>(std::move(config), store)) {}

RelayTcpServer::~RelayTcpServer() { Stop(); }

Result<uint16_t> RelayTcpServer::Bind() {
  return impl_->loops.Bind(impl_->config.listen_ip, impl_->config.listen_port);
}

void RelayTcpServer::Serve() {
  impl_->loops.Serve([impl = impl_.get()](tcp::socket socket) {
    auto home = socket.get_executor();
    asio::co_spawn(home, impl->Connection(std::move(socket)), asio::detached);
  });
}

void RelayTcpServer::Stop() { impl_->loops.Stop(); }

}  // namespace vigil::relay
