// `vigil helper` speaking OONI's test-helper protocol on loopback: the spec's
// sample request and every real control request we have, replayed with their
// names resolved by a loopback unbound and their addresses moved to loopback (so
// nothing leaves the machine), answered in the shape of the real answers; bad
// requests refused with a 4xx and a reason while the server keeps serving; the
// in-flight limit; the private-address guard; and the command line.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "base/host_port.h"
#include "probe/experiments/web_connectivity/control_protocol.h"
#include "probe/http/url.h"
#include "probe/net/trace.h"
#include "tests/support/child_process.h"
#include "tests/support/loopback_port.h"
#include "tests/support/misbehaving_listeners.h"
#include "tests/support/nginx_server.h"
#include "tests/support/read_file.h"
#include "tests/support/running_helper.h"
#include "tests/support/silent_resolver.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_pki.h"
#include "tests/support/unbound_server.h"
#include "tests/support_paths.h"
#include "vantage/helper/helper_server.h"

namespace vigil {
namespace {

using namespace std::chrono_literals;
using test_support::NginxServer;
using test_support::TestPki;
using test_support::UnboundServer;

// ---- a client that sends exactly the bytes it is given --------------------------

struct RawReply {
  int status = 0;  // 0: no HTTP response
  std::string head;
  std::string body;
};

RawReply Exchange(uint16_t port, const std::string& bytes,
                  std::chrono::milliseconds timeout = 30s) {
  RawReply reply;
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return reply;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return reply;
  }
  for (size_t sent = 0; sent < bytes.size();) {
    const ssize_t n = send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // the server may refuse before reading everything
    sent += static_cast<size_t>(n);
  }
  std::string in;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    char buf[16384];
    const ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    in.append(buf, static_cast<size_t>(n));
    // A complete response ends the exchange even on a connection kept alive.
    const size_t head_end = in.find("\r\n\r\n");
    const size_t length_at = in.find("Content-Length: ");
    if (head_end != std::string::npos && length_at != std::string::npos && length_at < head_end &&
        in.size() - head_end - 4 >= std::stoul(in.substr(length_at + 16))) {
      break;
    }
  }
  close(fd);
  const size_t end = in.find("\r\n\r\n");
  if (in.rfind("HTTP/1.", 0) != 0 || end == std::string::npos) return reply;
  reply.status = std::atoi(in.substr(9, 3).c_str());
  reply.head = in.substr(0, end);
  reply.body = in.substr(end + 4);
  return reply;
}

RawReply Post(uint16_t port, const std::string& body, const std::string& path = "/",
              const std::string& extra_headers = "") {
  return Exchange(port, "POST " + path + " HTTP/1.1\r\nHost: helper\r\nConnection: close\r\n" +
                            "Content-Type: application/json\r\n" + extra_headers +
                            "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
}

Json JsonOf(const RawReply& r) {
  auto j = ParseControlJson(r.body);
  EXPECT_TRUE(j.ok()) << j.error() << "\n" << r.head << "\n" << r.body;
  return j.ok() ? *j : Json();
}

std::string JsonType(const Json& j) { return j.is_number() ? "number" : j.type_name(); }

// Keys whose objects are maps (endpoint → result, name → value): their entries are
// compared with the reference's first entry instead of by key.
bool IsMap(const std::string& path) {
  for (const char* suffix :
       {"tcp_connect", "tls_handshake", "quic_handshake", "ip_info", "headers"}) {
    const std::string s = suffix;
    if (path.size() >= s.size() && path.compare(path.size() - s.size(), s.size(), s) == 0) {
      return true;
    }
  }
  return false;
}

// Every key of `ref` is in `ours` with the same JSON type, recursively.
void ExpectSameShape(const Json& ref, const Json& ours, const std::string& path) {
  ASSERT_EQ(JsonType(ours), JsonType(ref)) << path;
  if (ref.is_object() && IsMap(path)) {
    if (ref.empty() || ours.empty()) return;
    for (const auto& [key, value] : ours.items()) {
      ExpectSameShape(ref.begin().value(), value, path + "." + key);
    }
  } else if (ref.is_object()) {
    for (const auto& [key, value] : ref.items()) {
      ASSERT_TRUE(ours.contains(key)) << "missing " << path << "." << key;
      ExpectSameShape(value, ours[key], path + "." + key);
    }
  } else if (ref.is_array() && !ref.empty()) {
    for (const auto& e : ours) ASSERT_EQ(JsonType(e), JsonType(ref[0])) << path << "[]";
  }
}

Json ReadJsonFile(const std::string& path) {
  auto j = ParseControlJson(test_support::ReadFileOrFail(path));
  EXPECT_TRUE(j.ok()) << path << ": " << j.error();
  return j.ok() ? *j : Json();
}

std::string ThDir() { return test_support::ReferenceDir() + "/th"; }

class HelperProtocolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (auto why :
         {NginxServer::Unavailable(), UnboundServer::Unavailable(), TestPki::Unavailable()}) {
      if (why) GTEST_SKIP() << *why;
    }
  }

  // Starts unbound (with `records`), nginx and the helper.
  void Start(std::vector<std::string> records = {}, bool allow_bogons = true,
             size_t max_in_flight = 4) {
    unbound_ = std::make_unique<UnboundServer>(std::move(records));
    ASSERT_TRUE(unbound_->ok()) << unbound_->error();
    nginx_ = std::make_unique<NginxServer>();
    ASSERT_TRUE(nginx_->ok()) << nginx_->error();
    HelperConfig config;
    config.measurement.resolver = *ParseResolverSpec("udp://" + unbound_->address());
    config.measurement.ca_file = TestPki::Get().ca_file();
    config.measurement.timeout = 1500ms;
    config.measurement.allow_bogons = allow_bogons;
    config.max_in_flight = max_in_flight;
    helper_ = std::make_unique<test_support::RunningHelper>(config);
    ASSERT_NE(helper_->port(), 0);
  }

  uint16_t https_port() const { return nginx_->https_port(TestPki::Kind::kValid); }

  std::unique_ptr<UnboundServer> unbound_;
  std::unique_ptr<NginxServer> nginx_;
  std::unique_ptr<test_support::RunningHelper> helper_;
};

