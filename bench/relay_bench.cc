// vigil_relay_bench: messages per second that `vigil relay` carries on this machine with
// many sender/receiver pairs at once over loopback, and the latency of each message from
// its send to its arrival at the receiver (p50, p99). Each pair has its own session: the
// sender sends its next message as soon as the last one is acknowledged (over the TCP
// line protocol, or POSTs over HTTP, on a kept connection); the receiver long-polls
// (GET .../messages?after=N&wait=5) on a connection of its own. Every message carries
// its send time, so latency is measured where it arrives. Beside it, in the same run:
// one pair alone (the latency without load) and the bare HTTP server with a handler that
// answers at once (what the relay's HTTP front costs on top of the server).
// The relay runs in this process on its own event-loop threads (one per listener); the
// clients are coroutines on one thread.
//
//   vigil_relay_bench [--pairs 64] [--messages 1000] [--relay-threads 1]
#include <algorithm>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read_until.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "probe/experiments/delivery/relay_protocol.h"
#include "probe/http/http_parser.h"
#include "vantage/http/server.h"
#include "vantage/relay/relay_server.h"

namespace {

using asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

struct Args {
  int pairs = 64;
  int messages = 1000;  // per pair
  size_t relay_threads = 1;
};

struct Run {
  double per_second = 0, p50_ms = 0, p99_ms = 0;
  size_t count = 0;
  int failures = 0;
};

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

// A kept HTTP/1.1 connection to 127.0.0.1:port: one request, one response at a time.
class HttpConnection {
 public:
  explicit HttpConnection(asio::io_context& io) : socket_(io) {}

  asio::awaitable<bool> Connect(uint16_t port) {
    std::error_code ec;
    co_await socket_.async_connect({asio::ip::make_address("127.0.0.1"), port},
                                   asio::redirect_error(asio::use_awaitable, ec));
    socket_.set_option(tcp::no_delay(true), ec);
    co_return !ec;
  }

