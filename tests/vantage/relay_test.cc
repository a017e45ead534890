// `vigil relay`: the session store on its own (tokens, every limit refused with its
// status, expiry on a test clock, the long poll's wake-up, the memory cap), then the
// relay serving on loopback: HTTP and HTTPS (the test PKI) with UTF-8 and binary
// messages, refusals with their status, long polls woken by a sender on another
// listener, the TCP line protocol (over-long lines, garbage, idle connections, many
// clients at once), and the command line (flags, logs without addresses, ids or tokens).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include "base/base64.h"
#include "probe/experiments/delivery/relay_protocol.h"
#include "tests/support/child_process.h"
#include "tests/support/loopback_port.h"
#include "tests/support/running_relay.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_pki.h"
#include "tests/support_paths.h"
#include "vantage/relay/relay_http_api.h"
#include "vantage/relay/relay_server.h"
#include "vantage/relay/relay_status.h"
#include "vantage/relay/relay_tcp_server.h"
#include "vantage/relay/relay_token.h"
#include "vantage/relay/session_store.h"

namespace vigil::relay {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using test_support::RunningRelay;
using test_support::TestPki;

// ---- the store ------------------------------------------------------------------

bool IsLowerHex(const std::string& s) {
  return s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

NewSession MustCreate(SessionStore& store) {
  NewSession session;
  EXPECT_EQ(store.Create(&session), RelayStatus::kOk);
  return session;
}

TEST(RelayToken, RandomHexIsFreshEachTimeAndComparedWhole) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    auto hex = RandomHex(16);
    ASSERT_TRUE(hex);
    EXPECT_EQ(hex->size(), 32u);
    EXPECT_TRUE(IsLowerHex(*hex)) << *hex;
    seen.insert(*hex);
  }
  EXPECT_EQ(seen.size(), 100u);
  EXPECT_TRUE(SameToken("00ff", "00ff"));
  EXPECT_FALSE(SameToken("00fe", "00ff"));
  EXPECT_FALSE(SameToken("00f", "00ff"));
  EXPECT_FALSE(SameToken("", ""));  // no token never matches
}

TEST(SessionStore, EachSessionHasItsOwnTokensAndEachEndOnlyItsOwn) {
  SessionStore store(RelayLimits{});
  const NewSession a = MustCreate(store);
  const NewSession b = MustCreate(store);
  for (const NewSession* s : {&a, &b}) {
    EXPECT_EQ(s->id.size(), 16u);
    EXPECT_EQ(s->send_token.size(), kTokenHexChars);
    EXPECT_EQ(s->receive_token.size(), kTokenHexChars);
    EXPECT_TRUE(IsLowerHex(s->id) && IsLowerHex(s->send_token) && IsLowerHex(s->receive_token));
    EXPECT_NE(s->send_token, s->receive_token);
  }
  EXPECT_NE(a.id, b.id);
  EXPECT_NE(a.send_token, b.send_token);

  uint64_t seq = 0;
  // The receive token cannot send, the send token cannot read or delete, and another
  // session's token is no key to this one.
  EXPECT_EQ(store.Send(a.id, a.receive_token, "x", &seq), RelayStatus::kUnauthorized);
  EXPECT_EQ(store.Send(a.id, b.send_token, "x", &seq), RelayStatus::kUnauthorized);
  std::string near_miss = a.send_token;
  near_miss.back() = near_miss.back() == '0' ? '1' : '0';
  EXPECT_EQ(store.Send(a.id, near_miss, "x", &seq), RelayStatus::kUnauthorized);
  EXPECT_EQ(store.Send(a.id, "", "x", &seq), RelayStatus::kUnauthorized);
  EXPECT_EQ(store.Read(a.id, a.send_token, 0).status, RelayStatus::kUnauthorized);
  EXPECT_EQ(store.Delete(a.id, a.send_token), RelayStatus::kUnauthorized);
  EXPECT_EQ(store.Send("0123456789abcdef", a.send_token, "x", &seq), RelayStatus::kNoSession);
  EXPECT_EQ(store.Send(a.id, a.send_token, "for a", &seq), RelayStatus::kOk);
  EXPECT_TRUE(store.Read(b.id, b.receive_token, 0).messages.empty());
  EXPECT_EQ(store.Read(a.id, a.receive_token, 0).messages.size(), 1u);
  EXPECT_EQ(store.Delete(a.id, a.receive_token), RelayStatus::kOk);
  EXPECT_EQ(store.Read(a.id, a.receive_token, 0).status, RelayStatus::kNoSession);
}