// The spec's sample request, pointed at our loopback site, is answered in exactly
// the shape of the spec's sample response, with what the site really serves.
TEST_F(HelperProtocolTest, SpecSampleAnsweredInTheSpecsShape) {
  const std::string req_path = ThDir() + "/spec_ts017_control_request.json";
  const std::string resp_path = ThDir() + "/spec_ts017_control_response.json";
  if (!std::filesystem::exists(req_path) || !std::filesystem::exists(resp_path)) {
    GTEST_SKIP() << "no spec samples under " << ThDir() << " (set VIGIL_REFERENCE_DIR)";
  }
  Start();
  Json request = ReadJsonFile(req_path);
  const Json reference = ReadJsonFile(resp_path);
  const std::string port = std::to_string(https_port());
  request["http_request"] = "https://www.example.test:" + port + "/";
  request["tcp_connect"] = {"127.0.0.1:" + port, "[::1]:" + port};

  RawReply r = Post(helper_->port(), request.dump());
  ASSERT_EQ(r.status, 200) << r.head << r.body;
  EXPECT_NE(r.head.find("application/json"), std::string::npos) << r.head;
  Json ours = JsonOf(r);
  ExpectSameShape(reference, ours, "response");
  // Exactly the sample's keys, no more.
  std::set<std::string> ref_keys, our_keys;
  for (const auto& [k, v] : reference.items()) ref_keys.insert(k);
  for (const auto& [k, v] : ours.items()) our_keys.insert(k);
  EXPECT_EQ(our_keys, ref_keys);
  EXPECT_EQ(ours["http_request"].size(), reference["http_request"].size());

  const std::string v4 = "127.0.0.1:" + port;
  EXPECT_EQ(ours["tcp_connect"][v4]["status"], true) << ours.dump();
  EXPECT_TRUE(ours["tcp_connect"][v4]["failure"].is_null());
  EXPECT_EQ(ours["tls_handshake"][v4]["status"], true) << ours["tls_handshake"].dump();
  EXPECT_EQ(ours["tls_handshake"][v4]["server_name"], "www.example.test");
  EXPECT_EQ(ours["http_request"]["status_code"], 200);
  EXPECT_EQ(ours["http_request"]["title"], NginxServer::kPageTitle);
  EXPECT_EQ(ours["http_request"]["body_length"], NginxServer::kIndexHtml.size());
  EXPECT_TRUE(ours["http_request"]["headers"].contains("Content-Type"));
  EXPECT_EQ(ours["dns"]["addrs"], (Json{"127.0.0.1", "::1"}));
  // Resolved by both, a bogon, and valid for the name (the handshake verified).
  EXPECT_EQ(ours["ip_info"]["127.0.0.1"]["flags"], 1 | 2 | 4 | 8);
  EXPECT_EQ(ours["ip_info"]["127.0.0.1"]["asn"], 0);

  // It parses back through the probe's reader.
  auto back = ControlResponseFromJson(ours);
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(back->http_request.status_code, 200);
}

