// The delivery experiment's relay transports against our own relay on loopback: each of
// relay-tcp, relay-http and relay-https carries UTF-8 text intact from its sending end to
// its receiving end and logs its connections with the server's address; a relay that
// goes away mid-test gives failures (connection_refused, generic_timeout_error), not a
// crash or a hang; a line-protocol server that resets the connection after a given
// line gives that message connection_reset with on_send, and the next message goes out
// on a new connection.
#include "probe/experiments/delivery/relay_transport.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "probe/experiments/delivery/delivery_options.h"
#include "probe/experiments/delivery/transport.h"
#include "probe/experiments/experiment.h"
#include "tests/support/misbehaving_listeners.h"
#include "tests/support/run_coroutine.h"
#include "tests/support/running_relay.h"
#include "tests/support/test_pki.h"
#include "vantage/http/server.h"
#include "vantage/relay/relay_http_api.h"
#include "vantage/relay/session_store.h"

namespace vigil {
namespace {

using namespace std::chrono_literals;
using test_support::RunCoroutine;
using test_support::RunningRelay;
using test_support::TestPki;

const std::vector<std::string> kMessages = {
    "hello relay",
    "法轮功 Falun Gong",
    "六四天安門事件 ✓ — «quoted» 🙂",
    "  leading and trailing spaces  ",
    std::string(3000, 'x') + " 终",
};

ExperimentContext ContextOn(asio::io_context& io, std::chrono::milliseconds timeout = 5s) {
  ExperimentContext context;
  context.executor = io.get_executor();
  context.timeout = timeout;
  if (!TestPki::Unavailable()) context.ca_file = TestPki::Get().ca_file();
  return context;
}

std::unique_ptr<DeliveryTransport> Make(const ExperimentContext& context,
                                        const std::string& transport, const std::string& url) {
  DeliveryOptions options;
  options.transport = transport;
  options.relay_url = url;
  auto made = MakeRelayTransport(context, options, DeliveryClock::now());
  EXPECT_TRUE(made.ok()) << made.error();
  return made.ok() ? std::move(*made) : nullptr;
}

relay::RelayConfig EveryListener() {
  relay::RelayConfig config;
  config.http = relay::RelayListen{};
  config.tcp = relay::RelayListen{};
  if (!TestPki::Unavailable()) {
    config.https = relay::RelayListen{};
    config.cert_file = TestPki::Get().valid().cert;
    config.key_file = TestPki::Get().valid().key;
  }
  return config;
}

// Where each transport makes sessions (relay_url) and which port it sends to.
struct Endpoints {
  std::string url;
  uint16_t send_port = 0;
};

Endpoints EndpointsFor(const RunningRelay& relay, const std::string& transport) {
  if (transport == "relay-tcp") return {relay.http_url(), *relay.info().tcp_port};
  if (transport == "relay-http") return {relay.http_url(), *relay.info().http_port};
  return {relay.https_url(), *relay.info().https_port};
}

class RelayTransportTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "relay-https") {
      if (auto why = TestPki::Unavailable()) GTEST_SKIP() << *why;
      ASSERT_TRUE(TestPki::Get().ok()) << TestPki::Get().error();
    }
  }
};

