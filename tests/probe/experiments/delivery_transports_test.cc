// The delivery experiment's XMPP and MQTT transports against real servers on loopback
// (prosody, mosquitto) and against listeners that fail the ways a censor makes
// connections fail: messages arrive intact and in order, a wrong login or certificate
// fails Open with the failure a user would read, a server killed mid-session gives
// failures within the timeout, and Events() names every connection by the server's
// address.
#include <gtest/gtest.h>

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <chrono>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "probe/experiments/delivery/delivery_options.h"
#include "probe/experiments/delivery/mqtt_transport.h"
#include "probe/experiments/delivery/transport.h"
#include "probe/experiments/delivery/xmpp_transport.h"
#include "probe/experiments/experiment.h"
#include "tests/support/misbehaving_listeners.h"
#include "tests/support/mosquitto_server.h"
#include "tests/support/prosody_server.h"
#include "tests/support/resetting_proxy.h"
#include "tests/support/run_coroutine.h"
#include "tests/support/test_pki.h"
#include "tests/support/unbound_server.h"

namespace vigil {
namespace {

using test_support::MisbehavingListeners;
using test_support::MosquittoServer;
using test_support::ProsodyOptions;
using test_support::ProsodyServer;
using test_support::ResettingProxy;
using test_support::TestPki;
using test_support::UnboundServer;
using Seconds = std::chrono::duration<double>;

constexpr std::chrono::milliseconds kTimeout{3000};

// English, Chinese, both with XML's special characters, and characters beyond the BMP.
const std::vector<std::string> kMessages = {
    "vigil canary: the quick brown fox",
    "中文测试：法轮功 六四 天安门 自由",
    "mixed 中文 and English <b>&amp; 'single' \"double\"</b> ]]>",
    "emoji 🙂🚀 and a tab\tbefore the end",
};

// What one session of a transport did, for the assertions.
struct Session {
  std::optional<std::string> open_failure;
  std::vector<SendOutcome> sent;
  std::vector<std::string> received;
  std::vector<std::optional<std::string>> receive_failures;
  Json events;
  double seconds = 0;  // wall time of the whole session
};

ExperimentContext Context(asio::io_context& io, std::string ca_file) {
  ExperimentContext context;
  context.executor = io.get_executor();
  context.ca_file = std::move(ca_file);
  context.timeout = kTimeout;
  return context;
}

asio::awaitable<void> Pause(std::chrono::milliseconds duration) {
  asio::steady_timer timer(co_await asio::this_coro::executor, duration);
  co_await timer.async_wait(asio::use_awaitable);
}

using Maker = Result<std::unique_ptr<DeliveryTransport>> (*)(const ExperimentContext&,
                                                             const DeliveryOptions&,
                                                             DeliveryClock::time_point);

// Opens a transport, sends `messages` and collects what arrives until all of them came
// or a Receive brings nothing for a second; `between` runs after the first message
// (a server killed mid-session). Closes the transport at the end.
Session RunSession(Maker make, const DeliveryOptions& options, const std::string& ca_file,
                   const std::vector<std::string>& messages,
                   const std::function<void()>& between = nullptr,
                   const ResolverSpec& resolver = ResolverSpec{}) {
  const auto start = std::chrono::steady_clock::now();
  Session session =
      test_support::RunCoroutine<Session>([&](asio::io_context& io) -> asio::awaitable<Session> {
        Session result;
        ExperimentContext context = Context(io, ca_file);
        context.resolver = resolver;
        auto transport = make(context, options, DeliveryClock::now());
        if (!transport) {
          ADD_FAILURE() << transport.error();
          co_return result;
        }
        result.open_failure = co_await (*transport)->Open();
        if (!result.open_failure) {
          for (size_t i = 0; i < messages.size(); ++i) {
            result.sent.push_back(co_await (*transport)->Send(messages[i]));
            if (i == 0 && between) {
              between();
              co_await Pause(std::chrono::milliseconds(200));  // the loss reaches the client
            }
          }
          while (result.received.size() < messages.size()) {
            ReceiveOutcome outcome = co_await (*transport)->Receive(std::chrono::seconds(1));
            result.receive_failures.push_back(outcome.failure);
            for (ReceivedMessage& message : outcome.messages) {
              result.received.push_back(std::move(message.body));
            }
            if (outcome.messages.empty()) break;
          }
        }
        co_await (*transport)->Close();
        result.events = (*transport)->Events();
        co_return result;
      });
  session.seconds = Seconds(std::chrono::steady_clock::now() - start).count();
  return session;
}

// The events of one end and step, in order.
std::vector<Json> EventsOf(const Json& events, std::string_view end, std::string_view operation) {
  std::vector<Json> found;
  for (const Json& event : events) {
    if (event.at("end") == end && event.at("operation") == operation) found.push_back(event);
  }
  return found;
}

// Each end's setup steps succeeded once, at `address`.
void ExpectSetupSucceeded(const Json& events, const std::vector<std::string_view>& steps,
                          const std::string& address) {
  for (std::string_view end : {"send", "receive"}) {
    for (std::string_view step : steps) {
      std::vector<Json> found = EventsOf(events, end, step);
      ASSERT_EQ(found.size(), 1u) << end << " " << step << " in " << events.dump(1);
      EXPECT_EQ(found[0].at("address"), address);
      EXPECT_TRUE(found[0].at("failure").is_null()) << found[0].dump();
      EXPECT_GT(found[0].at("t").get<double>(), 0);
    }
  }
}

// A failure when the server is gone: its connections' end, or a refused reconnect.
bool IsLossFailure(const std::optional<std::string>& failure) {
  static const std::set<std::string> kLoss = {"eof_error", "connection_reset",
                                              "connection_refused"};
  return failure.has_value() && kLoss.count(*failure) == 1;
}

// --- XMPP ---

DeliveryOptions XmppOptions(const std::string& server) {
  DeliveryOptions options;
  options.enabled = true;
  options.transport = "xmpp";
  options.xmpp_server = server;
  options.xmpp_sender_jid = std::string(ProsodyServer::kSenderJid);
  options.xmpp_sender_password = std::string(ProsodyServer::kSenderPassword);
  options.xmpp_receiver_jid = std::string(ProsodyServer::kReceiverJid);
  options.xmpp_receiver_password = std::string(ProsodyServer::kReceiverPassword);
  return options;
}

class XmppTransportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto reason = ProsodyServer::Unavailable()) GTEST_SKIP() << *reason;
  }
};

