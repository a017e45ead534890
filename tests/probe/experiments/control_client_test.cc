// ControlClient on loopback: against our real helper, measurements share connections
// (one opened for several requests, answers unchanged); against scripted HTTP servers,
// what a kept connection must survive: the server closing it while idle, closing it
// as the next request arrives, asking to close, never answering, answering too much.
#include "probe/experiments/web_connectivity/control_client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "probe/experiments/web_connectivity/control_protocol.h"
#include "probe/experiments/web_connectivity/web_connectivity.h"
#include "probe/net/failure.h"
#include "tests/support/nginx_server.h"
#include "tests/support/run_coroutine.h"
#include "tests/support/running_helper.h"

namespace vigil {
namespace {

using namespace std::chrono_literals;

// What a scripted server does with a request: send `bytes`, then maybe close.
struct Reply {
  std::string bytes;
  bool close_after = false;
};

// One thread per connection; the script says what to do with the n-th request (from
// 0) read on a connection: a reply, or std::nullopt to close without answering.
class ScriptedHttpServer {
 public:
  using Script = std::function<std::optional<Reply>(int request_on_connection)>;

  explicit ScriptedHttpServer(Script script) : script_(std::move(script)) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(fd_, 16) != 0) {
      ADD_FAILURE() << "cannot listen on loopback";
      return;
    }
    socklen_t len = sizeof addr;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { AcceptLoop(); });
  }

  ~ScriptedHttpServer() {
    stop_ = true;
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    if (acceptor_.joinable()) acceptor_.join();
    std::lock_guard lock(mutex_);
    for (auto& t : workers_) t.join();
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/"; }
  int connections() const { return connections_.load(); }

 private:
  void AcceptLoop() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      const int c = accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      ++connections_;
      std::lock_guard lock(mutex_);
      workers_.emplace_back([this, c] { Serve(c); });
    }
  }

  // Reads requests (head and a Content-Length body) and follows the script.
  void Serve(int fd) {
    std::string in;
    char buffer[4096];
    for (int n = 0; !stop_; ++n) {
      size_t end;
      for (;;) {
        end = in.find("\r\n\r\n");
        if (end != std::string::npos) {
          const size_t at = in.find("Content-Length: ");
          const size_t length = at == std::string::npos ? 0 : std::stoul(in.substr(at + 16));
          if (in.size() >= end + 4 + length) {
            in.erase(0, end + 4 + length);
            break;
          }
        }
        pollfd p{fd, POLLIN, 0};
        if (poll(&p, 1, 100) <= 0) {
          if (stop_) return close(fd), void();
          continue;
        }
        const ssize_t got = read(fd, buffer, sizeof buffer);
        if (got <= 0) return close(fd), void();
        in.append(buffer, static_cast<size_t>(got));
      }
      auto reply = script_(n);
      if (!reply) return close(fd), void();
      if (write(fd, reply->bytes.data(), reply->bytes.size()) < 0 || reply->close_after) {
        return close(fd), void();
      }
    }
    close(fd);
  }

  Script script_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::thread acceptor_;
  std::mutex mutex_;
  std::vector<std::thread> workers_;
};

Reply Answer(std::string_view body, std::string_view extra_headers = "", bool close_after = false) {
  return {"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" + std::string(extra_headers) +
              "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + std::string(body),
          close_after};
}

struct Posts {
  std::vector<ControlExchange> exchanges;
  size_t opened = 0;
  size_t kept = 0;
};

// Posts `count` requests one after another through one client, pausing `pause`
// between them.
Posts PostInTurn(const std::string& url, int count, std::chrono::milliseconds pause = 0ms,
                 std::chrono::milliseconds timeout = 2000ms, size_t body_cap = 1 << 20) {
  return test_support::RunCoroutine<Posts>([&](asio::io_context& io) -> asio::awaitable<Posts> {
    ControlClientOptions options;
    options.helper_url = url;
    options.timeout = timeout;
    options.body_cap = body_cap;
    auto client = ControlClient::Create(io.get_executor(), options);
    EXPECT_TRUE(client.ok()) << client.error();
    Posts out;
    if (!client.ok()) co_return out;
    for (int i = 0; i < count; ++i) {
      if (i > 0 && pause > 0ms) {
        asio::steady_timer timer(io, pause);
        co_await timer.async_wait(asio::use_awaitable);
      }
      out.exchanges.push_back(co_await (*client)->Post(R"({"n": )" + std::to_string(i) + "}"));
    }
    out.opened = (*client)->connections_opened();
    out.kept = (*client)->requests_on_kept_connections();
    co_return out;
  });
}