TEST(SessionStore, MessagesComeInOrderAndAreFreedOnceAcknowledged) {
  SessionStore store(RelayLimits{});
  const NewSession s = MustCreate(store);
  const size_t empty = store.Usage().memory_bytes;
  EXPECT_EQ(empty, SessionStore::kSessionOverhead);
  for (std::string body : {"one", "two", "three"}) {
    uint64_t seq = 0;
    ASSERT_EQ(store.Send(s.id, s.send_token, body, &seq), RelayStatus::kOk);
  }
  EXPECT_EQ(store.Usage().messages, 3u);
  EXPECT_EQ(store.Usage().memory_bytes, empty + 11 + 3 * SessionStore::kMessageOverhead);

  ReadResult all = store.Read(s.id, s.receive_token, 0);
  ASSERT_EQ(all.messages.size(), 3u);
  EXPECT_EQ(all.messages[0].seq, 1u);
  EXPECT_EQ(all.messages[0].body, "one");
  EXPECT_EQ(all.messages[2].body, "three");
  EXPECT_EQ(all.next, 3u);
  // Reading again without acknowledging gives the same (a reply lost on the way).
  EXPECT_EQ(store.Read(s.id, s.receive_token, 0).messages.size(), 3u);
  ReadResult rest = store.Read(s.id, s.receive_token, 1);
  ASSERT_EQ(rest.messages.size(), 2u);
  EXPECT_EQ(rest.messages[0].body, "two");
  EXPECT_EQ(store.Usage().messages, 2u);
  ReadResult none = store.Read(s.id, s.receive_token, 3);
  EXPECT_TRUE(none.messages.empty());
  EXPECT_EQ(none.next, 3u);
  EXPECT_EQ(store.Usage().memory_bytes, empty);
}

TEST(SessionStore, EachLimitIsRefusedWithItsOwnStatus) {
  RelayLimits limits;
  limits.max_sessions = 2;
  limits.max_message_bytes = 10;
  limits.max_messages = 3;
  SessionStore store(limits);
  const NewSession s = MustCreate(store);
  MustCreate(store);
  NewSession third;
  EXPECT_EQ(store.Create(&third), RelayStatus::kBusy);
  EXPECT_EQ(HttpStatusOf(RelayStatus::kBusy), 503);
  EXPECT_EQ(ReasonOf(RelayStatus::kBusy), "busy");

  uint64_t seq = 0;
  EXPECT_EQ(store.Send(s.id, s.send_token, std::string(10, 'x'), &seq), RelayStatus::kOk);
  EXPECT_EQ(store.Send(s.id, s.send_token, std::string(11, 'x'), &seq), RelayStatus::kTooLong);
  EXPECT_EQ(HttpStatusOf(RelayStatus::kTooLong), 413);
  EXPECT_EQ(ReasonOf(RelayStatus::kTooLong), "too_long");
  EXPECT_EQ(store.Send(s.id, s.send_token, "2", &seq), RelayStatus::kOk);
  EXPECT_EQ(store.Send(s.id, s.send_token, "3", &seq), RelayStatus::kOk);
  // The limit counts messages over the session's life: acknowledging frees no quota.
  store.Read(s.id, s.receive_token, 3);
  EXPECT_EQ(store.Send(s.id, s.send_token, "4", &seq), RelayStatus::kTooMany);
  EXPECT_EQ(HttpStatusOf(RelayStatus::kTooMany), 429);
  EXPECT_EQ(ReasonOf(RelayStatus::kTooMany), "too_many");
}

TEST(SessionStore, TheMemoryCapCountsEverySessionAndRefusesWith507) {
  RelayLimits limits;
  limits.max_memory_bytes =
      2 * SessionStore::kSessionOverhead + 2 * SessionStore::kMessageOverhead + 200;
  SessionStore store(limits);
  const NewSession a = MustCreate(store);
  const NewSession b = MustCreate(store);
  uint64_t seq = 0;
  EXPECT_EQ(store.Send(a.id, a.send_token, std::string(100, 'a'), &seq), RelayStatus::kOk);
  EXPECT_EQ(store.Send(b.id, b.send_token, std::string(100, 'b'), &seq), RelayStatus::kOk);
  // Full across sessions: either may be the one refused.
  EXPECT_EQ(store.Send(a.id, a.send_token, "c", &seq), RelayStatus::kFull);
  EXPECT_EQ(store.Send(b.id, b.send_token, "c", &seq), RelayStatus::kFull);
  NewSession c;
  EXPECT_EQ(store.Create(&c), RelayStatus::kFull);
  EXPECT_EQ(HttpStatusOf(RelayStatus::kFull), 507);
  EXPECT_EQ(ReasonOf(RelayStatus::kFull), "full");
  // Acknowledged messages give their room back.
  store.Read(a.id, a.receive_token, 1);
  EXPECT_EQ(store.Send(b.id, b.send_token, "c", &seq), RelayStatus::kOk);
  // So does a deleted session.
  EXPECT_EQ(store.Delete(a.id, a.receive_token), RelayStatus::kOk);
  EXPECT_EQ(store.Create(&c), RelayStatus::kOk);
}