TEST_F(XmppTransportTest, ChineseAndEnglishMessagesArriveIntactAndInOrder) {
  ProsodyServer server;
  ASSERT_TRUE(server.ok()) << server.error();
  Session session = RunSession(&MakeXmppTransport, XmppOptions(server.address()),
                               TestPki::Get().ca_file(), kMessages);
  ASSERT_FALSE(session.open_failure) << *session.open_failure << "\n" << server.Log();
  for (const SendOutcome& sent : session.sent) {
    EXPECT_FALSE(sent.failure) << *sent.failure;
    EXPECT_FALSE(sent.on_send);
    EXPECT_LE(sent.t0, sent.t);
  }
  EXPECT_EQ(session.received, kMessages);
  for (const auto& failure : session.receive_failures) EXPECT_FALSE(failure) << *failure;
  ExpectSetupSucceeded(session.events, {"connect", "tls_handshake", "login", "close"},
                       server.address());
}

TEST_F(XmppTransportTest, WrongPasswordFailsOpenAtLogin) {
  ProsodyServer server;
  ASSERT_TRUE(server.ok()) << server.error();
  DeliveryOptions options = XmppOptions(server.address());
  options.xmpp_sender_password = "not-the-password";
  Session session = RunSession(&MakeXmppTransport, options, TestPki::Get().ca_file(), kMessages);
  ASSERT_TRUE(session.open_failure);
  EXPECT_EQ(*session.open_failure, kXmppAuthFailed);
  std::vector<Json> login = EventsOf(session.events, "send", "login");
  ASSERT_EQ(login.size(), 1u) << session.events.dump(1);
  EXPECT_EQ(login[0].at("failure"), kXmppAuthFailed);
  EXPECT_EQ(login[0].at("address"), server.address());
  // The receiver's account was fine.
  std::vector<Json> receiver_login = EventsOf(session.events, "receive", "login");
  ASSERT_EQ(receiver_login.size(), 1u);
  EXPECT_TRUE(receiver_login[0].at("failure").is_null());
}