// Request `r` with every address on loopback: IPv4 → 127.0.0.1, IPv6 → ::1 (ports
// kept), and an IP-literal URL host → 127.0.0.1. Names are returned in `hosts`.
Json Localize(Json r, std::set<std::string>* hosts) {
  auto url = ParseUrl(r["http_request"].get<std::string>());
  EXPECT_TRUE(url.ok()) << r.dump();
  if (!url.ok()) return r;
  if (IsIpLiteral(url->host)) {
    url->host = "127.0.0.1";
    r["http_request"] = url->ToString();
  } else {
    hosts->insert(url->host);
  }
  std::set<std::string> endpoints;
  for (const auto& e : r["tcp_connect"]) {
    auto hp = ParseHostPort(e.get<std::string>());
    EXPECT_TRUE(hp.ok()) << e;
    if (!hp.ok()) continue;
    endpoints.insert(
        JoinHostPort(hp->host.find(':') == std::string::npos ? "127.0.0.1" : "::1", hp->port));
  }
  r["tcp_connect"] = endpoints;
  return r;
}

// Every real control request we have is answered, in the shape its real answer had.
TEST_F(HelperProtocolTest, RealControlRequestsAnswered) {
  const std::string path = ThDir() + "/control_pairs.jsonl";
  if (!std::filesystem::exists(path)) {
    GTEST_SKIP() << "no control pairs at " << path << " (set VIGIL_REFERENCE_DIR)";
  }
  std::vector<std::pair<Json, Json>> pairs;  // localized request, real response
  std::set<std::string> hosts;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    Json row = Json::parse(line);
    if (!row["request"].is_object() || !row["response"].is_object()) continue;
    pairs.emplace_back(Localize(row["request"], &hosts), row["response"]);
  }
  ASSERT_FALSE(pairs.empty()) << path << " holds no request";
  // Their names resolve to loopback here, where nothing serves them.
  std::vector<std::string> records;
  for (const auto& h : hosts) records.push_back(h + ". 300 IN A 127.0.0.1");
  Start(records);

  for (const auto& [request, real] : pairs) {
    SCOPED_TRACE(request.dump());
    RawReply r = Post(helper_->port(), request.dump());
    ASSERT_EQ(r.status, 200) << r.body;
    Json ours = JsonOf(r);
    for (const auto& [key, value] : real.items()) {
      ASSERT_TRUE(ours.contains(key)) << "missing " << key;
      if (value.is_null()) continue;
      EXPECT_EQ(JsonType(ours[key]), JsonType(value)) << key;
    }
    for (const auto& [key, value] : real["http_request"].items()) {
      EXPECT_TRUE(ours["http_request"].contains(key)) << "http_request." << key;
    }
    auto url = ParseUrl(request["http_request"].get<std::string>());
    ASSERT_TRUE(url.ok());
    std::set<uint16_t> ports = url->port_explicit       ? std::set<uint16_t>{url->port}
                               : url->scheme == "https" ? std::set<uint16_t>{443}
                                                        : std::set<uint16_t>{80, 443};
    for (const auto& e : request["tcp_connect"]) {
      auto hp = ParseHostPort(e.get<std::string>());
      if (!ports.contains(hp->port)) continue;
      ASSERT_TRUE(ours["tcp_connect"].contains(e.get<std::string>())) << e << " not measured";
      const Json& result = ours["tcp_connect"][e.get<std::string>()];
      EXPECT_TRUE(result["status"].is_boolean());
      EXPECT_EQ(result["status"] == true, result["failure"].is_null()) << result;
    }
    if (!IsIpLiteral(url->host)) {
      EXPECT_EQ(ours["dns"]["addrs"], Json{"127.0.0.1"}) << "the helper's own resolver";
    }
    auto back = ControlResponseFromJson(ours);
    EXPECT_TRUE(back.ok()) << back.error();
  }
}