TEST(SessionStore, SessionsExpireATtlAfterTheirLastUseAndTheSweepFreesThem) {
  auto now = std::chrono::steady_clock::now();
  RelayLimits limits;
  limits.session_ttl = 60s;
  SessionStore store(limits, [&now] { return now; });
  const NewSession used = MustCreate(store);
  const NewSession idle = MustCreate(store);
  uint64_t seq = 0;
  ASSERT_EQ(store.Send(idle.id, idle.send_token, "held", &seq), RelayStatus::kOk);
  now += 50s;
  EXPECT_EQ(store.Sweep(), 0u);
  ASSERT_EQ(store.Send(used.id, used.send_token, "x", &seq), RelayStatus::kOk);  // a use
  now += 10s;
  EXPECT_EQ(store.Sweep(), 1u);  // `idle`, 60 s unused; `used`, 10 s
  EXPECT_EQ(store.Usage().sessions, 1u);
  EXPECT_EQ(store.Usage().messages, 1u);
  EXPECT_EQ(store.Send(idle.id, idle.send_token, "late", &seq), RelayStatus::kNoSession);
  // Without a sweep, an expired session is gone to whoever asks.
  now += 60s;
  EXPECT_EQ(store.Read(used.id, used.receive_token, 0).status, RelayStatus::kNoSession);
  EXPECT_EQ(store.Usage().sessions, 0u);
  EXPECT_EQ(store.Usage().memory_bytes, 0u);
}

TEST(SessionStore, AWaitingReaderIsWokenOnceByASendOrTheSessionsEnd) {
  RelayLimits limits;
  limits.max_waiters_per_session = 2;
  SessionStore store(limits);
  const NewSession s = MustCreate(store);
  std::atomic<int> woken{0};
  ReadResult waiting = store.Read(s.id, s.receive_token, 0, [&woken] { ++woken; });
  EXPECT_EQ(waiting.status, RelayStatus::kOk);
  EXPECT_TRUE(waiting.messages.empty());
  ASSERT_NE(waiting.watch, 0u);
  std::thread sender([&] {
    uint64_t seq = 0;
    EXPECT_EQ(store.Send(s.id, s.send_token, "wake up", &seq), RelayStatus::kOk);
  });
  sender.join();
  EXPECT_EQ(woken.load(), 1);
  uint64_t seq = 0;
  store.Send(s.id, s.send_token, "again", &seq);
  EXPECT_EQ(woken.load(), 1);  // once

  // With messages there, no wake-up is left.
  EXPECT_EQ(store.Read(s.id, s.receive_token, 0, [&woken] { ++woken; }).watch, 0u);

  // A wake-up taken back does not run; the limit on waiting readers holds.
  ReadResult a = store.Read(s.id, s.receive_token, 2, [&woken] { woken += 10; });
  ReadResult b = store.Read(s.id, s.receive_token, 2, [&woken] { woken += 100; });
  EXPECT_EQ(store.Read(s.id, s.receive_token, 2, [] {}).status, RelayStatus::kTooMany);
  store.Unwatch(s.id, a.watch);
  EXPECT_EQ(store.Delete(s.id, s.receive_token), RelayStatus::kOk);
  EXPECT_EQ(woken.load(), 101);  // b, by the end of the session
  EXPECT_NE(b.watch, 0u);
}

TEST(SessionStore, AWaitingReaderKeepsItsSessionFromExpiring) {
  auto now = std::chrono::steady_clock::now();
  RelayLimits limits;
  limits.session_ttl = 10s;
  SessionStore store(limits, [&now] { return now; });
  const NewSession s = MustCreate(store);
  ReadResult waiting = store.Read(s.id, s.receive_token, 0, [] {});
  now += 30s;
  EXPECT_EQ(store.Sweep(), 0u);
  store.Unwatch(s.id, waiting.watch);  // the wait ended: the TTL runs from here
  now += 9s;
  EXPECT_EQ(store.Sweep(), 0u);
  now += 1s;
  EXPECT_EQ(store.Sweep(), 1u);
}

// ---- the relay on loopback --------------------------------------------------------

RelayConfig AllListeners(RelayLimits limits = {}) {
  RelayConfig config;
  config.http = RelayListen{};
  config.tcp = RelayListen{};
  config.limits = limits;
  return config;
}

httplib::Headers Bearer(const std::string& token) { return {{"Authorization", "Bearer " + token}}; }

json JsonBody(const httplib::Result& r) {
  if (!r) return json();
  return json::parse(r->body, nullptr, false);
}

struct Session {
  std::string id, send_token, receive_token;
  std::string messages_path() const { return std::string(kSessionsPath) + "/" + id + "/messages"; }
};

Session CreateSession(httplib::Client& client) {
  auto r = client.Post(std::string(kSessionsPath));
  EXPECT_TRUE(r);
  if (!r) return {};
  EXPECT_EQ(r->status, 201) << r->body;
  const json j = JsonBody(r);
  EXPECT_GT(j.value("expires_in", 0), 0);
  return Session{j.value("session", ""), j.value("send_token", ""), j.value("receive_token", "")};
}