TEST_F(XmppTransportTest, CertificateFromAnotherAuthorityFailsTheHandshake) {
  ProsodyServer server;
  ASSERT_TRUE(server.ok()) << server.error();
  // The self-signed certificate as the only CA: the server's chain leads elsewhere.
  Session session = RunSession(&MakeXmppTransport, XmppOptions(server.address()),
                               TestPki::Get().self_signed().cert, kMessages);
  ASSERT_TRUE(session.open_failure);
  EXPECT_EQ(*session.open_failure, "ssl_unknown_authority");
  std::vector<Json> handshake = EventsOf(session.events, "send", "tls_handshake");
  ASSERT_EQ(handshake.size(), 1u) << session.events.dump(1);
  EXPECT_EQ(handshake[0].at("failure"), "ssl_unknown_authority");
  EXPECT_TRUE(EventsOf(session.events, "send", "login").empty());
}

TEST_F(XmppTransportTest, CertificateForAnotherNameFailsWithInvalidHostname) {
  ProsodyServer server(ProsodyOptions{TestPki::Kind::kWrongHost, true});
  ASSERT_TRUE(server.ok()) << server.error();
  Session session = RunSession(&MakeXmppTransport, XmppOptions(server.address()),
                               TestPki::Get().ca_file(), kMessages);
  ASSERT_TRUE(session.open_failure);
  EXPECT_EQ(*session.open_failure, "ssl_invalid_hostname");
}

TEST_F(XmppTransportTest, ServerWithoutStartTlsIsRefusedBeforeLogin) {
  ProsodyServer server(ProsodyOptions{TestPki::Kind::kValid, false});
  ASSERT_TRUE(server.ok()) << server.error();
  Session session = RunSession(&MakeXmppTransport, XmppOptions(server.address()),
                               TestPki::Get().ca_file(), kMessages);
  ASSERT_TRUE(session.open_failure);
  EXPECT_EQ(*session.open_failure, kXmppStartTlsUnavailable);
  EXPECT_TRUE(EventsOf(session.events, "send", "login").empty()) << session.events.dump(1);
}

TEST_F(XmppTransportTest, ServerKilledMidSessionGivesFailuresWithinTheTimeout) {
  ProsodyServer server;
  ASSERT_TRUE(server.ok()) << server.error();
  Session session = RunSession(&MakeXmppTransport, XmppOptions(server.address()),
                               TestPki::Get().ca_file(), kMessages, [&server] { server.Kill(); });
  ASSERT_FALSE(session.open_failure) << *session.open_failure;
  ASSERT_EQ(session.sent.size(), kMessages.size());
  EXPECT_FALSE(session.sent[0].failure);
  for (size_t i = 1; i < session.sent.size(); ++i) {
    EXPECT_TRUE(IsLossFailure(session.sent[i].failure))
        << i << ": " << session.sent[i].failure.value_or("(none)");
  }
  ASSERT_FALSE(session.receive_failures.empty());
  EXPECT_TRUE(IsLossFailure(session.receive_failures[0]))
      << session.receive_failures[0].value_or("(none)");
  // At most: the first message and its arrival, then per message one timeout.
  EXPECT_LT(session.seconds, 2.0 + kMessages.size() * Seconds(kTimeout).count());
  // The receiver's loss is on record, as is the refused reconnect.
  bool receive_lost = false, refused = false;
  for (const Json& event : session.events) {
    if (event.at("end") == "receive" && event.at("operation") == "receive") {
      receive_lost = IsLossFailure(event.at("failure").get<std::string>());
    }
    if (event.at("operation") == "connect" && event.at("failure") == "connection_refused") {
      refused = true;
    }
  }
  EXPECT_TRUE(receive_lost) << session.events.dump(1);
  EXPECT_TRUE(refused) << session.events.dump(1);
}