TEST_F(HelperProtocolTest, BadRequestsGetAReasonAndTheServerKeepsServing) {
  Start();
  const uint16_t port = helper_->port();
  struct Case {
    const char* what;
    std::string body;
  };
  std::string deep(100000, '[');
  const std::vector<Case> bad_bodies = {
      {"not JSON", "this is not json"},
      {"truncated JSON", "{\"http_request\": \"http://www.example.test/\""},
      {"empty body", ""},
      {"a list", "[]"},
      {"no URL", "{\"tcp_connect\": []}"},
      {"a number for the URL", "{\"http_request\": 5}"},
      {"another scheme", "{\"http_request\": \"ftp://www.example.test/\"}"},
      {"a bad endpoint", R"({"http_request": "http://www.example.test/", "tcp_connect": ["x"]})"},
      {"a name as endpoint",
       R"({"http_request": "http://www.example.test/", "tcp_connect": ["www.example.test:80"]})"},
      {"headers of numbers",
       R"({"http_request": "http://www.example.test/", "http_request_headers": {"Accept": [1]}})"},
      {"quic flag as text",
       R"({"http_request": "http://www.example.test/", "x_quic_enabled": "yes"})"},
      {"deep nesting", deep},
      {"a number too large for a double",
       R"({"http_request": "http://www.example.test/", "x": 1e999})"},
  };
  for (const auto& c : bad_bodies) {
    RawReply r = Post(port, c.body);
    EXPECT_EQ(r.status, 400) << c.what << ": " << r.head;
    Json j = JsonOf(r);
    EXPECT_TRUE(j.contains("error") && j["error"].is_string() && !j["error"].empty())
        << c.what << ": " << r.body;
  }

  RawReply r = Exchange(port, "GET / HTTP/1.1\r\nHost: helper\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(r.status, 405) << r.head;
  EXPECT_NE(r.head.find("Allow: POST"), std::string::npos) << r.head;
  EXPECT_TRUE(JsonOf(r).contains("error"));

  r = Post(port, "{}", "/api/v2/nothing");
  EXPECT_EQ(r.status, 404) << r.head;
  EXPECT_TRUE(JsonOf(r).contains("error"));

  r = Post(port, std::string(300 * 1024, ' '));
  EXPECT_EQ(r.status, 413) << r.head;
  EXPECT_TRUE(JsonOf(r).contains("error"));

  r = Post(port, "\x1f\x8b garbage", "/", "Content-Encoding: gzip\r\n");
  EXPECT_EQ(r.status, 415) << r.head;

  r = Exchange(port, "THIS IS NOT HTTP\r\n\r\n", 5s);
  EXPECT_EQ(r.status, 400) << r.head;
  EXPECT_TRUE(JsonOf(r).contains("error"));

  // Still serving.
  const std::string url = "http://www.example.test:" + std::to_string(nginx_->http_port()) + "/";
  r = Post(port, ToJson(ControlRequest{url, {}, {}, false}).dump());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(JsonOf(r)["http_request"]["status_code"], 200);
}

// One connection, several requests: kept alive, pipelined requests answered in
// order, an Expect: 100-continue client told to go on, and a client that sends
// half a head and stalls does not stop others from being served.
TEST_F(HelperProtocolTest, ConnectionsAreKeptAlivePipelinedAndContinued) {
  Start();
  const uint16_t port = helper_->port();
  const std::string url = "http://www.example.test:" + std::to_string(nginx_->http_port()) + "/";
  const std::string body = ToJson(ControlRequest{url, {}, {}, false}).dump();
  auto request = [&](const std::string& extra) {
    return "POST / HTTP/1.1\r\nHost: helper\r\n" + extra +
           "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  };

  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  auto receive_until = [&](std::string& in, auto done) {
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (!done(in) && std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, 200) <= 0) continue;
      char buf[16384];
      const ssize_t n = recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      in.append(buf, static_cast<size_t>(n));
    }
  };
  auto count = [](const std::string& in, const std::string& what) {
    size_t n = 0;
    for (size_t at = in.find(what); at != std::string::npos; at = in.find(what, at + 1)) ++n;
    return n;
  };

  // Two requests in one send: two answers, in order, on the same connection.
  const std::string two = request("") + request("");
  ASSERT_EQ(send(fd, two.data(), two.size(), MSG_NOSIGNAL), static_cast<ssize_t>(two.size()));
  std::string in;
  receive_until(in, [&](const std::string& s) { return count(s, "\"http_request\"") >= 2; });
  EXPECT_EQ(count(in, "HTTP/1.1 200 OK"), 2u) << in;
  EXPECT_EQ(count(in, "Connection: keep-alive"), 2u) << in;

  // Expect: 100-continue: the head alone gets "100 Continue", then the body an answer.
  std::string with_expect = request("Expect: 100-continue\r\n");
  const std::string head_only = with_expect.substr(0, with_expect.size() - body.size());
  ASSERT_GT(send(fd, head_only.data(), head_only.size(), MSG_NOSIGNAL), 0);
  in.clear();
  receive_until(in, [&](const std::string& s) { return s.find("\r\n\r\n") != std::string::npos; });
  EXPECT_EQ(in.rfind("HTTP/1.1 100 Continue\r\n\r\n", 0), 0u) << in;
  ASSERT_GT(send(fd, body.data(), body.size(), MSG_NOSIGNAL), 0);
  receive_until(in, [&](const std::string& s) { return count(s, "\"http_request\"") >= 1; });
  EXPECT_NE(in.find("HTTP/1.1 200 OK"), std::string::npos) << in;

  // A stalled client (half a head) holds nothing that others need.
  const int stalled = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_EQ(connect(stalled, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_GT(send(stalled, "POST / HTTP/1.1\r\nHost:", 22, MSG_NOSIGNAL), 0);
  RawReply r = Post(port, body);
  EXPECT_EQ(r.status, 200) << r.head;
  close(stalled);

  // Connection: close is honoured.
  const std::string closing = request("Connection: close\r\n");
  ASSERT_GT(send(fd, closing.data(), closing.size(), MSG_NOSIGNAL), 0);
  in.clear();
  receive_until(in, [](const std::string&) { return false; });  // until the server closes
  EXPECT_NE(in.find("Connection: close"), std::string::npos) << in;
  EXPECT_NE(in.find("\"http_request\""), std::string::npos) << in;
  close(fd);
}

TEST_F(HelperProtocolTest, FailuresUseTheHelpersWords) {
  test_support::MisbehavingListeners listeners;
  ASSERT_TRUE(listeners.ok());
  Start();
  const std::string refused = std::to_string(listeners.refused_port());
  ControlRequest request;
  request.http_request = "http://127.0.0.1:" + refused + "/";
  request.tcp_connect = {"127.0.0.1:" + refused};
  RawReply r = Post(helper_->port(), ToJson(request).dump());
  ASSERT_EQ(r.status, 200) << r.body;
  Json j = JsonOf(r);
  EXPECT_EQ(j["tcp_connect"]["127.0.0.1:" + refused]["failure"], "connection_refused_error");
  EXPECT_EQ(j["http_request"]["failure"], "connection_refused_error");
  EXPECT_EQ(j["http_request"]["status_code"], -1);
  EXPECT_EQ(j["http_request"]["body_length"], -1);
  EXPECT_EQ(j["http_request"]["headers"], Json::object());

  request.http_request = "http://nx.example.test/";
  request.tcp_connect.clear();
  j = JsonOf(Post(helper_->port(), ToJson(request).dump()));
  EXPECT_EQ(j["dns"]["failure"], "dns_name_error");
  EXPECT_EQ(j["dns"]["addrs"], Json::array());
  EXPECT_EQ(j["http_request"]["failure"], "dns_lookup_error");

  request.http_request = "http://www.refused.test/";
  j = JsonOf(Post(helper_->port(), ToJson(request).dump()));
  EXPECT_EQ(j["dns"]["failure"], "dns_server_failure");
}

// With the default guard, a client cannot make the helper connect to or fetch from
// private addresses, whoever resolves them.
TEST_F(HelperProtocolTest, PrivateAddressesAreNotMeasuredByDefault) {
  Start({}, /*allow_bogons=*/false);
  const std::string port = std::to_string(nginx_->http_port());
  ControlRequest request;
  request.http_request = "http://www.example.test:" + port + "/";
  request.tcp_connect = {"127.0.0.1:" + port};
  Json j = JsonOf(Post(helper_->port(), ToJson(request).dump()));
  EXPECT_EQ(j["tcp_connect"], Json::object()) << j.dump();
  EXPECT_EQ(j["ip_info"]["127.0.0.1"]["flags"], 1 | 2 | 4);
  EXPECT_EQ(j["http_request"]["status_code"], -1) << "the page must not have been fetched";
  EXPECT_TRUE(j["http_request"]["failure"].is_string());

  request.http_request = "http://127.0.0.1:" + port + "/";
  j = JsonOf(Post(helper_->port(), ToJson(request).dump()));
  EXPECT_EQ(j["http_request"]["status_code"], -1);
}

// ---- x_endpoints: a messaging measurement's control ---------------------------------

// A request of endpoints alone (no http_request) is answered per name, per ip:port and
// per ip:port and server name, in the helper's words, with no OONI keys: a port that
// refuses everyone refuses the helper too.
TEST_F(HelperProtocolTest, EndpointsAreMeasuredFromHere) {
  test_support::MisbehavingListeners listeners;
  ASSERT_TRUE(listeners.ok());
  Start();
  const uint16_t refused = listeners.refused_port();
  const uint16_t https = https_port();
  const uint16_t wrong_host = nginx_->https_port(TestPki::Kind::kWrongHost);
  ControlRequest request;
  request.x_endpoints = {
      ControlEndpoint{
          "www.example.test", {"127.0.0.1"}, {refused, https, wrong_host}, {https, wrong_host}, ""},
      ControlEndpoint{"nx.example.test", {}, {}, {}, ""},
      ControlEndpoint{"192.0.2.10", {"127.0.0.1"}, {refused}, {}, ""},
  };
  const Json sent = ToJson(request);
  EXPECT_FALSE(sent.contains("http_request")) << sent.dump();
  RawReply r = Post(helper_->port(), sent.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  const Json j = JsonOf(r);
  EXPECT_EQ(j.size(), 1u) << "x_endpoints alone: " << j.dump();
  const Json& x = j["x_endpoints"];
  const auto at = [](uint16_t port) { return "127.0.0.1:" + std::to_string(port); };

  EXPECT_EQ(x["dns"]["www.example.test"],
            (Json{{"failure", nullptr}, {"addrs", {"127.0.0.1", "::1"}}}));
  EXPECT_EQ(x["dns"]["nx.example.test"],
            (Json{{"failure", "dns_name_error"}, {"addrs", Json::array()}}));
  EXPECT_FALSE(x["dns"].contains("192.0.2.10")) << "an IP literal is not looked up";
  EXPECT_EQ(x["tcp_connect"][at(refused)],
            (Json{{"status", false}, {"failure", "connection_refused_error"}}));
  EXPECT_EQ(x["tcp_connect"][at(https)], (Json{{"status", true}, {"failure", nullptr}}));
  // The helper's own address too, not only the probe's.
  EXPECT_TRUE(x["tcp_connect"].contains("[::1]:" + std::to_string(refused))) << x.dump();
  EXPECT_EQ(x["tls_handshake"][at(https)]["www.example.test"],
            (Json{{"status", true}, {"failure", nullptr}}));
  EXPECT_EQ(x["tls_handshake"][at(wrong_host)]["www.example.test"],
            (Json{{"status", false}, {"failure", "ssl_invalid_hostname"}}));
  EXPECT_FALSE(x["tls_handshake"].contains(at(refused))) << "no handshake where no connect";
  // The mapped literal's stand-in was contacted, not the literal.
  EXPECT_FALSE(x["tcp_connect"].contains("192.0.2.10:" + std::to_string(refused)));
  EXPECT_EQ(x["not_measured"], Json::object());

  auto back = ControlResponseFromJson(j);
  ASSERT_TRUE(back.ok()) << back.error();
  ASSERT_TRUE(back->x_endpoints.has_value());
  EXPECT_EQ(back->x_endpoints->tls_handshake[at(wrong_host)]["www.example.test"].failure,
            "ssl_invalid_hostname");
  EXPECT_EQ(ToJson(*back->x_endpoints), x);

  // With http_request as well: OONI's answer, and the endpoints beside it.
  request.http_request = "http://www.example.test:" + std::to_string(nginx_->http_port()) + "/";
  request.x_endpoints.resize(1);
  const Json both = JsonOf(Post(helper_->port(), ToJson(request).dump()));
  EXPECT_EQ(both["http_request"]["status_code"], 200) << both.dump();
  EXPECT_EQ(both["x_endpoints"]["tcp_connect"][at(https)]["status"], true) << both.dump();
}

// Requests of endpoints that cannot be measured are refused with the key and the reason.
TEST_F(HelperProtocolTest, BadEndpointRequestsAreRefusedWithAReason) {
  Start();
  Json many = Json::array();
  for (int i = 0; i < 65; ++i) many.push_back(Json{{"host", "www.example.test"}});
  Json addrs = Json::array();
  for (int i = 0; i < 17; ++i) addrs.push_back("127.0.0." + std::to_string(i + 1));
  const std::vector<std::pair<Json, std::string>> cases = {
      {Json{{"x_endpoints", Json::array()}}, "x_endpoints: expected 1 to 64 endpoints, got 0"},
      {Json{{"x_endpoints", many}}, "x_endpoints: expected 1 to 64 endpoints, got 65"},
      {Json{{"x_endpoints", Json::object()}},
       "x_endpoints: expected a list of endpoints, got object"},
      {Json{{"x_endpoints", {Json{{"ports", {443}}}}}}, "x_endpoints[0].host: missing"},
      {Json{{"x_endpoints", {Json{{"host", "www.example.test"}}, Json{{"host", "not a name"}}}}},
       "x_endpoints[1].host: 'not a name' is neither a host name nor an IP address"},
      {Json{{"x_endpoints", {Json{{"host", "a.example.test"}, {"addrs", {"www.example.test"}}}}}},
       "x_endpoints[0].addrs[0]: 'www.example.test' is not an IP address"},
      {Json{{"x_endpoints", {Json{{"host", "a.example.test"}, {"addrs", addrs}}}}},
       "x_endpoints[0].addrs: at most 16 addresses, got 17"},
      {Json{{"x_endpoints", {Json{{"host", "a.example.test"}, {"ports", {0}}}}}},
       "x_endpoints[0].ports[0]: 0 is not a port number (1 to 65535)"},
      {Json{{"x_endpoints", {Json{{"host", "a.example.test"}, {"ports", {"443"}}}}}},
       "x_endpoints[0].ports[0]: expected a port number, got string"},
      {Json{{"x_endpoints", {Json{{"host", "a.example.test"}, {"ports", {443, 443}}}}}},
       "x_endpoints[0].ports[1]: port 443 is listed twice"},
      {Json{{"x_endpoints",
             {Json{{"host", "a.example.test"}, {"ports", {80}}, {"tls_ports", {443}}}}}},
       "x_endpoints[0].tls_ports[0]: 443 is not among ports"},
      {Json{{"x_endpoints", {Json{{"host", "a.example.test"}, {"sni", 7}}}}},
       "x_endpoints[0].sni: expected a string, got number"},
      // Neither kind of request.
      {Json::object(), "http_request: missing"},
  };
  for (const auto& [body, reason] : cases) {
    RawReply r = Post(helper_->port(), body.dump());
    EXPECT_EQ(r.status, 400) << body.dump();
    EXPECT_EQ(JsonOf(r)["error"], "bad control request: " + reason) << body.dump();
  }
}

// Unless allowed, bogon addresses (the probe's or the helper's own) are not contacted,
// and said so; no more connects than the limit are made.
TEST_F(HelperProtocolTest, EndpointsKeepTheBogonGuardAndTheLimit) {
  ControlMeasurementOptions options;
  options.timeout = 1500ms;
  Start();
  options.resolver = *ParseResolverSpec("udp://" + unbound_->address());
  const uint16_t http = nginx_->http_port();
  ControlRequest request;
  request.x_endpoints = {ControlEndpoint{"www.example.test", {"127.0.0.1"}, {http}, {}, ""}};
  HelperReply reply = HandleControlRequest(ToJson(request).dump(), options);
  ASSERT_EQ(reply.status, 200) << reply.body;
  Json x = Json::parse(reply.body)["x_endpoints"];
  EXPECT_EQ(x["tcp_connect"], Json::object()) << x.dump();
  EXPECT_EQ(x["not_measured"], (Json{{"127.0.0.1:" + std::to_string(http), "bogon"},
                                     {"[::1]:" + std::to_string(http), "bogon"}}));
  EXPECT_EQ(x["dns"]["www.example.test"]["addrs"], (Json{"127.0.0.1", "::1"}));

  options.allow_bogons = true;
  options.max_endpoint_connects = 1;
  reply = HandleControlRequest(ToJson(request).dump(), options);
  x = Json::parse(reply.body)["x_endpoints"];
  EXPECT_EQ(x["tcp_connect"]["127.0.0.1:" + std::to_string(http)]["status"], true) << x.dump();
  EXPECT_EQ(x["not_measured"], (Json{{"[::1]:" + std::to_string(http), "limit"}}));
}

// Names and endpoints that never answer end at the per-step deadline, all at once:
// twenty lookups to a silent resolver, a dropped SYN and a silent TLS server take a few
// deadlines, not twenty.
TEST_F(HelperProtocolTest, EndpointsThatNeverAnswerEndOnTime) {
  test_support::MisbehavingListeners listeners;
  ASSERT_TRUE(listeners.ok());
  test_support::SilentResolver silent_resolver;
  ASSERT_TRUE(silent_resolver.ok());
  ControlMeasurementOptions options;
  options.allow_bogons = true;
  options.timeout = 500ms;
  options.resolver = *ParseResolverSpec(silent_resolver.url());
  ControlRequest request;
  for (int i = 1; i <= 20; ++i) {
    request.x_endpoints.push_back(ControlEndpoint{"e" + std::to_string(i) + ".example.test",
                                                  {"127.0.0.1"},
                                                  {listeners.blackhole_port()},
                                                  {},
                                                  ""});
  }
  const uint16_t silent = listeners.silent_port();
  request.x_endpoints.push_back(
      ControlEndpoint{"127.0.0.1", {}, {silent}, {silent}, "x.example.test"});
  const auto start = std::chrono::steady_clock::now();
  HelperReply reply = HandleControlRequest(ToJson(request).dump(), options);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_EQ(reply.status, 200) << reply.body;
  const Json x = Json::parse(reply.body)["x_endpoints"];
  EXPECT_LT(elapsed, 5 * options.timeout);
  EXPECT_EQ(x["dns"].size(), 20u);
  EXPECT_EQ(x["dns"]["e7.example.test"]["failure"], "unknown_error") << x.dump();
  const std::string blackhole = "127.0.0.1:" + std::to_string(listeners.blackhole_port());
  EXPECT_EQ(x["tcp_connect"][blackhole]["failure"], "generic_timeout_error") << x.dump();
  EXPECT_EQ(x["tcp_connect"].size(), 2u) << "one ip:port is connected to once";
  EXPECT_EQ(x["tls_handshake"]["127.0.0.1:" + std::to_string(silent)]["x.example.test"]["failure"],
            "generic_timeout_error")
      << x.dump();
}

TEST_F(HelperProtocolTest, MeasurementsBeyondTheLimitGet503) {
  test_support::MisbehavingListeners listeners;
  ASSERT_TRUE(listeners.ok());
  Start({}, true, /*max_in_flight=*/1);
  // A fetch from a server that never answers holds the one slot for a while.
  ControlRequest slow;
  slow.http_request = "http://127.0.0.1:" + std::to_string(listeners.silent_port()) + "/";
  RawReply first;
  std::thread t([&] { first = Post(helper_->port(), ToJson(slow).dump()); });
  RawReply second;
  std::this_thread::sleep_for(300ms);
  for (int i = 0; i < 20; ++i) {
    second = Post(helper_->port(), ToJson(slow).dump());
    if (second.status == 503) break;
    std::this_thread::sleep_for(50ms);
  }
  t.join();
  EXPECT_EQ(second.status, 503) << second.head;
  EXPECT_NE(second.head.find("Retry-After"), std::string::npos);
  EXPECT_TRUE(JsonOf(second).contains("error"));
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(JsonOf(first)["http_request"]["failure"], "generic_timeout_error");
}

TEST(HelperFailureWords, MapOursToTheHelpers) {
  EXPECT_EQ(HelperDnsFailure(""), std::nullopt);
  EXPECT_EQ(HelperDnsFailure("dns_nxdomain_error"), "dns_name_error");
  EXPECT_EQ(HelperDnsFailure("dns_no_answer"), std::nullopt);
  EXPECT_EQ(HelperDnsFailure("dns_refused_error"), "dns_server_failure");
  EXPECT_EQ(HelperDnsFailure("dns_servfail_error"), "dns_server_failure");
  EXPECT_EQ(HelperDnsFailure("generic_timeout_error"), "unknown_error");
  EXPECT_EQ(HelperTcpFailure("connection_refused"), "connection_refused_error");
  EXPECT_EQ(HelperTcpFailure("generic_timeout_error"), "generic_timeout_error");
  EXPECT_EQ(HelperTcpFailure("connection_reset"), "connect_error");
  EXPECT_EQ(HelperHttpFailure("dns_nxdomain_error", "resolve"), "dns_lookup_error");
  EXPECT_EQ(HelperHttpFailure("generic_timeout_error", "resolve"), "dns_lookup_error");
  EXPECT_EQ(HelperHttpFailure("generic_timeout_error", "http_round_trip"), "generic_timeout_error");
  EXPECT_EQ(HelperHttpFailure("connection_refused", "connect"), "connection_refused_error");
  EXPECT_EQ(HelperHttpFailure("ssl_invalid_hostname", "tls_handshake"), "unknown_error");
  EXPECT_EQ(H3EndpointFromAltSvc("h3=\":443\"; ma=86400, h3-29=\":443\"", "www.example.com"),
            "www.example.com:443");
  EXPECT_EQ(H3EndpointFromAltSvc("h2=\":443\", h3=\"alt.example.com:8443\"", "x"),
            "alt.example.com:8443");
  EXPECT_EQ(H3EndpointFromAltSvc("h2=\":443\"", "x"), "");
  EXPECT_EQ(H3EndpointFromAltSvc("clear", "x"), "");
}

// The command as an operator runs it.
TEST(HelperCommand, ServesFromTheCommandLine) {
  for (auto why : {NginxServer::Unavailable(), UnboundServer::Unavailable()}) {
    if (why) GTEST_SKIP() << *why;
  }
  UnboundServer unbound;
  ASSERT_TRUE(unbound.ok()) << unbound.error();
  NginxServer nginx;
  ASSERT_TRUE(nginx.ok()) << nginx.error();
  test_support::TempDir dir("vigil-helper-cli-");
  test_support::ChildProcess child;
  uint16_t port = 0;
  for (int attempt = 0; attempt < 5 && port == 0; ++attempt) {
    const uint16_t candidate = test_support::FreeLoopbackPort();
    std::string error;
    ASSERT_TRUE(child.Start({test_support::VigilBinary(), "helper", "--listen",
                             "127.0.0.1:" + std::to_string(candidate), "--resolver",
                             "udp://" + unbound.address(), "--allow-private", "--timeout", "2"},
                            dir.Join("helper.log"), &error))
        << error;
    for (int i = 0; i < 100 && child.Running(); ++i) {
      if (test_support::TcpConnects("127.0.0.1", candidate)) {
        port = candidate;
        break;
      }
      std::this_thread::sleep_for(20ms);
    }
    if (port == 0) child.Kill();
  }
  ASSERT_NE(port, 0) << test_support::ReadFileOrEmpty(dir.Join("helper.log"));
  const std::string url = "http://www.example.test:" + std::to_string(nginx.http_port()) + "/";
  RawReply r = Post(port, ToJson(ControlRequest{url, {}, {}, false}).dump());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(JsonOf(r)["http_request"]["title"], NginxServer::kPageTitle);
  child.Kill();
  const std::string log = test_support::ReadFileOrEmpty(dir.Join("helper.log"));
  EXPECT_NE(log.find("listening on 127.0.0.1:" + std::to_string(port)), std::string::npos) << log;
  EXPECT_NE(log.find("POST / 200"), std::string::npos) << log;
  // The client's address (127.0.0.1 here) appears in no request line.
  std::istringstream lines(log);
  for (std::string l; std::getline(lines, l);) {
    if (l.find("listening on") != std::string::npos) continue;
    EXPECT_EQ(l.find("127.0.0.1"), std::string::npos) << l;
  }
}

TEST(HelperCommand, BadFlagsExitTwo) {
  auto r =
      test_support::RunCommand({test_support::VigilBinary(), "helper", "--listen", "localhost:80"});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--listen"), std::string::npos) << r.output;
  r = test_support::RunCommand(
      {test_support::VigilBinary(), "helper", "--resolver", "carrier-pigeon"});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--resolver"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace vigil