TEST_P(RelayTransportTest, DeliversUtf8TextIntactAndLogsTheServersAddresses) {
  RunningRelay relay(EveryListener());
  ASSERT_TRUE(relay.ok());
  const Endpoints setup = EndpointsFor(relay, GetParam());
  struct Result {
    std::optional<std::string> opened;
    std::vector<SendOutcome> sent;
    std::vector<std::string> received;
    std::optional<std::string> receive_failure;
    ReceiveOutcome idle;
    double idle_seconds = 0;
    Json events;
  };
  auto result = RunCoroutine<Result>([&](asio::io_context& io) -> asio::awaitable<Result> {
    const ExperimentContext context = ContextOn(io);
    auto transport = Make(context, GetParam(), setup.url);
    Result r;
    if (!transport) co_return r;
    EXPECT_EQ(transport->name(), GetParam());
    r.opened = co_await transport->Open();
    if (r.opened) co_return r;
    for (const std::string& text : kMessages) r.sent.push_back(co_await transport->Send(text));
    for (int i = 0; i < 10 && r.received.size() < kMessages.size(); ++i) {
      ReceiveOutcome got = co_await transport->Receive(3s);
      if (got.failure) r.receive_failure = got.failure;
      for (auto& m : got.messages) r.received.push_back(m.body);
    }
    // Nothing more arrives: an empty answer once the wait is over, and no failure.
    const auto t0 = std::chrono::steady_clock::now();
    r.idle = co_await transport->Receive(700ms);
    r.idle_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    co_await transport->Close();
    r.events = transport->Events();
    co_return r;
  });
  ASSERT_FALSE(result.opened) << *result.opened;
  ASSERT_EQ(result.sent.size(), kMessages.size());
  for (const SendOutcome& s : result.sent) {
    EXPECT_FALSE(s.failure) << *s.failure;
    EXPECT_FALSE(s.on_send);
    EXPECT_LE(s.t0, s.t);
  }
  EXPECT_FALSE(result.receive_failure) << *result.receive_failure;
  EXPECT_EQ(result.received, kMessages);
  EXPECT_TRUE(result.idle.messages.empty());
  EXPECT_FALSE(result.idle.failure);
  EXPECT_GE(result.idle_seconds, 0.6);
  EXPECT_LT(result.idle_seconds, 3.0);

  // One sending connection for every message, one receiving connection for everything
  // else; every address the server's (its listening ports, not ours).
  const std::string url_address = "127.0.0.1:" + setup.url.substr(setup.url.rfind(':') + 1);
  const std::string send_address = "127.0.0.1:" + std::to_string(setup.send_port);
  int send_connects = 0, receive_connects = 0, sends = 0, handshakes = 0;
  bool logged_in = false;
  for (const Json& e : result.events) {
    ASSERT_TRUE(e.contains("t") && e.contains("end") && e.contains("operation") &&
                e.contains("address") && e.contains("failure"))
        << e.dump();
    EXPECT_TRUE(e["failure"].is_null()) << e.dump();
    const std::string address = e["address"].is_string() ? e["address"].get<std::string>() : "";
    if (e["end"] == "send") {
      EXPECT_EQ(address, send_address) << e.dump();
    } else {
      EXPECT_EQ(e["end"], "receive");
      EXPECT_EQ(address, url_address) << e.dump();
    }
    if (e["operation"] == "connect") ++(e["end"] == "send" ? send_connects : receive_connects);
    if (e["operation"] == "send") ++sends;
    if (e["operation"] == "tls_handshake") ++handshakes;
    if (e["operation"] == "login") logged_in = true;
  }
  EXPECT_EQ(send_connects, 1) << result.events.dump();
  EXPECT_EQ(receive_connects, 1) << result.events.dump();
  EXPECT_EQ(sends, static_cast<int>(kMessages.size()));
  EXPECT_TRUE(logged_in);
  EXPECT_EQ(handshakes, GetParam() == "relay-https" ? 2 : 0);
}

TEST_P(RelayTransportTest, ARelayThatGoesAwayGivesFailuresNotACrashOrAHang) {
  auto relay = std::make_unique<RunningRelay>(EveryListener());
  ASSERT_TRUE(relay->ok());
  const Endpoints setup = EndpointsFor(*relay, GetParam());
  struct Result {
    std::optional<std::string> opened;
    SendOutcome before, after;
    ReceiveOutcome received;
  };
  const auto t0 = std::chrono::steady_clock::now();
  auto result = RunCoroutine<Result>([&](asio::io_context& io) -> asio::awaitable<Result> {
    const ExperimentContext context = ContextOn(io, 2s);
    auto transport = Make(context, GetParam(), setup.url);
    Result r;
    if (!transport) co_return r;
    r.opened = co_await transport->Open();
    if (r.opened) co_return r;
    r.before = co_await transport->Send("before");
    relay->Stop();  // every listener and connection closed
    r.after = co_await transport->Send("after");
    r.received = co_await transport->Receive(1s);
    co_await transport->Close();
    co_return r;
  });
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 20s);
  ASSERT_FALSE(result.opened) << *result.opened;
  EXPECT_FALSE(result.before.failure);
  ASSERT_TRUE(result.after.failure);
  EXPECT_EQ(*result.after.failure, "connection_refused");
  EXPECT_FALSE(result.after.on_send);  // it never reached a working connection
  ASSERT_TRUE(result.received.failure);
  EXPECT_EQ(*result.received.failure, "connection_refused");
}

INSTANTIATE_TEST_SUITE_P(EachListener, RelayTransportTest,
                         ::testing::Values("relay-tcp", "relay-http", "relay-https"),
                         [](const auto& param) {
                           std::string name = param.param;
                           name.erase(name.find('-'), 1);
                           return name;
                         });

TEST(RelayTransport, ARelayThatNeverAnswersTimesOutWithinTheContextsTimeout) {
  test_support::MisbehavingListeners listeners;
  ASSERT_TRUE(listeners.ok()) << listeners.error();
  const auto t0 = std::chrono::steady_clock::now();
  auto opened = RunCoroutine<std::optional<std::string>>(
      [&](asio::io_context& io) -> asio::awaitable<std::optional<std::string>> {
        const ExperimentContext context = ContextOn(io, 500ms);
        auto transport = Make(context, "relay-tcp",
                              "http://127.0.0.1:" + std::to_string(listeners.silent_port()));
        if (!transport) co_return "not made";
        auto failure = co_await transport->Open();
        // Nothing is sent without a session, and that is said, not hung on.
        SendOutcome sent = co_await transport->Send("x");
        EXPECT_TRUE(sent.failure);
        co_return failure;
      });
  ASSERT_TRUE(opened);
  EXPECT_EQ(*opened, "generic_timeout_error");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
}