// Messages with the second one's (encrypted) bytes reset on the way, as a censor that
// recognises it would.
const std::vector<std::string> kAllButTheSecond = {kMessages[0], kMessages[2], kMessages[3]};

TEST_F(XmppTransportTest, ResetProvokedByAMessageIsChargedToItAndTheNextOneReconnects) {
  ProsodyServer server;
  ASSERT_TRUE(server.ok()) << server.error();
  ResettingProxy proxy(server.port());
  ASSERT_TRUE(proxy.ok());
  Session session =
      RunSession(&MakeXmppTransport, XmppOptions(proxy.address()), TestPki::Get().ca_file(),
                 kMessages, [&proxy] { proxy.ResetNextClientWrite(); });
  ASSERT_FALSE(session.open_failure) << *session.open_failure;
  ASSERT_EQ(session.sent.size(), kMessages.size());
  EXPECT_FALSE(session.sent[0].failure);
  EXPECT_EQ(session.sent[1].failure, "connection_reset");
  EXPECT_TRUE(session.sent[1].on_send);
  EXPECT_FALSE(session.sent[2].failure) << *session.sent[2].failure;
  EXPECT_FALSE(session.sent[2].on_send);
  EXPECT_FALSE(session.sent[3].failure);
  EXPECT_EQ(session.received, kAllButTheSecond);
  EXPECT_EQ(proxy.resets(), 1);
  std::vector<Json> lost = EventsOf(session.events, "send", "send");
  ASSERT_EQ(lost.size(), 1u) << session.events.dump(1);
  EXPECT_EQ(lost[0].at("failure"), "connection_reset");
  EXPECT_EQ(lost[0].at("address"), proxy.address());
  EXPECT_EQ(EventsOf(session.events, "send", "login").size(), 2u);  // a new connection
}

TEST_F(XmppTransportTest, ListenersThatFailGiveTheirFailureAtTheirStep) {
  MisbehavingListeners listeners;
  ASSERT_TRUE(listeners.ok()) << listeners.error();
  struct Case {
    uint16_t port;
    std::string failure, step;
  };
  const Case cases[] = {
      {listeners.refused_port(), "connection_refused", "connect"},
      {listeners.reset_port(), "connection_reset", "tls_handshake"},
      {listeners.eof_port(), "eof_error", "tls_handshake"},
      {listeners.silent_port(), "generic_timeout_error", "tls_handshake"},
      {listeners.blackhole_port(), "generic_timeout_error", "connect"},
  };
  for (const Case& c : cases) {
    const std::string address = "127.0.0.1:" + std::to_string(c.port);
    Session session =
        RunSession(&MakeXmppTransport, XmppOptions(address), TestPki::Get().ca_file(), kMessages);
    ASSERT_TRUE(session.open_failure) << c.failure;
    EXPECT_EQ(*session.open_failure, c.failure);
    std::vector<Json> step = EventsOf(session.events, "send", c.step);
    ASSERT_EQ(step.size(), 1u) << c.failure << ": " << session.events.dump(1);
    EXPECT_EQ(step[0].at("failure"), c.failure);
    EXPECT_EQ(step[0].at("address"), address);
    EXPECT_LT(session.seconds, 2 * Seconds(kTimeout).count() + 1) << c.failure;
  }
}

TEST(XmppTransportSettings, MissingAccountsAndBadJidsAreErrors) {
  asio::io_context io;
  ExperimentContext context = Context(io, "");
  DeliveryOptions options = XmppOptions("127.0.0.1:5222");
  options.xmpp_receiver_password.clear();
  auto missing = MakeXmppTransport(context, options, DeliveryClock::now());
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error(), "delivery: xmpp needs xmpp_receiver_password");
  options = XmppOptions("127.0.0.1:5222");
  options.xmpp_sender_jid = "example.test";
  auto bad = MakeXmppTransport(context, options, DeliveryClock::now());
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().find("'example.test'"), std::string::npos) << bad.error();
}