// A blocking line-protocol client with a deadline on every read.
class LineClient {
 public:
  explicit LineClient(uint16_t port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      close(fd_);
      fd_ = -1;
    }
  }
  ~LineClient() {
    if (fd_ >= 0) close(fd_);
  }
  bool ok() const { return fd_ >= 0; }

  bool Send(std::string_view bytes) {
    for (size_t sent = 0; sent < bytes.size();) {
      const ssize_t n = send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent += static_cast<size_t>(n);
    }
    return true;
  }

  /// The next line without its "\n"; "<eof>" when the relay closed, "<timeout>".
  std::string ReadLine(std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (size_t nl = buffer_.find('\n'); nl != std::string::npos) {
        std::string line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return line;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      pollfd p{fd_, POLLIN, 0};
      if (left.count() <= 0 || poll(&p, 1, static_cast<int>(left.count())) <= 0) {
        return "<timeout>";
      }
      char chunk[4096];
      const ssize_t n = recv(fd_, chunk, sizeof chunk, 0);
      if (n <= 0) return "<eof>";
      buffer_.append(chunk, static_cast<size_t>(n));
    }
  }

 private:
  int fd_ = -1;
  std::string buffer_;
};

TEST(RelayServerTest, HttpCarriesMessagesWithUtf8IntactAndOtherBytesAsBase64) {
  RunningRelay relay(AllListeners());
  ASSERT_TRUE(relay.ok());
  httplib::Client client("127.0.0.1", *relay.info().http_port);
  auto info = client.Get(std::string(kInfoPath));
  ASSERT_TRUE(info);
  ASSERT_EQ(info->status, 200);
  const json j = JsonBody(info);
  EXPECT_EQ(j["version"], kProtocolVersion);
  EXPECT_EQ(j["http_port"], *relay.info().http_port);
  EXPECT_EQ(j["tcp_port"], *relay.info().tcp_port);
  EXPECT_TRUE(j["https_port"].is_null());
  EXPECT_EQ(j["max_message_bytes"], kDefaultMaxMessageBytes);
  EXPECT_EQ(j["session_ttl_s"], 600);

  const Session s = CreateSession(client);
  const std::string utf8 = "法轮功 Falun Gong — 六四 ✓ émoji 🙂";
  const std::string binary("\xff\xfe\x00 not text", 12);
  for (const std::string& body : {utf8, binary}) {
    auto r =
        client.Post(s.messages_path(), Bearer(s.send_token), body, "text/plain; charset=utf-8");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 201) << r->body;
  }
  auto r = client.Get(s.messages_path() + "?after=0", Bearer(s.receive_token));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  const json got = JsonBody(r);
  ASSERT_EQ(got["messages"].size(), 2u) << r->body;
  EXPECT_EQ(got["messages"][0]["seq"], 1);
  EXPECT_EQ(got["messages"][0]["body"], utf8);
  EXPECT_EQ(got["messages"][1]["seq"], 2);
  EXPECT_FALSE(got["messages"][1].contains("body"));
  EXPECT_EQ(Base64Decode(got["messages"][1]["body_base64"].get<std::string>()), binary);
  EXPECT_EQ(got["next"], 2);

  auto deleted = client.Delete(std::string(kSessionsPath) + "/" + s.id, Bearer(s.receive_token));
  ASSERT_TRUE(deleted);
  EXPECT_EQ(deleted->status, 204);
  EXPECT_TRUE(deleted->body.empty());
  r = client.Get(s.messages_path(), Bearer(s.receive_token));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(JsonBody(r)["error"], "no_session");
}

TEST(RelayServerTest, HttpRefusesEachBadRequestWithItsStatusAndReason) {
  RelayLimits limits;
  limits.max_sessions = 1;
  limits.max_message_bytes = 16;
  limits.max_messages = 2;
  RunningRelay relay(AllListeners(limits));
  ASSERT_TRUE(relay.ok());
  httplib::Client client("127.0.0.1", *relay.info().http_port);
  const Session s = CreateSession(client);
  auto expect = [](const httplib::Result& r, int status, const std::string& reason) {
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, status) << r->body;
    EXPECT_EQ(JsonBody(r).value("error", ""), reason) << r->body;
  };
  expect(client.Post(std::string(kSessionsPath)), 503, "busy");
  expect(client.Post(s.messages_path(), "x", "text/plain"), 401, "unauthorized");
  expect(client.Post(s.messages_path(), Bearer(s.receive_token), "x", "text/plain"), 401,
         "unauthorized");
  expect(client.Get(s.messages_path(), Bearer(s.send_token)), 401, "unauthorized");
  expect(client.Post(std::string(kSessionsPath) + "/0123456789abcdef/messages",
                     Bearer(s.send_token), "x", "text/plain"),
         404, "no_session");
  expect(client.Post(s.messages_path(), Bearer(s.send_token), std::string(17, 'x'), "text/plain"),
         413, "too_long");
  expect(client.Get(s.messages_path() + "?after=x", Bearer(s.receive_token)), 400,
         "after: not a message number");
  expect(client.Get(s.messages_path() + "?wait=-1", Bearer(s.receive_token)), 400,
         "wait: not a number of seconds");
  expect(client.Post(s.messages_path(), Bearer(s.send_token), "1", "text/plain"), 201, "");
  expect(client.Post(s.messages_path(), Bearer(s.send_token), "2", "text/plain"), 201, "");
  expect(client.Post(s.messages_path(), Bearer(s.send_token), "3", "text/plain"), 429, "too_many");
  expect(client.Get("/api/v1/nothing"), 404, "no such endpoint");
  expect(client.Get(std::string(kSessionsPath) + "/NOT-HEX/messages"), 404, "no such endpoint");
  auto r = client.Put(s.messages_path(), "x", "text/plain");
  expect(r, 405, "method not allowed: GET, POST");
  EXPECT_EQ(r->get_header_value("Allow"), "GET, POST");
  // The relay still serves after all of that.
  expect(client.Get(std::string(kInfoPath)), 200, "");
}