// A line-protocol server that answers "OK n" to each line and resets the connection
// (RST, not FIN) when a line holds `trigger`, as a censor provoked by content would.
class ResettingLineServer {
 public:
  explicit ResettingLineServer(std::string trigger) : trigger_(std::move(trigger)) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    socklen_t len = sizeof addr;
    if (bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 || listen(fd_, 16) != 0 ||
        getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ADD_FAILURE() << "resetting server: cannot listen";
      return;
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Run(); });
  }
  ~ResettingLineServer() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    close(fd_);
  }
  uint16_t port() const { return port_; }
  int connections() const { return connections_; }

 private:
  // Waits for `fd` to be readable for up to 50 ms at a time, until stopped.
  bool Readable(int fd) {
    while (!stop_) {
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, 50) > 0) return true;
    }
    return false;
  }

  void Run() {
    while (Readable(fd_)) {
      const int c = accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      ++connections_;
      std::string buffer;
      int n = 0;
      for (bool open = true; open && Readable(c);) {
        char chunk[4096];
        const ssize_t got = recv(c, chunk, sizeof chunk, 0);
        if (got <= 0) break;
        buffer.append(chunk, static_cast<size_t>(got));
        for (size_t nl; open && (nl = buffer.find('\n')) != std::string::npos;) {
          const std::string line = buffer.substr(0, nl);
          buffer.erase(0, nl + 1);
          if (line.find(trigger_) != std::string::npos) {
            linger hard{1, 0};  // close with RST
            setsockopt(c, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
            open = false;
          } else {
            const std::string answer = "OK " + std::to_string(++n) + "\n";
            send(c, answer.data(), answer.size(), MSG_NOSIGNAL);
          }
        }
      }
      close(c);
    }
  }

  std::string trigger_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::thread thread_;
};

TEST(RelayTransport, AResetProvokedByAMessageFailsThatMessageOnSendAndTheNextReconnects) {
  ResettingLineServer line_server("FORBIDDEN");
  ASSERT_NE(line_server.port(), 0);
  // Sessions come from a real relay front whose info points its TCP listener at the
  // resetting server.
  relay::SessionStore store(relay::RelayLimits{});
  relay::RelayHttpApi api(store);
  HttpServerConfig config;
  config.log_requests = false;
  config.threads = 1;
  HttpServer front(
      config,
      [&api](const RequestHead& head, std::string_view path) { return api.Admit(head, path); },
      [&api](const ServerRequest& request) { return api.Handle(request); });
  auto port = front.Bind();
  ASSERT_TRUE(port.ok()) << port.error();
  api.SetInfo(relay::RelayInfo{line_server.port(), *port, std::nullopt});
  std::thread serving([&front] { front.Serve(); });

  struct Result {
    std::optional<std::string> opened;
    SendOutcome plain, provoking, next;
    Json events;
  };
  auto result = RunCoroutine<Result>([&](asio::io_context& io) -> asio::awaitable<Result> {
    const ExperimentContext context = ContextOn(io, 3s);
    auto transport = Make(context, "relay-tcp", "http://127.0.0.1:" + std::to_string(*port));
    Result r;
    if (!transport) co_return r;
    r.opened = co_await transport->Open();
    if (r.opened) co_return r;
    r.plain = co_await transport->Send("an ordinary message");
    r.provoking = co_await transport->Send("a FORBIDDEN word");
    r.next = co_await transport->Send("after the reset");
    r.events = transport->Events();
    co_return r;
  });
  front.Stop();
  serving.join();
  ASSERT_FALSE(result.opened) << *result.opened;
  EXPECT_FALSE(result.plain.failure);
  ASSERT_TRUE(result.provoking.failure);
  EXPECT_EQ(*result.provoking.failure, "connection_reset");
  EXPECT_TRUE(result.provoking.on_send);
  EXPECT_FALSE(result.next.failure) << *result.next.failure;
  EXPECT_FALSE(result.next.on_send);
  EXPECT_EQ(line_server.connections(), 2);
  int send_connects = 0;
  for (const Json& e : result.events) {
    if (e["end"] == "send" && e["operation"] == "connect") ++send_connects;
  }
  EXPECT_EQ(send_connects, 2) << result.events.dump();
}

TEST(RelayTransport, MakingOneSaysWhatIsMissingOrWrong) {
  asio::io_context io;
  const ExperimentContext context = ContextOn(io);
  DeliveryOptions options;
  options.transport = "relay-tcp";
  auto made = MakeRelayTransport(context, options, DeliveryClock::now());
  ASSERT_FALSE(made.ok());
  EXPECT_NE(made.error().find("relay_url"), std::string::npos) << made.error();
  options.relay_url = "ftp://relay.example:21";
  made = MakeRelayTransport(context, options, DeliveryClock::now());
  ASSERT_FALSE(made.ok());
  EXPECT_NE(made.error().find("relay_url"), std::string::npos) << made.error();
  options.transport = "relay-carrier-pigeon";
  options.relay_url = "http://127.0.0.1:1";
  EXPECT_FALSE(MakeRelayTransport(context, options, DeliveryClock::now()).ok());
  EXPECT_EQ(RelayListenerFromName("relay-https"), RelayListener::kHttps);
  EXPECT_FALSE(RelayListenerFromName("xmpp"));
}

}  // namespace
}  // namespace vigil