// --- MQTT ---

DeliveryOptions MqttOptions(const std::string& broker) {
  DeliveryOptions options;
  options.enabled = true;
  options.transport = "mqtt";
  options.mqtt_broker = broker;
  return options;
}

class MqttTransportTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    if (auto reason = MosquittoServer::Unavailable()) GTEST_SKIP() << *reason;
  }
  bool tls() const { return GetParam(); }
  std::string Broker(const MosquittoServer& server) const {
    return tls() ? server.tls_url() : server.url();
  }
  std::string Address(const MosquittoServer& server) const {
    return "127.0.0.1:" + std::to_string(tls() ? server.tls_port() : server.port());
  }
};

TEST_P(MqttTransportTest, ChineseAndEnglishMessagesArriveIntactAndInOrder) {
  MosquittoServer server;
  ASSERT_TRUE(server.ok()) << server.error();
  Session session = RunSession(&MakeMqttTransport, MqttOptions(Broker(server)),
                               TestPki::Get().ca_file(), kMessages);
  ASSERT_FALSE(session.open_failure) << *session.open_failure << "\n" << server.Log();
  for (const SendOutcome& sent : session.sent) {
    EXPECT_FALSE(sent.failure) << *sent.failure;
    EXPECT_FALSE(sent.on_send);
  }
  EXPECT_EQ(session.received, kMessages);
  for (const auto& failure : session.receive_failures) EXPECT_FALSE(failure) << *failure;
  std::vector<std::string_view> steps = {"connect", "login", "close"};
  if (tls()) steps.push_back("tls_handshake");
  ExpectSetupSucceeded(session.events, steps, Address(server));
  std::vector<Json> subscribe = EventsOf(session.events, "receive", "subscribe");
  ASSERT_EQ(subscribe.size(), 1u) << session.events.dump(1);
  EXPECT_TRUE(subscribe[0].at("failure").is_null());
  EXPECT_TRUE(EventsOf(session.events, "send", "subscribe").empty());
}

TEST_P(MqttTransportTest, ServerKilledMidSessionGivesFailuresWithinTheTimeout) {
  MosquittoServer server;
  ASSERT_TRUE(server.ok()) << server.error();
  Session session = RunSession(&MakeMqttTransport, MqttOptions(Broker(server)),
                               TestPki::Get().ca_file(), kMessages, [&server] { server.Kill(); });
  ASSERT_FALSE(session.open_failure) << *session.open_failure;
  ASSERT_EQ(session.sent.size(), kMessages.size());
  EXPECT_FALSE(session.sent[0].failure);
  for (size_t i = 1; i < session.sent.size(); ++i) {
    EXPECT_TRUE(IsLossFailure(session.sent[i].failure))
        << i << ": " << session.sent[i].failure.value_or("(none)");
  }
  ASSERT_FALSE(session.receive_failures.empty());
  EXPECT_TRUE(IsLossFailure(session.receive_failures[0]))
      << session.receive_failures[0].value_or("(none)");
  EXPECT_LT(session.seconds, 2.0 + kMessages.size() * Seconds(kTimeout).count());
  bool publisher_lost = false, subscriber_lost = false;
  for (const Json& event : session.events) {
    if (event.at("operation") != "send" && event.at("operation") != "receive") continue;
    if (!IsLossFailure(event.at("failure").get<std::string>())) continue;
    (event.at("end") == "send" ? publisher_lost : subscriber_lost) = true;
  }
  EXPECT_TRUE(publisher_lost) << session.events.dump(1);
  EXPECT_TRUE(subscriber_lost) << session.events.dump(1);
}