TEST(RelayServerTest, TheMemoryCapIsRefusedWith507OverHttpAndErrFullOverTcp) {
  RelayLimits limits;
  limits.max_memory_bytes = SessionStore::kSessionOverhead + SessionStore::kMessageOverhead + 100;
  RunningRelay relay(AllListeners(limits));
  ASSERT_TRUE(relay.ok());
  httplib::Client client("127.0.0.1", *relay.info().http_port);
  const Session s = CreateSession(client);
  auto r =
      client.Post(s.messages_path(), Bearer(s.send_token), std::string(100, 'x'), "text/plain");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 201);
  r = client.Post(s.messages_path(), Bearer(s.send_token), "y", "text/plain");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 507);
  EXPECT_EQ(JsonBody(r)["error"], "full");
  LineClient tcp(*relay.info().tcp_port);
  ASSERT_TRUE(tcp.ok());
  tcp.Send("SEND " + s.id + " " + s.send_token + " y\n");
  EXPECT_EQ(tcp.ReadLine(), "ERR full");
}

TEST(RelayServerTest, ALongPollReturnsAsSoonAsAMessageArrivesOnAnotherListener) {
  RunningRelay relay(AllListeners());
  ASSERT_TRUE(relay.ok());
  httplib::Client client("127.0.0.1", *relay.info().http_port);
  client.set_read_timeout(40s);
  const Session s = CreateSession(client);

  // Nothing arrives: the poll answers empty once its wait is over, not before.
  auto t0 = std::chrono::steady_clock::now();
  auto empty = client.Get(s.messages_path() + "?after=0&wait=0.5", Bearer(s.receive_token));
  const auto waited = std::chrono::steady_clock::now() - t0;
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->status, 200);
  EXPECT_TRUE(JsonBody(empty)["messages"].empty());
  EXPECT_GE(waited, 450ms);
  EXPECT_LT(waited, 5s);

  std::thread sender([&] {
    std::this_thread::sleep_for(300ms);
    LineClient tcp(*relay.info().tcp_port);
    tcp.Send("SEND " + s.id + " " + s.send_token + " over tcp\n");
    EXPECT_EQ(tcp.ReadLine(), "OK 1");
  });
  t0 = std::chrono::steady_clock::now();
  auto r = client.Get(s.messages_path() + "?after=0&wait=20", Bearer(s.receive_token));
  const auto took = std::chrono::steady_clock::now() - t0;
  sender.join();
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(JsonBody(r)["messages"][0]["body"], "over tcp");
  EXPECT_GE(took, 250ms);
  EXPECT_LT(took, 5s) << "the poll was not woken by the message";

  // A poll ends when its session is deleted.
  std::thread deleter([&] {
    std::this_thread::sleep_for(300ms);
    httplib::Client other("127.0.0.1", *relay.info().http_port);
    other.Delete(std::string(kSessionsPath) + "/" + s.id, Bearer(s.receive_token));
  });
  t0 = std::chrono::steady_clock::now();
  r = client.Get(s.messages_path() + "?after=1&wait=20", Bearer(s.receive_token));
  deleter.join();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
}

TEST(RelayServerTest, HttpsServesTheSameApiWithTheGivenCertificate) {
  if (auto why = TestPki::Unavailable()) GTEST_SKIP() << *why;
  const TestPki& pki = TestPki::Get();
  ASSERT_TRUE(pki.ok()) << pki.error();
  RelayConfig config;
  config.https = RelayListen{};
  config.tcp = RelayListen{};
  config.cert_file = pki.valid().cert;
  config.key_file = pki.valid().key;
  RunningRelay relay(config);
  ASSERT_TRUE(relay.ok());
  const uint16_t port = *relay.info().https_port;

  httplib::SSLClient client("127.0.0.1", port);
  client.set_ca_cert_path(pki.ca_file().c_str());
  client.enable_server_certificate_verification(true);
  auto info = client.Get(std::string(kInfoPath));
  ASSERT_TRUE(info) << httplib::to_string(info.error());
  EXPECT_EQ(JsonBody(info)["https_port"], port);
  EXPECT_TRUE(JsonBody(info)["http_port"].is_null());
  auto created = client.Post(std::string(kSessionsPath));
  ASSERT_TRUE(created);
  const json j = JsonBody(created);
  const Session s{j["session"], j["send_token"], j["receive_token"]};
  auto sent = client.Post(s.messages_path(), Bearer(s.send_token), "über TLS", "text/plain");
  ASSERT_TRUE(sent);
  EXPECT_EQ(sent->status, 201);
  auto got = client.Get(s.messages_path() + "?after=0", Bearer(s.receive_token));
  ASSERT_TRUE(got);
  EXPECT_EQ(JsonBody(got)["messages"][0]["body"], "über TLS");

  // A real TLS listener: plain HTTP gets no answer, and a client that does not trust the
  // test CA refuses the certificate.
  httplib::Client plain("127.0.0.1", port);
  plain.set_read_timeout(3s);
  auto no = plain.Get(std::string(kInfoPath));
  EXPECT_TRUE(!no || no->status != 200);
  httplib::SSLClient untrusting("127.0.0.1", port);
  untrusting.set_ca_cert_path(pki.self_signed().cert.c_str());
  untrusting.enable_server_certificate_verification(true);
  auto refused = untrusting.Get(std::string(kInfoPath));
  EXPECT_FALSE(refused);
}