  // The status (0 on failure) and body of one exchange.
  asio::awaitable<std::pair<int, std::string>> Exchange(const std::string& method,
                                                        const std::string& target,
                                                        const std::string& token,
                                                        const std::string& body) {
    std::vector<std::pair<std::string, std::string>> headers = {{"Host", "127.0.0.1"}};
    if (!token.empty()) headers.emplace_back("Authorization", "Bearer " + token);
    if (body.empty() && method == "POST") headers.emplace_back("Content-Length", "0");
    const std::string request = vigil::SerializeRequest(method, target, headers, body);
    std::error_code ec;
    co_await asio::async_write(socket_, asio::buffer(request),
                               asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return std::pair(0, std::string());
    vigil::HttpResponseParser parser;
    char chunk[16384];
    while (parser.state() == vigil::HttpResponseParser::State::kNeedMore) {
      const size_t n = co_await socket_.async_read_some(
          asio::buffer(chunk), asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return std::pair(0, std::string());
      parser.Feed(std::string_view(chunk, n));
    }
    if (parser.state() != vigil::HttpResponseParser::State::kDone) {
      co_return std::pair(0, std::string());
    }
    co_return std::pair(parser.status_code(), parser.body());
  }

 private:
  tcp::socket socket_;
};

// A kept line-protocol connection.
class LineConnection {
 public:
  explicit LineConnection(asio::io_context& io) : socket_(io) {}

  asio::awaitable<bool> Connect(uint16_t port) {
    std::error_code ec;
    co_await socket_.async_connect({asio::ip::make_address("127.0.0.1"), port},
                                   asio::redirect_error(asio::use_awaitable, ec));
    socket_.set_option(tcp::no_delay(true), ec);
    co_return !ec;
  }

  asio::awaitable<std::string> Exchange(const std::string& line) {
    std::error_code ec;
    co_await asio::async_write(socket_, asio::buffer(line),
                               asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return "";
    const size_t n = co_await asio::async_read_until(socket_, asio::dynamic_buffer(buffer_), '\n',
                                                     asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return "";
    std::string answer = buffer_.substr(0, n - 1);
    buffer_.erase(0, n);
    co_return answer;
  }

 private:
  tcp::socket socket_;
  std::string buffer_;
};

struct Totals {
  std::vector<double> latencies_ms;
  int failures = 0;
};

// Long-polls `session`'s messages on `connection` until `messages` have arrived.
asio::awaitable<void> Receive(std::unique_ptr<HttpConnection> connection, std::string path,
                              std::string token, int messages, Totals& totals) {
  uint64_t after = 0;
  for (int got = 0; got < messages;) {
    auto [status, body] = co_await connection->Exchange(
        "GET", path + "?after=" + std::to_string(after) + "&wait=5", token, "");
    const int64_t now = NowNs();
    if (status != 200) {
      totals.failures += messages - got;
      co_return;
    }
    const json page = json::parse(body, nullptr, false);
    for (const json& m : page["messages"]) {
      totals.latencies_ms.push_back((now - std::stoll(m["body"].get<std::string>())) / 1e6);
      ++got;
    }
    after = page["next"];
  }
}

// One pair: a session made on what becomes the receiver's connection, then `messages`
// sent on a connection of the sender's own.
asio::awaitable<void> Pair(asio::io_context& io, uint16_t http_port, uint16_t tcp_port,
                           bool send_over_tcp, int messages, Totals& totals) {
  auto control = std::make_unique<HttpConnection>(io);
  json session;
  if (co_await control->Connect(http_port)) {
    auto [status, body] =
        co_await control->Exchange("POST", std::string(vigil::relay::kSessionsPath), "", "");
    if (status == 201) session = json::parse(body, nullptr, false);
  }
  if (!session.is_object()) {
    totals.failures += messages;
    co_return;
  }
  const std::string id = session["session"], send_token = session["send_token"];
  const std::string path = std::string(vigil::relay::kSessionsPath) + "/" + id + "/messages";
  asio::co_spawn(io, Receive(std::move(control), path, session["receive_token"], messages, totals),
                 asio::detached);

  LineConnection line(io);
  HttpConnection http(io);
  const bool connected =
      send_over_tcp ? co_await line.Connect(tcp_port) : co_await http.Connect(http_port);
  if (!connected) totals.failures += messages;
  for (int i = 0; i < messages && connected; ++i) {
    const std::string text = std::to_string(NowNs()) + " a message of about sixty bytes, 终";
    const bool ok =
        send_over_tcp
            ? (co_await line.Exchange("SEND " + id + " " + send_token + " " + text + "\n"))
                  .starts_with("OK ")
            : (co_await http.Exchange("POST", path, send_token, text)).first == 201;
    if (!ok) ++totals.failures;
  }
}

Run Summarise(Totals& totals, double seconds) {
  Run run;
  std::sort(totals.latencies_ms.begin(), totals.latencies_ms.end());
  run.count = totals.latencies_ms.size();
  run.per_second = static_cast<double>(run.count) / seconds;
  if (run.count > 0) {
    run.p50_ms = totals.latencies_ms[run.count / 2];
    run.p99_ms = totals.latencies_ms[std::min(run.count - 1, run.count * 99 / 100)];
  }
  run.failures = totals.failures;
  return run;
}

Run RelayLoad(const Args& args, int pairs, bool send_over_tcp) {
  vigil::relay::RelayConfig config;
  config.http = vigil::relay::RelayListen{};
  config.tcp = vigil::relay::RelayListen{};
  config.threads = args.relay_threads;
  config.log_requests = false;
  config.limits.max_messages = static_cast<size_t>(args.messages) + 1;
  vigil::relay::RelayServer server(config);
  auto info = server.Bind();
  if (!info.ok()) {
    std::fprintf(stderr, "%s\n", info.error().c_str());
    std::exit(2);
  }
  std::thread serving([&server] { server.Serve(); });
  asio::io_context io(1);
  Totals totals;
  for (int p = 0; p < pairs; ++p) {
    asio::co_spawn(
        io, Pair(io, *info->http_port, *info->tcp_port, send_over_tcp, args.messages, totals),
        asio::detached);
  }
  const auto start = Clock::now();
  io.run();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  server.Stop();
  serving.join();
  return Summarise(totals, seconds);
}

// The HTTP server alone: every request answered at once, `clients` kept connections
// each sending its next request when the last is answered.
Run BareHttp(const Args& args, int clients) {
  vigil::HttpServerConfig config;
  config.threads = args.relay_threads;
  config.log_requests = false;
  config.keep_alive_max_requests = 1000000;
  vigil::HttpServer server(
      config, [](const vigil::RequestHead&, std::string_view) { return std::nullopt; },
      [](const vigil::ServerRequest&) -> asio::awaitable<vigil::HttpReply> {
        co_return vigil::HttpReply{201, R"({"seq":1})"};
      });
  auto port = server.Bind();
  if (!port.ok()) {
    std::fprintf(stderr, "%s\n", port.error().c_str());
    std::exit(2);
  }
  std::thread serving([&server] { server.Serve(); });
  asio::io_context io(1);
  Totals totals;
  for (int c = 0; c < clients; ++c) {
    asio::co_spawn(
        io,
        [&io, &totals, &args, port = *port]() -> asio::awaitable<void> {
          HttpConnection connection(io);
          if (!co_await connection.Connect(port)) {
            totals.failures += args.messages;
            co_return;
          }
          for (int i = 0; i < args.messages; ++i) {
            const int64_t t0 = NowNs();
            auto [status, body] =
                co_await connection.Exchange("POST", "/x", "", "a message of about sixty bytes");
            if (status != 201) ++totals.failures;
            totals.latencies_ms.push_back((NowNs() - t0) / 1e6);
          }
        },
        asio::detached);
  }
  const auto start = Clock::now();
  io.run();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  server.Stop();
  serving.join();
  return Summarise(totals, seconds);
}

void Print(const char* what, const Run& run) {
  std::printf("%-48s %10.0f %9.2f %9.2f %9zu %9d\n", what, run.per_second, run.p50_ms, run.p99_ms,
              run.count, run.failures);
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--pairs") {
      args.pairs = std::atoi(argv[i + 1]);
    } else if (flag == "--messages") {
      args.messages = std::atoi(argv[i + 1]);
    } else if (flag == "--relay-threads") {
      args.relay_threads = static_cast<size_t>(std::atoi(argv[i + 1]));
    } else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  std::printf("relay: %d pairs, %d messages each, %zu event-loop thread(s) per listener\n",
              args.pairs, args.messages, args.relay_threads);
  const Run tcp = RelayLoad(args, args.pairs, true);
  const Run http = RelayLoad(args, args.pairs, false);
  const Run alone = RelayLoad(args, 1, true);
  const Run bare = BareHttp(args, args.pairs);
  std::printf("%-48s %10s %9s %9s %9s %9s\n", "", "msgs/s", "p50 ms", "p99 ms", "messages",
              "failures");
  char line[96];
  std::snprintf(line, sizeof line, "relay, %d pairs, sent over TCP", args.pairs);
  Print(line, tcp);
  std::snprintf(line, sizeof line, "relay, %d pairs, sent over HTTP", args.pairs);
  Print(line, http);
  Print("relay, 1 pair, sent over TCP", alone);
  std::snprintf(line, sizeof line, "bare HTTP server, %d clients (round trip)", args.pairs);
  Print(line, bare);
  return tcp.failures == 0 && http.failures == 0 && alone.failures == 0 && bare.failures == 0 ? 0
                                                                                              : 1;
}