TEST_P(MqttTransportTest, ResetProvokedByAMessageIsChargedToItAndTheNextOneReconnects) {
  MosquittoServer server;
  ASSERT_TRUE(server.ok()) << server.error();
  ResettingProxy proxy(tls() ? server.tls_port() : server.port());
  ASSERT_TRUE(proxy.ok());
  // In the clear the censor sees the keyword; under TLS it resets the second message's
  // bytes, as one that recognises them would.
  const std::string broker = (tls() ? "mqtts://" : "mqtt://") + proxy.address();
  if (!tls()) proxy.ResetOnKeyword("法轮功");
  Session session = RunSession(&MakeMqttTransport, MqttOptions(broker), TestPki::Get().ca_file(),
                               kMessages, [&proxy, this] {
                                 if (tls()) proxy.ResetNextClientWrite();
                               });
  ASSERT_FALSE(session.open_failure) << *session.open_failure;
  ASSERT_EQ(session.sent.size(), kMessages.size());
  EXPECT_FALSE(session.sent[0].failure);
  EXPECT_EQ(session.sent[1].failure, "connection_reset");
  EXPECT_TRUE(session.sent[1].on_send);
  EXPECT_FALSE(session.sent[2].failure) << *session.sent[2].failure;
  EXPECT_FALSE(session.sent[3].failure);
  EXPECT_EQ(session.received, kAllButTheSecond);
  EXPECT_EQ(proxy.resets(), 1);
  std::vector<Json> lost = EventsOf(session.events, "send", "send");
  ASSERT_EQ(lost.size(), 1u) << session.events.dump(1);
  EXPECT_EQ(lost[0].at("failure"), "connection_reset");
  EXPECT_EQ(EventsOf(session.events, "send", "login").size(), 2u);  // a new connection
}

INSTANTIATE_TEST_SUITE_P(PlainAndTls, MqttTransportTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& param) {
                           return param.param ? "Tls" : "Plain";
                         });

class MqttTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto reason = MosquittoServer::Unavailable()) GTEST_SKIP() << *reason;
  }
};

TEST_F(MqttTlsTest, CertificateFromAnotherAuthorityFailsTheHandshake) {
  MosquittoServer server;
  ASSERT_TRUE(server.ok()) << server.error();
  Session session = RunSession(&MakeMqttTransport, MqttOptions(server.tls_url()),
                               TestPki::Get().self_signed().cert, kMessages);
  ASSERT_TRUE(session.open_failure);
  EXPECT_EQ(*session.open_failure, "ssl_unknown_authority");
  std::vector<Json> handshake = EventsOf(session.events, "send", "tls_handshake");
  ASSERT_EQ(handshake.size(), 1u) << session.events.dump(1);
  EXPECT_EQ(handshake[0].at("failure"), "ssl_unknown_authority");
  EXPECT_TRUE(EventsOf(session.events, "send", "login").empty());
}

TEST_F(MqttTlsTest, CertificateForAnotherNameFailsWithInvalidHostname) {
  MosquittoServer server(TestPki::Kind::kWrongHost);
  ASSERT_TRUE(server.ok()) << server.error();
  Session session = RunSession(&MakeMqttTransport, MqttOptions(server.tls_url()),
                               TestPki::Get().ca_file(), kMessages);
  ASSERT_TRUE(session.open_failure);
  EXPECT_EQ(*session.open_failure, "ssl_invalid_hostname");
}