TEST(RelayServerTest, HttpsRefusesToStartWithAKeyThatIsNotTheCertificates) {
  if (auto why = TestPki::Unavailable()) GTEST_SKIP() << *why;
  const TestPki& pki = TestPki::Get();
  RelayConfig config;
  config.https = RelayListen{};
  config.cert_file = pki.valid().cert;
  config.key_file = pki.expired().key;
  RelayServer server(config);
  auto bound = server.Bind();
  ASSERT_FALSE(bound.ok());
  EXPECT_NE(bound.error().find("HTTPS listener"), std::string::npos) << bound.error();
  EXPECT_NE(bound.error().find(pki.expired().key), std::string::npos) << bound.error();
  config.key_file = "/nonexistent/key.pem";
  RelayServer missing(config);
  bound = missing.Bind();
  ASSERT_FALSE(bound.ok());
  EXPECT_NE(bound.error().find("/nonexistent/key.pem"), std::string::npos) << bound.error();
}

TEST(RelayServerTest, TcpLineProtocolAnswersEachLineAndSurvivesGarbage) {
  RunningRelay relay(AllListeners());
  ASSERT_TRUE(relay.ok());
  httplib::Client client("127.0.0.1", *relay.info().http_port);
  const Session s = CreateSession(client);
  LineClient tcp(*relay.info().tcp_port);
  ASSERT_TRUE(tcp.ok());
  const std::string send = "SEND " + s.id + " " + s.send_token + " ";
  tcp.Send(send + "first message\n");
  EXPECT_EQ(tcp.ReadLine(), "OK 1");
  tcp.Send("SEND " + s.id + " " + s.receive_token + " wrong token\n");
  EXPECT_EQ(tcp.ReadLine(), "ERR unauthorized");
  tcp.Send("SEND 0123456789abcdef " + s.send_token + " no such session\n");
  EXPECT_EQ(tcp.ReadLine(), "ERR no_session");
  tcp.Send(std::string("\x16\x03\x01\x00\xff garbage \x00\xff\n", 17));
  EXPECT_EQ(tcp.ReadLine(), "ERR bad_request");
  tcp.Send("GET / HTTP/1.1\n");
  EXPECT_EQ(tcp.ReadLine(), "ERR bad_request");
  tcp.Send("SEND only-two-words\n");
  EXPECT_EQ(tcp.ReadLine(), "ERR bad_request");
  // Pipelined in one write, answered in order; spaces inside the text are kept.
  tcp.Send(send + "two  spaced  words\n" + send + "六四天安門\n");
  EXPECT_EQ(tcp.ReadLine(), "OK 2");
  EXPECT_EQ(tcp.ReadLine(), "OK 3");
  tcp.Send("QUIT\n");
  EXPECT_EQ(tcp.ReadLine(), "<eof>");

  auto r = client.Get(s.messages_path(), Bearer(s.receive_token));
  ASSERT_TRUE(r);
  const json got = JsonBody(r);
  ASSERT_EQ(got["messages"].size(), 3u) << r->body;
  EXPECT_EQ(got["messages"][0]["body"], "first message");
  EXPECT_EQ(got["messages"][1]["body"], "two  spaced  words");
  EXPECT_EQ(got["messages"][2]["body"], "六四天安門");
}