TEST(ControlClientTest, MeasurementsShareConnectionsToOurHelper) {
  test_support::NginxServer site;
  ASSERT_TRUE(site.ok()) << site.error();
  HelperConfig config;
  config.measurement.timeout = 2000ms;
  config.measurement.allow_bogons = true;
  test_support::RunningHelper helper(config);
  ASSERT_NE(helper.port(), 0);
  const std::string target = "http://127.0.0.1:" + std::to_string(site.http_port()) + "/";

  // Five control requests through web_connectivity's client, as a run makes them.
  auto run = test_support::RunCoroutine<Posts>([&](asio::io_context& io) -> asio::awaitable<Posts> {
    ExperimentContext context;
    context.helper_url = helper.url();
    context.timeout = 2000ms;
    auto client = MakeControlClient(context, io.get_executor(), 4);
    EXPECT_TRUE(client.ok()) << client.error();
    Posts out;
    if (!client.ok()) co_return out;
    for (int i = 0; i < 5; ++i) {
      const ControlRequest request = MakeControlRequest(target, {"127.0.0.1"}, site.http_port());
      out.exchanges.push_back(co_await (*client)->Post(ToJson(request).dump()));
    }
    out.opened = (*client)->connections_opened();
    out.kept = (*client)->requests_on_kept_connections();
    co_return out;
  });
  ASSERT_EQ(run.exchanges.size(), 5u);
  for (const auto& e : run.exchanges) {
    ASSERT_EQ(e.failure, "");
    ASSERT_EQ(e.status_code, 200) << e.body;
    auto json = ParseControlJson(e.body);
    ASSERT_TRUE(json.ok()) << json.error();
    auto answer = ControlResponseFromJson(*json);
    ASSERT_TRUE(answer.ok()) << answer.error();
    EXPECT_EQ(answer->http_request.status_code, 200);
    EXPECT_EQ(answer->http_request.failure, std::nullopt);
  }
  EXPECT_EQ(run.opened, 1u);
  EXPECT_EQ(run.kept, 4u);
}

TEST(ControlClientTest, AConnectionTheServerClosedWhileIdleIsNotUsed) {
  // Each connection answers once, then the server closes it (with no word about it).
  ScriptedHttpServer server(
      [](int) -> std::optional<Reply> { return Answer(R"({"ok": true})", "", true); });
  // The pause lets the close arrive before the next request is due.
  const Posts p = PostInTurn(server.url(), 3, 100ms);
  ASSERT_EQ(p.exchanges.size(), 3u);
  for (const auto& e : p.exchanges) {
    EXPECT_EQ(e.failure, "");
    EXPECT_EQ(e.body, R"({"ok": true})");
  }
  EXPECT_EQ(p.opened, 3u);
  EXPECT_EQ(p.kept, 0u);  // each closed connection was seen before it was written to
}

TEST(ControlClientTest, ARequestTheServerDroppedOnAKeptConnectionIsSentOnceMoreOnANewOne) {
  // The server reads the second request on a connection and closes without answering,
  // as a server does whose idle timeout fires as the request arrives.
  ScriptedHttpServer server([](int n) -> std::optional<Reply> {
    if (n == 0) return Answer(R"({"first": true})");
    return std::nullopt;
  });
  const Posts p = PostInTurn(server.url(), 2);
  ASSERT_EQ(p.exchanges.size(), 2u);
  EXPECT_EQ(p.exchanges[0].failure, "");
  EXPECT_EQ(p.exchanges[1].failure, "");
  EXPECT_EQ(p.exchanges[1].body, R"({"first": true})");
  EXPECT_EQ(p.opened, 2u);
  EXPECT_EQ(p.kept, 1u);
  EXPECT_EQ(server.connections(), 2);
}

TEST(ControlClientTest, ConnectionCloseAndCloseDelimitedAnswersAreNotKept) {
  ScriptedHttpServer asks_to_close(
      [](int) -> std::optional<Reply> { return Answer("{}", "Connection: close\r\n"); });
  Posts p = PostInTurn(asks_to_close.url(), 3);
  for (const auto& e : p.exchanges) EXPECT_EQ(e.failure, "");
  EXPECT_EQ(p.opened, 3u);
  EXPECT_EQ(p.kept, 0u);

  // No length: the answer ends with the connection.
  ScriptedHttpServer until_close([](int) -> std::optional<Reply> {
    return Reply{"HTTP/1.1 200 OK\r\n\r\n{}", true};
  });
  p = PostInTurn(until_close.url(), 2);
  ASSERT_EQ(p.exchanges.size(), 2u);
  for (const auto& e : p.exchanges) {
    EXPECT_EQ(e.failure, "");
    EXPECT_EQ(e.body, "{}");
  }
  EXPECT_EQ(p.opened, 2u);
  EXPECT_EQ(p.kept, 0u);
}

TEST(ControlClientTest, ASilentHelperIsATimeoutAndIsNotAskedTwice) {
  ScriptedHttpServer silent([](int) -> std::optional<Reply> {
    std::this_thread::sleep_for(600ms);
    return Answer("{}");
  });
  const Posts p = PostInTurn(silent.url(), 1, 0ms, 200ms);
  ASSERT_EQ(p.exchanges.size(), 1u);
  EXPECT_EQ(p.exchanges[0].failure, std::string(kGenericTimeoutError));
  EXPECT_EQ(p.opened, 1u);
  EXPECT_EQ(silent.connections(), 1);
}

TEST(ControlClientTest, AnAnswerOverTheCapIsCutAndItsConnectionDropped) {
  ScriptedHttpServer big([](int) -> std::optional<Reply> { return Answer(std::string(100, 'x')); });
  const Posts p = PostInTurn(big.url(), 2, 0ms, 2000ms, 10);
  ASSERT_EQ(p.exchanges.size(), 2u);
  for (const auto& e : p.exchanges) {
    EXPECT_EQ(e.failure, "");
    EXPECT_TRUE(e.body_is_truncated);
    EXPECT_EQ(e.body, std::string(10, 'x'));
  }
  EXPECT_EQ(p.opened, 2u);  // the rest of the first answer was never read: not reusable
}

TEST(ControlClientTest, AnUnusableHelperUrlIsRefusedAtOnce) {
  asio::io_context io;
  ControlClientOptions options;
  options.helper_url = "ftp://helper.example/";
  auto client = ControlClient::Create(io.get_executor(), options);
  ASSERT_FALSE(client.ok());
  EXPECT_NE(client.error().find("bad control helper URL"), std::string::npos) << client.error();
}

}  // namespace
}  // namespace vigil