TEST_F(MqttTlsTest, BrokerNamedByItsNameIsResolvedWithTheContextsResolver) {
  if (auto reason = UnboundServer::Unavailable()) GTEST_SKIP() << *reason;
  MosquittoServer server;
  ASSERT_TRUE(server.ok()) << server.error();
  UnboundServer dns;
  ASSERT_TRUE(dns.ok()) << dns.error();
  ResolverSpec resolver;
  resolver.engine = "udp";
  resolver.ip = "127.0.0.1";
  resolver.port = dns.port();
  // v4only.example.test is 127.0.0.1 in unbound's zone, which the system resolver knows
  // nothing of; the certificate names *.example.test.
  const std::string tls_port = std::to_string(server.tls_port());
  Session session =
      RunSession(&MakeMqttTransport, MqttOptions("mqtts://v4only.example.test:" + tls_port),
                 TestPki::Get().ca_file(), kMessages, nullptr, resolver);
  ASSERT_FALSE(session.open_failure) << *session.open_failure;
  EXPECT_EQ(session.received, kMessages);
  ExpectSetupSucceeded(session.events, {"connect", "tls_handshake", "login"},
                       "127.0.0.1:" + tls_port);

  Session missing =
      RunSession(&MakeMqttTransport, MqttOptions("mqtts://nx.example.test:" + tls_port),
                 TestPki::Get().ca_file(), kMessages, nullptr, resolver);
  ASSERT_TRUE(missing.open_failure);
  EXPECT_EQ(*missing.open_failure, "dns_nxdomain_error");
  std::vector<Json> connect = EventsOf(missing.events, "send", "connect");
  ASSERT_EQ(connect.size(), 1u) << missing.events.dump(1);
  EXPECT_EQ(connect[0].at("failure"), "dns_nxdomain_error");
  EXPECT_EQ(connect[0].at("address"), "nx.example.test:" + tls_port);
}

TEST(MqttTransportFailures, ListenersThatFailGiveTheirFailureAtTheirStep) {
  MisbehavingListeners listeners;
  ASSERT_TRUE(listeners.ok()) << listeners.error();
  struct Case {
    std::string scheme;
    uint16_t port;
    std::string failure, step;
  };
  const Case cases[] = {
      {"mqtt", listeners.refused_port(), "connection_refused", "connect"},
      {"mqtt", listeners.reset_port(), "connection_reset", "login"},
      {"mqtt", listeners.eof_port(), "eof_error", "login"},
      {"mqtt", listeners.silent_port(), "generic_timeout_error", "login"},
      {"mqtt", listeners.blackhole_port(), "generic_timeout_error", "connect"},
      {"mqtts", listeners.reset_port(), "connection_reset", "tls_handshake"},
      {"mqtts", listeners.eof_port(), "eof_error", "tls_handshake"},
      {"mqtts", listeners.silent_port(), "generic_timeout_error", "tls_handshake"},
  };
  for (const Case& c : cases) {
    const std::string address = "127.0.0.1:" + std::to_string(c.port);
    Session session = RunSession(&MakeMqttTransport, MqttOptions(c.scheme + "://" + address),
                                 TestPki::Get().ca_file(), kMessages);
    const std::string label = c.scheme + " " + c.failure;
    ASSERT_TRUE(session.open_failure) << label;
    EXPECT_EQ(*session.open_failure, c.failure) << label;
    std::vector<Json> step = EventsOf(session.events, "send", c.step);
    ASSERT_EQ(step.size(), 1u) << label << ": " << session.events.dump(1);
    EXPECT_EQ(step[0].at("failure"), c.failure) << label;
    EXPECT_EQ(step[0].at("address"), address) << label;
    EXPECT_LT(session.seconds, 2 * Seconds(kTimeout).count() + 1) << label;
  }
}

TEST(MqttTransportSettings, BrokerUrlIsChecked) {
  asio::io_context io;
  ExperimentContext context = Context(io, "");
  auto missing = MakeMqttTransport(context, MqttOptions(""), DeliveryClock::now());
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error(), "delivery: mqtt needs mqtt_broker");
  auto scheme =
      MakeMqttTransport(context, MqttOptions("http://127.0.0.1:1883"), DeliveryClock::now());
  ASSERT_FALSE(scheme);
  EXPECT_NE(scheme.error().find("mqtt or mqtts"), std::string::npos) << scheme.error();
  auto ok =
      MakeMqttTransport(context, MqttOptions("mqtts://broker.example.test"), DeliveryClock::now());
  ASSERT_TRUE(ok) << ok.error();
  EXPECT_EQ((*ok)->name(), "mqtt");
}

}  // namespace
}  // namespace vigil