TEST(RelayServerTest, TcpRefusesAnOverLongLineAndClosesTheConnection) {
  RelayLimits limits;
  limits.max_message_bytes = 100;
  RunningRelay relay(AllListeners(limits));
  ASSERT_TRUE(relay.ok());
  httplib::Client client("127.0.0.1", *relay.info().http_port);
  const Session s = CreateSession(client);
  const std::string send = "SEND " + s.id + " " + s.send_token + " ";
  {
    // At the message limit: accepted; one byte over, within the line limit: refused, and
    // the connection goes on.
    LineClient tcp(*relay.info().tcp_port);
    tcp.Send(send + std::string(100, 'x') + "\n");
    EXPECT_EQ(tcp.ReadLine(), "OK 1");
    tcp.Send(send + std::string(101, 'x') + "\n");
    EXPECT_EQ(tcp.ReadLine(), "ERR too_long");
    tcp.Send(send + "still here\n");
    EXPECT_EQ(tcp.ReadLine(), "OK 2");
  }
  {
    // A line past the line limit, never ended: refused as soon as it is too long, closed.
    LineClient tcp(*relay.info().tcp_port);
    tcp.Send(send + std::string(100 + kMaxLineOverhead + 10, 'y'));
    EXPECT_EQ(tcp.ReadLine(), "ERR too_long");
    EXPECT_EQ(tcp.ReadLine(), "<eof>");
  }
  {
    LineClient tcp(*relay.info().tcp_port);
    tcp.Send(std::string(100 + kMaxLineOverhead + 1, 'z') + "\n");
    EXPECT_EQ(tcp.ReadLine(), "ERR too_long");
    EXPECT_EQ(tcp.ReadLine(), "<eof>");
  }
}

TEST(RelayServerTest, TcpClosesIdleConnectionsAndRefusesBeyondItsConnectionCap) {
  RelayConfig config = AllListeners();
  config.idle_timeout = 1s;
  RunningRelay relay(config);
  ASSERT_TRUE(relay.ok());
  LineClient tcp(*relay.info().tcp_port);
  ASSERT_TRUE(tcp.ok());
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(tcp.ReadLine(10s), "<eof>");
  const auto idle = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(idle, 900ms);
  EXPECT_LT(idle, 5s);

  SessionStore store(RelayLimits{});
  RelayTcpConfig capped;
  capped.max_connections = 2;
  capped.log_requests = false;
  RelayTcpServer server(capped, store);
  auto port = server.Bind();
  ASSERT_TRUE(port.ok()) << port.error();
  std::thread serving([&server] { server.Serve(); });
  LineClient a(*port), b(*port);
  a.Send("x\n");
  b.Send("x\n");
  EXPECT_EQ(a.ReadLine(), "ERR bad_request");
  EXPECT_EQ(b.ReadLine(), "ERR bad_request");
  LineClient c(*port);
  EXPECT_EQ(c.ReadLine(), "ERR busy");
  EXPECT_EQ(c.ReadLine(), "<eof>");
  server.Stop();
  serving.join();
}

TEST(RelayServerTest, ManyClientsAtOnceEachGetTheirOwnMessagesInOrder) {
  RelayConfig config = AllListeners();
  config.threads = 2;
  RunningRelay relay(config);
  ASSERT_TRUE(relay.ok());
  constexpr int kClients = 40;
  constexpr int kMessages = 25;
  std::atomic<int> delivered{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      httplib::Client http("127.0.0.1", *relay.info().http_port);
      const Session s = CreateSession(http);
      LineClient tcp(*relay.info().tcp_port);
      std::vector<std::string> sent;
      for (int m = 0; m < kMessages; ++m) {
        sent.push_back("client " + std::to_string(c) + " message " + std::to_string(m) + " ✓");
        if (c % 2 == 0) {
          tcp.Send("SEND " + s.id + " " + s.send_token + " " + sent.back() + "\n");
          EXPECT_EQ(tcp.ReadLine(), "OK " + std::to_string(m + 1));
        } else {
          auto r = http.Post(s.messages_path(), Bearer(s.send_token), sent.back(), "text/plain");
          EXPECT_TRUE(r && r->status == 201);
        }
      }
      auto r = http.Get(s.messages_path() + "?after=0", Bearer(s.receive_token));
      ASSERT_TRUE(r);
      const json got = JsonBody(r);
      ASSERT_EQ(got["messages"].size(), sent.size());
      for (size_t i = 0; i < sent.size(); ++i) {
        EXPECT_EQ(got["messages"][i]["body"], sent[i]);
        if (got["messages"][i]["body"] == sent[i]) ++delivered;
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(delivered.load(), kClients * kMessages);
}

TEST(RelayHttpApiTest, LogPathsHideSessionIds) {
  EXPECT_EQ(RelayHttpApi::LogPath("/api/v1/sessions/0123abcd/messages"),
            "/api/v1/sessions/-/messages");
  EXPECT_EQ(RelayHttpApi::LogPath("/api/v1/sessions/0123abcd"), "/api/v1/sessions/-");
  EXPECT_EQ(RelayHttpApi::LogPath("/api/v1/sessions"), "/api/v1/sessions");
  EXPECT_EQ(RelayHttpApi::LogPath("/api/v1/relay"), "/api/v1/relay");
}

// ---- the command line -----------------------------------------------------------------

TEST(RelayCommand, BadFlagsExitTwoWithAnErrorNamingTheFlag) {
  struct Case {
    std::vector<std::string> args;
    std::string names;
  };
  const std::vector<Case> cases = {
      {{"--listen-tcp", "127.0.0.1:9000"}, "--listen-http or --listen-https"},
      {{"--listen-http", "localhost:80"}, "--listen-http"},
      {{"--listen-http", "127.0.0.1"}, "--listen-http"},
      {{"--listen-https", "127.0.0.1:8443"}, "--cert"},
      {{"--listen-http", "127.0.0.1:8080", "--cert", "c.pem"}, "--cert"},
      {{"--listen-http", "127.0.0.1:8080", "--listen-tcp", "nowhere"}, "--listen-tcp"},
      {{"--listen-http", "127.0.0.1:8080", "--max-memory", "lots"}, "--max-memory"},
      {{"--listen-http", "127.0.0.1:8080", "--max-sessions", "0"}, "--max-sessions"},
      {{"--listen-http", "127.0.0.1:8080", "--max-message-bytes", "x"}, "--max-message-bytes"},
      {{"--listen-http", "127.0.0.1:8080", "--max-messages", "-3"}, "--max-messages"},
      {{"--listen-http", "127.0.0.1:8080", "--session-ttl", "0"}, "--session-ttl"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> argv = {test_support::VigilBinary(), "relay"};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    auto r = test_support::RunCommand(argv);
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_NE(r.output.find(c.names), std::string::npos) << r.output;
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
  }
}

TEST(RelayCommand, ServesEveryListenerAndLogsNoAddressIdOrToken) {
  if (auto why = TestPki::Unavailable()) GTEST_SKIP() << *why;
  const TestPki& pki = TestPki::Get();
  test_support::TempDir dir("vigil-relay-cli-");
  test_support::ChildProcess child;
  uint16_t http = 0, https = 0, tcp = 0;
  for (int attempt = 0; attempt < 5 && http == 0; ++attempt) {
    const uint16_t a = test_support::FreeLoopbackPort(), b = test_support::FreeLoopbackPort(),
                   c = test_support::FreeLoopbackPort();
    std::string error;
    ASSERT_TRUE(child.Start(
        {test_support::VigilBinary(), "relay", "--listen-http", "127.0.0.1:" + std::to_string(a),
         "--listen-https", "127.0.0.1:" + std::to_string(b), "--cert", pki.valid().cert, "--key",
         pki.valid().key, "--listen-tcp", "127.0.0.1:" + std::to_string(c), "--max-messages", "5",
         "--session-ttl", "30"},
        dir.Join("relay.log"), &error))
        << error;
    for (int i = 0; i < 100 && child.Running(); ++i) {
      if (test_support::TcpConnects("127.0.0.1", a) && test_support::TcpConnects("127.0.0.1", c)) {
        http = a, https = b, tcp = c;
        break;
      }
      std::this_thread::sleep_for(20ms);
    }
    if (http == 0) child.Kill();
  }
  ASSERT_NE(http, 0) << test_support::ReadFileOrEmpty(dir.Join("relay.log"));
  httplib::Client client("127.0.0.1", http);
  auto info = client.Get(std::string(kInfoPath));
  ASSERT_TRUE(info);
  EXPECT_EQ(JsonBody(info)["https_port"], https);
  EXPECT_EQ(JsonBody(info)["tcp_port"], tcp);
  EXPECT_EQ(JsonBody(info)["session_ttl_s"], 30);
  const Session s = CreateSession(client);
  LineClient line(tcp);
  line.Send("SEND " + s.id + " " + s.send_token + " hello\n");
  EXPECT_EQ(line.ReadLine(), "OK 1");
  httplib::SSLClient secure("127.0.0.1", https);
  secure.set_ca_cert_path(pki.ca_file().c_str());
  secure.enable_server_certificate_verification(true);
  auto sent = secure.Post(s.messages_path(), Bearer(s.send_token), "hi", "text/plain");
  ASSERT_TRUE(sent);
  EXPECT_EQ(sent->status, 201);
  auto got = client.Get(s.messages_path(), Bearer(s.receive_token));
  ASSERT_TRUE(got);
  EXPECT_EQ(JsonBody(got)["messages"].size(), 2u);

  EXPECT_TRUE(child.Terminate(5s)) << child.ExitDescription();
  EXPECT_EQ(child.ExitDescription(), "exited with status 0");
  const std::string log = test_support::ReadFileOrEmpty(dir.Join("relay.log"));
  EXPECT_NE(log.find("listening on HTTP 127.0.0.1:" + std::to_string(http)), std::string::npos)
      << log;
  EXPECT_NE(log.find("POST /api/v1/sessions/-/messages 201"), std::string::npos) << log;
  EXPECT_NE(log.find("tcp: SEND OK"), std::string::npos) << log;
  std::istringstream lines(log);
  for (std::string l; std::getline(lines, l);) {
    for (const std::string& secret : {s.id, s.send_token, s.receive_token}) {
      EXPECT_EQ(l.find(secret), std::string::npos) << l;
    }
    if (l.find("listening on") != std::string::npos) continue;
    EXPECT_EQ(l.find("127.0.0.1"), std::string::npos) << l;
  }
}

}  // namespace
}  // namespace vigil::relay
