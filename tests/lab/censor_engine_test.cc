// The censor engine on crafted frames: what it matches (SNI, also fragmented; Host;
// keywords), the fingerprints of the RSTs and DNS answers it forges, residual
// blocking, phases, delay and throttle timing, and survival of hostile frames.
#include <gtest/gtest.h>
#include <tins/dns.h>
#include <tins/ethernetII.h>
#include <tins/ip.h>
#include <tins/ipv6.h>
#include <tins/rawpdu.h>
#include <tins/tcp.h>
#include <tins/udp.h>

#include <random>
#include <set>
#include <string>
#include <vector>

#include "tests/lab/censor/censor.h"
#include "tests/lab/censor/dns_wire.h"
#include "tests/lab/censor/http_request.h"
#include "tests/lab/censor/scenario_parser.h"
#include "tests/lab/censor/tls_client_hello.h"

namespace vigil::lab {
namespace {

constexpr const char* kClientMac = "02:00:00:00:00:0a";
constexpr const char* kServerMac = "02:00:00:00:00:0b";
constexpr const char* kClient = "198.18.1.10";
constexpr const char* kServer = "198.18.70.1";
constexpr uint32_t kClientIsn = 1000;
constexpr uint32_t kServerIsn = 5000000;

class VectorSink : public TruthSink {
 public:
  void Record(const nlohmann::json& line) override { lines.push_back(line); }
  std::vector<nlohmann::json> lines;
};

std::string ClientHello(const std::string& sni) {
  auto u16 = [](size_t v) { return std::string{static_cast<char>(v >> 8), static_cast<char>(v)}; };
  std::string name = std::string(1, '\0') + u16(sni.size()) + sni;
  std::string ext = u16(0) + u16(name.size() + 2) + u16(name.size()) + name;
  // A supported_versions extension before SNI, as real clients send.
  ext = u16(43) + u16(3) + std::string("\x02\x03\x04", 3) + ext;
  std::string body = std::string("\x03\x03", 2) + std::string(32, 'r') + std::string(1, '\0') +
                     u16(2) + std::string("\x13\x01", 2) + std::string("\x01\x00", 2) +
                     u16(ext.size()) + ext;
  std::string hs = std::string(1, '\x01') + std::string(1, '\0') + u16(body.size()) + body;
  return std::string("\x16\x03\x01", 3) + u16(hs.size()) + hs;
}

std::vector<uint8_t> TcpFrame(bool up, uint16_t cport, uint32_t seq, uint32_t ack, uint8_t flags,
                              const std::string& payload = "", uint16_t sport = 443) {
  Tins::TCP tcp(up ? sport : cport, up ? cport : sport);
  tcp.seq(seq);
  tcp.ack_seq(ack);
  tcp.flags(flags);
  tcp.window(64240);
  if (!payload.empty()) {
    tcp /= Tins::RawPDU(reinterpret_cast<const uint8_t*>(payload.data()),
                        static_cast<uint32_t>(payload.size()));
  }
  Tins::IP ip(up ? kServer : kClient, up ? kClient : kServer);
  ip.ttl(up ? 63 : 60);
  Tins::EthernetII eth(Tins::HWAddress<6>(up ? kServerMac : kClientMac),
                       Tins::HWAddress<6>(up ? kClientMac : kServerMac));
  eth /= ip / tcp;
  return eth.serialize();
}

std::vector<uint8_t> DnsQueryFrame(const std::string& qname, Tins::DNS::QueryType type,
                                   uint8_t ttl = 61) {
  Tins::DNS dns;
  dns.id(0x1234);
  dns.recursion_desired(1);
  dns.add_query(Tins::DNS::query(qname, type, Tins::DNS::INTERNET));
  Tins::IP ip("198.18.20.53", kClient);
  ip.ttl(ttl);
  Tins::EthernetII eth{Tins::HWAddress<6>(kServerMac), Tins::HWAddress<6>(kClientMac)};
  eth /= ip / Tins::UDP(53, 40000) / dns;
  return eth.serialize();
}

Scenario Load(const std::string& rules) {
  ScenarioLoad load =
      ParseScenario("name: t\nphases:\n  - start: 0s\n    rules:\n" + rules, "t.yaml", ".");
  for (const auto& e : load.errors) ADD_FAILURE() << e;
  return load.scenario.value_or(Scenario{});
}

class Engine : public ::testing::Test {
 protected:
  void Init(const std::string& rules) {
    censor_ = std::make_unique<Censor>(Load(rules), &truth_, 42);
    censor_->Start(now_);
  }
  std::vector<Outgoing> Feed(Side from, const std::vector<uint8_t>& frame) {
    std::vector<Outgoing> out;
    censor_->OnFrame(from, frame, now_, &out);
    return out;
  }
  // SYN / SYN-ACK / ACK, all of which must pass untouched.
  void Handshake(uint16_t cport) {
    for (auto [side, frame] :
         {std::pair{Side::kClient, TcpFrame(true, cport, kClientIsn, 0, Tins::TCP::SYN)},
          std::pair{Side::kServer, TcpFrame(false, cport, kServerIsn, kClientIsn + 1,
                                            Tins::TCP::SYN | Tins::TCP::ACK)},
          std::pair{Side::kClient,
                    TcpFrame(true, cport, kClientIsn + 1, kServerIsn + 1, Tins::TCP::ACK)}}) {
      auto out = Feed(side, frame);
      ASSERT_EQ(out.size(), 1u);
      EXPECT_EQ(out[0].to, side == Side::kClient ? Side::kServer : Side::kClient);
      EXPECT_EQ(out[0].frame, frame);
    }
  }
  std::vector<Outgoing> SendClientHello(uint16_t cport, const std::string& sni) {
    return Feed(Side::kClient, TcpFrame(true, cport, kClientIsn + 1, kServerIsn + 1,
                                        Tins::TCP::PSH | Tins::TCP::ACK, ClientHello(sni)));
  }
  static std::vector<Outgoing> To(const std::vector<Outgoing>& out, Side side) {
    std::vector<Outgoing> v;
    for (const auto& o : out) {
      if (o.to == side) v.push_back(o);
    }
    return v;
  }

  VectorSink truth_;
  Clock now_{1'000'000'000'000, 1700000000.0};
  std::unique_ptr<Censor> censor_;
};

struct Rst {
  uint8_t flags;
  bool df;
  uint16_t id;
  uint8_t ttl;
  uint32_t seq, ack;
  std::string payload;
  std::string src;
};

Rst ParseRst(const Outgoing& o) {
  Tins::EthernetII eth(o.frame.data(), static_cast<uint32_t>(o.frame.size()));
  const auto& ip = eth.rfind_pdu<Tins::IP>();
  const auto& tcp = eth.rfind_pdu<Tins::TCP>();
  std::string payload;
  if (const auto* raw = eth.find_pdu<Tins::RawPDU>()) {
    payload.assign(raw->payload().begin(), raw->payload().end());
  }
  return {static_cast<uint8_t>(tcp.flags()),
          ip.flags() == Tins::IP::DONT_FRAGMENT,
          ip.id(),
          ip.ttl(),
          tcp.seq(),
          tcp.ack_seq(),
          payload,
          ip.src_addr().to_string()};
}

TEST_F(Engine, CleanScenarioForwardsEverythingUnchanged) {
  Init("      []\n");
  Handshake(40000);
  auto out = SendClientHello(40000, "web.telegram.org");
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].to, Side::kServer);
  EXPECT_EQ(truth_.lines.size(), 1u);  // just phase_start
  EXPECT_EQ(truth_.lines[0]["event"], "phase_start");
}

TEST_F(Engine, LabSettingsAreRecordedAtTheStart) {
  ScenarioLoad load = ParseScenario(
      "name: f\nservers: {failing: [archive.org, {name: citizenlab.ca, mode: tcp_reset}]}\n"
      "phases: [{start: 0s}]\n",
      "f.yaml", ".");
  ASSERT_TRUE(load.scenario) << load.errors[0];
  censor_ = std::make_unique<Censor>(*load.scenario, &truth_, 1);
  censor_->Start(now_);
  ASSERT_EQ(truth_.lines.size(), 2u);
  EXPECT_EQ(truth_.lines[0]["event"], "lab_settings");
  EXPECT_EQ(truth_.lines[0]["servers"]["failing"],
            nlohmann::json::parse(R"([{"name":"archive.org","mode":"http_503"},
                                      {"name":"citizenlab.ca","mode":"tcp_reset"}])"));
  EXPECT_EQ(truth_.lines[0]["keep_resolver_cache"], false);
  EXPECT_EQ(truth_.lines[1]["event"], "phase_start");

  truth_.lines.clear();
  load =
      ParseScenario("name: k\nkeep_resolver_cache: true\nphases: [{start: 0s}]\n", "k.yaml", ".");
  ASSERT_TRUE(load.scenario) << load.errors[0];
  censor_ = std::make_unique<Censor>(*load.scenario, &truth_, 1);
  censor_->Start(now_);
  ASSERT_EQ(truth_.lines.size(), 2u);
  EXPECT_EQ(truth_.lines[0]["keep_resolver_cache"], true);
  EXPECT_EQ(truth_.lines[0]["servers"]["failing"], nlohmann::json::array());
}

TEST_F(Engine, Gfw2SendsThreeIdenticalRstAcksToBothSides) {
  Init("      - {id: r, match: {sni: {suffix: [whatsapp.net]}}, action: rst_inject, type: gfw2}\n");
  Handshake(40000);
  std::string hello = ClientHello("mmg.whatsapp.net");
  auto out = SendClientHello(40000, "mmg.whatsapp.net");
  auto to_client = To(out, Side::kClient);
  auto to_server = To(out, Side::kServer);
  ASSERT_EQ(to_client.size(), 3u);
  ASSERT_EQ(to_server.size(), 3u);  // and no forwarded ClientHello among them
  std::set<uint16_t> ids;
  for (const auto& o : to_client) {
    Rst r = ParseRst(o);
    EXPECT_EQ(r.flags, Tins::TCP::RST | Tins::TCP::ACK);
    EXPECT_TRUE(r.df);
    EXPECT_EQ(r.src, kServer);
    EXPECT_EQ(r.seq, kServerIsn + 1);
    EXPECT_EQ(r.ack, kClientIsn + 1 + hello.size());
    EXPECT_EQ(r.ttl, ParseRst(to_client[0]).ttl);
    ids.insert(r.id);
  }
  EXPECT_GE(ids.size(), 2u);  // varying IP IDs
  for (const auto& o : to_server) {
    Rst r = ParseRst(o);
    EXPECT_EQ(r.src, kClient);
    EXPECT_EQ(r.seq, kClientIsn + 1);  // the dropped trigger's own sequence number
  }
  ASSERT_EQ(truth_.lines.size(), 2u);
  EXPECT_EQ(truth_.lines[1]["rule"], "r");
  EXPECT_EQ(truth_.lines[1]["action"], "rst_inject");
  EXPECT_EQ(truth_.lines[1]["detail"]["rst_type"], "gfw2");
  EXPECT_EQ(truth_.lines[1]["detail"]["sni"], "mmg.whatsapp.net");
  EXPECT_EQ(truth_.lines[1]["flow"]["src"], kClient);
  EXPECT_EQ(truth_.lines[1]["flow"]["dport"], 443);
  // The flow is dead: the retransmitted ClientHello vanishes.
  EXPECT_TRUE(SendClientHello(40000, "mmg.whatsapp.net").empty());
}

TEST_F(Engine, Gfw1SendsOneBareRstWithIpIdZero) {
  Init("      - {id: r, match: {sni: {exact: [telegram.org]}}, action: rst_inject, type: gfw1}\n");
  Handshake(40000);
  auto out = SendClientHello(40000, "Telegram.org");
  ASSERT_EQ(To(out, Side::kClient).size(), 1u);
  ASSERT_EQ(To(out, Side::kServer).size(), 1u);
  Rst r = ParseRst(To(out, Side::kClient)[0]);
  EXPECT_EQ(r.flags, Tins::TCP::RST);
  EXPECT_FALSE(r.df);
  EXPECT_EQ(r.id, 0);
  EXPECT_GE(r.ttl, 55);
  EXPECT_LE(r.ttl, 118);
  EXPECT_EQ(r.seq, kServerIsn + 1);
}

TEST_F(Engine, Gfw3UsesItsIpIdRangeAndTtl248) {
  Init("      - {id: r, match: {sni: {suffix: [signal.org]}}, action: rst_inject, type: gfw3}\n");
  Handshake(40000);
  auto out = SendClientHello(40000, "chat.signal.org");
  ASSERT_EQ(To(out, Side::kClient).size(), 1u);
  Rst r = ParseRst(To(out, Side::kClient)[0]);
  EXPECT_EQ(r.flags, Tins::TCP::RST | Tins::TCP::ACK);
  EXPECT_GE(r.id, 0x9916);
  EXPECT_LE(r.id, 0x9933);
  EXPECT_EQ(r.ttl, 248);
}

TEST_F(Engine, HenanSendsPayloadToTheClientOnly) {
  Init(
      "      - {id: r, match: {sni: {suffix: [facebook.com]}}, action: rst_inject, type: henan}\n");
  Handshake(40000);
  auto out = SendClientHello(40000, "www.facebook.com");
  ASSERT_EQ(out.size(), 1u);
  Rst r = ParseRst(out[0]);
  EXPECT_EQ(out[0].to, Side::kClient);
  EXPECT_EQ(r.flags, Tins::TCP::RST | Tins::TCP::ACK);
  EXPECT_EQ(r.id, 1);
  EXPECT_EQ(r.payload, std::string("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x00", 10));
}

TEST_F(Engine, OtherNamesPass) {
  Init("      - {id: r, match: {sni: {suffix: [whatsapp.net]}}, action: rst_inject, type: gfw2}\n");
  Handshake(40000);
  auto out = SendClientHello(40000, "notwhatsapp.net");
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].to, Side::kServer);
}

TEST_F(Engine, FragmentedClientHelloTriggersOnTheSecondSegment) {
  Init("      - {id: r, match: {sni: {suffix: [telegram.org]}}, action: rst_inject, type: gfw1}\n");
  Handshake(40000);
  std::string hello = ClientHello("web.telegram.org");
  std::string a = hello.substr(0, 60), b = hello.substr(60);
  auto first =
      Feed(Side::kClient, TcpFrame(true, 40000, kClientIsn + 1, kServerIsn + 1, Tins::TCP::ACK, a));
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].to, Side::kServer);
  auto second = Feed(Side::kClient, TcpFrame(true, 40000, kClientIsn + 1 + 60, kServerIsn + 1,
                                             Tins::TCP::PSH | Tins::TCP::ACK, b));
  ASSERT_EQ(To(second, Side::kClient).size(), 1u);
  Rst r = ParseRst(To(second, Side::kClient)[0]);
  EXPECT_EQ(r.ack, kClientIsn + 1 + hello.size());
  EXPECT_EQ(ParseRst(To(second, Side::kServer)[0]).seq, kClientIsn + 1 + 60);
}

TEST_F(Engine, OnPathRstLetsTheTriggerThroughAndTheServersReplyFollows) {
  Init(R"(      - id: r
        match: {sni: {suffix: [whatsapp.net]}}
        action: rst_inject
        type: gfw1
        trigger: pass
)");
  Handshake(40000);
  std::string hello = ClientHello("mmg.whatsapp.net");
  auto trigger =
      TcpFrame(true, 40000, kClientIsn + 1, kServerIsn + 1, Tins::TCP::PSH | Tins::TCP::ACK, hello);
  auto out = Feed(Side::kClient, trigger);
  auto to_client = To(out, Side::kClient);
  auto to_server = To(out, Side::kServer);
  ASSERT_EQ(to_client.size(), 1u);
  ASSERT_EQ(to_server.size(), 2u);
  EXPECT_EQ(to_server[0].frame, trigger) << "the ClientHello reaches the server first";
  Rst to_srv = ParseRst(to_server[1]);
  EXPECT_TRUE(to_srv.flags & Tins::TCP::RST);
  EXPECT_EQ(to_srv.seq, kClientIsn + 1 + hello.size()) << "in window after the trigger";
  EXPECT_EQ(ParseRst(to_client[0]).seq, kServerIsn + 1);
  EXPECT_EQ(truth_.lines.back()["detail"]["trigger"], "pass");
  // The flow lives on: the server's genuine reply races the RST to the client, and
  // the rule does not fire again on the same flow.
  auto reply = TcpFrame(false, 40000, kServerIsn + 1, kClientIsn + 1 + hello.size(),
                        Tins::TCP::PSH | Tins::TCP::ACK, "server hello");
  auto down = Feed(Side::kServer, reply);
  ASSERT_EQ(down.size(), 1u);
  EXPECT_EQ(down[0].frame, reply);
  auto again = Feed(Side::kClient, TcpFrame(true, 40000, kClientIsn + 1 + hello.size(),
                                            kServerIsn + 13, Tins::TCP::ACK, "more"));
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].to, Side::kServer);
  EXPECT_EQ(truth_.lines.size(), 2u);
}

TEST_F(Engine, OnPathBlockPageRacesTheServersResponse) {
  Init(R"(      - id: page
        match: {http_host: {suffix: [telegram.org]}}
        action: http_blockpage
        body: "<h1>blocked</h1>"
        trigger: pass
)");
  Handshake(40000);
  std::string request = "GET / HTTP/1.1\r\nHost: web.telegram.org\r\n\r\n";
  auto trigger = TcpFrame(true, 40000, kClientIsn + 1, kServerIsn + 1,
                          Tins::TCP::PSH | Tins::TCP::ACK, request, 80);
  auto out = Feed(Side::kClient, trigger);
  auto to_client = To(out, Side::kClient);
  ASSERT_EQ(to_client.size(), 2u);  // the page, then its RST
  EXPECT_TRUE(ParseRst(to_client[0]).payload.starts_with("HTTP/1.1 403 Forbidden\r\n"));
  auto to_server = To(out, Side::kServer);
  ASSERT_EQ(to_server.size(), 1u) << "the request, and no RST to the server";
  EXPECT_EQ(to_server[0].frame, trigger);
  EXPECT_EQ(truth_.lines.back()["detail"]["trigger"], "pass");
  auto response =
      Feed(Side::kServer, TcpFrame(false, 40000, kServerIsn + 1, kClientIsn + 1 + request.size(),
                                   Tins::TCP::PSH | Tins::TCP::ACK, "HTTP/1.1 200 OK\r\n\r\n", 80));
  ASSERT_EQ(response.size(), 1u);
  EXPECT_EQ(response[0].to, Side::kClient);
}

TEST_F(Engine, WithoutReassemblyASplitClientHelloPassesAndAWholeOneDoesNot) {
  Init(R"(      - id: r
        match: {sni: {suffix: [telegram.org]}}
        action: rst_inject
        type: gfw1
        reassemble: false
)");
  Handshake(40000);
  std::string hello = ClientHello("web.telegram.org");
  std::string a = hello.substr(0, 60), b = hello.substr(60);
  auto first =
      Feed(Side::kClient, TcpFrame(true, 40000, kClientIsn + 1, kServerIsn + 1, Tins::TCP::ACK, a));
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].to, Side::kServer);
  auto second = Feed(Side::kClient, TcpFrame(true, 40000, kClientIsn + 1 + 60, kServerIsn + 1,
                                             Tins::TCP::PSH | Tins::TCP::ACK, b));
  ASSERT_EQ(second.size(), 1u) << "the completing segment passes too";
  EXPECT_EQ(second[0].to, Side::kServer);
  EXPECT_EQ(truth_.lines.size(), 1u);
  // The same ClientHello in one segment is caught.
  Handshake(40001);
  auto whole = SendClientHello(40001, "web.telegram.org");
  ASSERT_EQ(To(whole, Side::kClient).size(), 1u);
  ASSERT_EQ(truth_.lines.size(), 2u);
  EXPECT_EQ(truth_.lines[1]["detail"]["reassemble"], false);
}

// A TLS record of `type` with `n` bytes of body.
std::string Record(uint8_t type, size_t n) {
  return std::string{static_cast<char>(type), 3, 3, static_cast<char>(n >> 8),
                     static_cast<char>(n)} +
         std::string(n, 'x');
}

TEST_F(Engine, RstAtAppDataWaitsForTheHandshakeToComplete) {
  Init(R"(      - id: late
        match: {sni: {suffix: [whatsapp.net]}}
        action: rst_inject
        type: gfw1
        at: app_data
)");
  Handshake(40000);
  std::string hello = ClientHello("mmg.whatsapp.net");
  auto out = SendClientHello(40000, "mmg.whatsapp.net");
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].to, Side::kServer) << "the ClientHello passes";
  uint32_t seq = kClientIsn + 1 + static_cast<uint32_t>(hello.size());
  auto server_hello = Feed(
      Side::kServer, TcpFrame(false, 40000, kServerIsn + 1, seq, Tins::TCP::PSH | Tins::TCP::ACK,
                              Record(22, 90) + Record(20, 1) + Record(23, 900)));
  ASSERT_EQ(server_hello.size(), 1u);
  EXPECT_EQ(server_hello[0].to, Side::kClient);
  // TLS 1.3 in compatibility mode: ChangeCipherSpec and the encrypted Finished...
  std::string finished = Record(20, 1) + Record(23, 53);
  auto fin = Feed(Side::kClient, TcpFrame(true, 40000, seq, kServerIsn + 1008,
                                          Tins::TCP::PSH | Tins::TCP::ACK, finished));
  ASSERT_EQ(fin.size(), 1u);
  EXPECT_EQ(fin[0].to, Side::kServer) << "the handshake completes";
  seq += static_cast<uint32_t>(finished.size());
  // ...then the request, the first application data: reset.
  auto data = Feed(Side::kClient, TcpFrame(true, 40000, seq, kServerIsn + 1008,
                                           Tins::TCP::PSH | Tins::TCP::ACK, Record(23, 80)));
  ASSERT_EQ(To(data, Side::kClient).size(), 1u);
  ASSERT_EQ(To(data, Side::kServer).size(), 1u);
  Rst to_client = ParseRst(To(data, Side::kClient)[0]);
  EXPECT_EQ(to_client.seq, kServerIsn + 1008);
  EXPECT_EQ(to_client.ack, seq + 85);
  EXPECT_EQ(ParseRst(To(data, Side::kServer)[0]).seq, seq) << "the request was dropped";
  ASSERT_EQ(truth_.lines.size(), 2u);
  EXPECT_EQ(truth_.lines[1]["detail"]["at"], "app_data");
  EXPECT_EQ(truth_.lines[1]["detail"]["sni"], "mmg.whatsapp.net");
}

TEST_F(Engine, ARstToTheClientFollowsTheServerBytesItAlreadySent) {
  Init(R"(      - id: late
        match: {sni: {suffix: [whatsapp.net]}}
        action: rst_inject
        type: gfw1
        at: app_data
)");
  Handshake(40000);
  std::string hello = ClientHello("mmg.whatsapp.net");
  SendClientHello(40000, "mmg.whatsapp.net");
  uint32_t seq = kClientIsn + 1 + static_cast<uint32_t>(hello.size());
  Feed(Side::kServer, TcpFrame(false, 40000, kServerIsn + 1, seq, Tins::TCP::PSH | Tins::TCP::ACK,
                               Record(22, 90) + Record(20, 1) + Record(23, 900)));
  std::string finished = Record(20, 1) + Record(23, 53);
  Feed(Side::kClient,
       TcpFrame(true, 40000, seq, kServerIsn + 1008, Tins::TCP::PSH | Tins::TCP::ACK, finished));
  seq += static_cast<uint32_t>(finished.size());
  // TLS 1.3's session ticket, sent after the client's Finished: the client reads it
  // before its request is acknowledged, so the request still acks kServerIsn + 1008.
  Feed(Side::kServer, TcpFrame(false, 40000, kServerIsn + 1008, seq,
                               Tins::TCP::PSH | Tins::TCP::ACK, Record(23, 200)));
  auto data = Feed(Side::kClient, TcpFrame(true, 40000, seq, kServerIsn + 1008,
                                           Tins::TCP::PSH | Tins::TCP::ACK, Record(23, 80)));
  ASSERT_EQ(To(data, Side::kClient).size(), 1u);
  // The client's next expected byte is after the ticket: any other seq it would drop.
  EXPECT_EQ(ParseRst(To(data, Side::kClient)[0]).seq, kServerIsn + 1008 + 205);
}

TEST_F(Engine, DropAtAppDataFindsTls12RecordsSplitAcrossSegments) {
  Init(R"(      - {id: hole, match: {sni: {exact: [signal.org]}}, action: drop, at: app_data}
)");
  Handshake(40000);
  std::string hello = ClientHello("signal.org");
  // TLS 1.2: ClientKeyExchange, ChangeCipherSpec, Finished, then application data,
  // cut at awkward places (inside a record header, inside a body).
  std::string stream = hello + Record(22, 70) + Record(20, 1) + Record(22, 40);
  const size_t data_at = stream.size();
  stream += Record(23, 100);
  uint32_t seq = kClientIsn + 1;
  std::vector<std::pair<size_t, size_t>> cuts = {
      {0, hello.size()}, {hello.size(), 3}, {hello.size() + 3, 80}, {hello.size() + 83, 0}};
  cuts.back().second = data_at + 2 - cuts.back().first;  // ends inside the data's header
  for (auto [from, n] : cuts) {
    auto out = Feed(Side::kClient, TcpFrame(true, 40000, seq, kServerIsn + 1, Tins::TCP::ACK,
                                            stream.substr(from, n)));
    ASSERT_EQ(out.size(), 1u) << "at " << from;
    EXPECT_EQ(out[0].to, Side::kServer);
    seq += static_cast<uint32_t>(n);
  }
  // The segment that completes the data record's header: dropped, and so is the rest.
  auto rest = Feed(Side::kClient, TcpFrame(true, 40000, seq, kServerIsn + 1, Tins::TCP::ACK,
                                           stream.substr(data_at + 2)));
  EXPECT_TRUE(rest.empty());
  EXPECT_TRUE(
      Feed(Side::kServer, TcpFrame(false, 40000, kServerIsn + 1, seq, Tins::TCP::ACK, "late"))
          .empty());
  ASSERT_EQ(truth_.lines.size(), 2u);
  EXPECT_EQ(truth_.lines[1]["action"], "drop");
  EXPECT_EQ(truth_.lines[1]["detail"]["at"], "app_data");
}

TEST_F(Engine, RstAtResponseLetsTheRequestThroughAndResetsTheReply) {
  Init(R"(      - id: reply
        match: {http_host: {suffix: [telegram.org]}}
        action: rst_inject
        type: gfw1
        at: response
        residual: {seconds: 5}
)");
  Handshake(40000);
  std::string request = "GET / HTTP/1.1\r\nHost: web.telegram.org\r\n\r\n";
  const uint32_t after = kClientIsn + 1 + static_cast<uint32_t>(request.size());
  auto req = Feed(Side::kClient, TcpFrame(true, 40000, kClientIsn + 1, kServerIsn + 1,
                                          Tins::TCP::PSH | Tins::TCP::ACK, request));
  ASSERT_EQ(req.size(), 1u);
  EXPECT_EQ(req[0].to, Side::kServer);
  auto ack = Feed(Side::kServer, TcpFrame(false, 40000, kServerIsn + 1, after, Tins::TCP::ACK));
  ASSERT_EQ(ack.size(), 1u) << "a bare ACK is no response";
  auto reply =
      Feed(Side::kServer, TcpFrame(false, 40000, kServerIsn + 1, after,
                                   Tins::TCP::PSH | Tins::TCP::ACK, "HTTP/1.1 200 OK\r\n"));
  auto to_client = To(reply, Side::kClient);
  auto to_server = To(reply, Side::kServer);
  ASSERT_EQ(to_client.size(), 1u) << "the RST, not the response";
  ASSERT_EQ(to_server.size(), 1u);
  Rst c = ParseRst(to_client[0]);
  EXPECT_TRUE(c.flags & Tins::TCP::RST);
  EXPECT_EQ(c.src, kServer);
  EXPECT_EQ(c.seq, kServerIsn + 1) << "where the dropped response began";
  Rst srv = ParseRst(to_server[0]);
  EXPECT_EQ(srv.src, kClient);
  EXPECT_EQ(srv.seq, after) << "the client's next sequence number";
  ASSERT_EQ(truth_.lines.size(), 2u);
  EXPECT_EQ(truth_.lines[1]["detail"]["at"], "response");
  EXPECT_EQ(truth_.lines[1]["flow"]["src"], kClient);
  EXPECT_EQ(truth_.lines[1]["detail"]["residual_seconds"], 5);
  // The residual block holds the client's next connection to the same server port.
  auto syn = Feed(Side::kClient, TcpFrame(true, 40001, 5, 0, Tins::TCP::SYN));
  ASSERT_EQ(syn.size(), 1u);
  EXPECT_EQ(syn[0].to, Side::kClient);
}

TEST_F(Engine, HttpHostDrawsABlockPageThenRst) {
  Init(R"(      - id: page
        match: {http_host: {suffix: [telegram.org]}, http_path: {prefix: [/]}}
        action: http_blockpage
        body: "<h1>blocked</h1>"
)");
  Handshake(40000);
  std::string request = "GET /dl HTTP/1.1\r\nHost: Telegram.ORG:80\r\nUser-Agent: x\r\n\r\n";
  auto out = Feed(Side::kClient, TcpFrame(true, 40000, kClientIsn + 1, kServerIsn + 1,
                                          Tins::TCP::PSH | Tins::TCP::ACK, request, 80));
  auto to_client = To(out, Side::kClient);
  ASSERT_EQ(to_client.size(), 2u);
  Rst page = ParseRst(to_client[0]);
  EXPECT_EQ(page.seq, kServerIsn + 1);
  EXPECT_EQ(page.ack, kClientIsn + 1 + request.size());
  EXPECT_TRUE(page.payload.starts_with("HTTP/1.1 403 Forbidden\r\n")) << page.payload;
  EXPECT_TRUE(page.payload.ends_with("\r\n\r\n<h1>blocked</h1>"));
  Rst rst = ParseRst(to_client[1]);
  EXPECT_TRUE(rst.flags & Tins::TCP::RST);
  EXPECT_EQ(rst.seq, kServerIsn + 1 + page.payload.size());
  ASSERT_EQ(To(out, Side::kServer).size(), 1u);
  EXPECT_EQ(truth_.lines.back()["detail"]["host"], "telegram.org");
  EXPECT_EQ(truth_.lines.back()["detail"]["path"], "/dl");
}

// The one's-complement sum of `data` (with `sum` folded in first) is 0xffff when a
// checksum inside it is right.
uint16_t OnesSum(const std::vector<uint8_t>& data, uint32_t sum = 0) {
  for (size_t i = 0; i + 1 < data.size(); i += 2)
    sum += static_cast<uint32_t>(data[i] << 8 | data[i + 1]);
  if (data.size() % 2) sum += static_cast<uint32_t>(data.back() << 8);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}

TEST_F(Engine, IcmpUnreachableAnswersTheMatchedPacketInsteadOfForwardingIt) {
  Init(R"(      - {id: admin, match: {dst_port: 443}, action: icmp_unreachable, unreachable: admin}
      - id: host
        match: {dst_port: 80}
        action: icmp_unreachable
        unreachable: host
        from: 198.18.11.2
      - {id: port, match: {proto: udp}, action: icmp_unreachable, unreachable: port,
         from: [198.18.11.2, "fd00:11::2"]}
)");
  auto syn = TcpFrame(true, 40000, kClientIsn, 0, Tins::TCP::SYN);
  auto out = Feed(Side::kClient, syn);
  ASSERT_EQ(out.size(), 1u) << "the SYN is not forwarded";
  EXPECT_EQ(out[0].to, Side::kClient);
  const std::vector<uint8_t>& f = out[0].frame;
  ASSERT_GE(f.size(), 34u + 8 + 28);
  EXPECT_EQ(f[14 + 9], 1) << "IP protocol ICMP";
  Tins::EthernetII eth(f.data(), static_cast<uint32_t>(f.size()));
  EXPECT_EQ(eth.rfind_pdu<Tins::IP>().src_addr().to_string(), kServer);
  EXPECT_EQ(eth.rfind_pdu<Tins::IP>().dst_addr().to_string(), kClient);
  EXPECT_EQ(f[34], 3);   // destination unreachable
  EXPECT_EQ(f[35], 13);  // administratively prohibited
  std::vector<uint8_t> icmp(f.begin() + 34, f.end());
  EXPECT_EQ(OnesSum(icmp), 0xffff) << "ICMP checksum";
  // The quote is the start of the SYN's IP packet (at least its header and the TCP
  // ports and sequence number), byte for byte.
  const size_t quoted = icmp.size() - 8;
  ASSERT_GE(quoted, 28u);
  ASSERT_LE(quoted, syn.size() - 14);
  EXPECT_TRUE(std::equal(icmp.begin() + 8, icmp.end(), syn.begin() + 14));
  ASSERT_EQ(truth_.lines.size(), 2u);
  EXPECT_EQ(truth_.lines[1]["action"], "icmp_unreachable");
  EXPECT_EQ(truth_.lines[1]["detail"]["unreachable"], "admin");
  EXPECT_EQ(truth_.lines[1]["detail"]["icmp_type"], 3);
  EXPECT_EQ(truth_.lines[1]["detail"]["icmp_code"], 13);
  EXPECT_EQ(truth_.lines[1]["detail"]["from"], kServer);
  // Each retransmission draws the error again.
  EXPECT_EQ(Feed(Side::kClient, syn).size(), 1u);

  auto host = Feed(Side::kClient, TcpFrame(true, 40001, kClientIsn, 0, Tins::TCP::SYN, "", 80));
  ASSERT_EQ(host.size(), 1u);
  EXPECT_EQ(host[0].frame[35], 1) << "host unreachable";
  Tins::EthernetII heth(host[0].frame.data(), static_cast<uint32_t>(host[0].frame.size()));
  EXPECT_EQ(heth.rfind_pdu<Tins::IP>().src_addr().to_string(), "198.18.11.2");

  // IPv6: ICMPv6 port unreachable (type 1 code 4), checksummed over the pseudo-header.
  Tins::EthernetII q6{Tins::HWAddress<6>(kServerMac), Tins::HWAddress<6>(kClientMac)};
  q6 /= Tins::IPv6("fd00:20::53", "fd00:1::10") / Tins::UDP(53, 40000) /
        Tins::RawPDU(std::string("query"));
  auto v6 = Feed(Side::kClient, q6.serialize());
  ASSERT_EQ(v6.size(), 1u);
  const std::vector<uint8_t>& g = v6[0].frame;
  ASSERT_GE(g.size(), 54u + 8);
  EXPECT_EQ(g[14 + 6], 58) << "next header ICMPv6";
  EXPECT_EQ(g[54], 1);
  EXPECT_EQ(g[55], 4);
  Tins::EthernetII geth(g.data(), static_cast<uint32_t>(g.size()));
  EXPECT_EQ(geth.rfind_pdu<Tins::IPv6>().src_addr().to_string(), "fd00:11::2");
  std::vector<uint8_t> pseudo(g.begin() + 22, g.begin() + 54);  // source and destination
  const size_t len = g.size() - 54;
  pseudo.insert(pseudo.end(),
                {0, 0, static_cast<uint8_t>(len >> 8), static_cast<uint8_t>(len), 0, 0, 0, 58});
  pseudo.insert(pseudo.end(), g.begin() + 54, g.end());
  EXPECT_EQ(OnesSum(pseudo), 0xffff) << "ICMPv6 checksum";
}

TEST_F(Engine, RedirectBlockPageCarriesItsLocation) {
  Init(R"(      - id: redirect
        match: {http_host: {exact: [www.minghui.org]}}
        action: http_blockpage
        location: "http://198.18.240.34/?type=Invalid%20Site&policy=MainPolicy"
        then: fin
)");
  Handshake(40000);
  std::string request = "GET / HTTP/1.1\r\nHost: www.minghui.org\r\n\r\n";
  auto out = Feed(Side::kClient, TcpFrame(true, 40000, kClientIsn + 1, kServerIsn + 1,
                                          Tins::TCP::PSH | Tins::TCP::ACK, request, 80));
  auto to_client = To(out, Side::kClient);
  ASSERT_EQ(to_client.size(), 2u);
  EXPECT_EQ(ParseRst(to_client[0]).payload,
            "HTTP/1.1 302 Found\r\n"
            "Location: http://198.18.240.34/?type=Invalid%20Site&policy=MainPolicy\r\n"
            "Content-Type: text/html; charset=utf-8\r\nContent-Length: 0\r\n"
            "Connection: close\r\n\r\n");
  EXPECT_EQ(ParseRst(to_client[1]).flags, Tins::TCP::FIN | Tins::TCP::ACK);
  const nlohmann::json& d = truth_.lines.back()["detail"];
  EXPECT_EQ(d["status"], 302);
  EXPECT_EQ(d["location"], "http://198.18.240.34/?type=Invalid%20Site&policy=MainPolicy");
  EXPECT_EQ(d["body_bytes"], 0);
}

TEST_F(Engine, KeywordCombinationDropsOnlyTheCompletingMessage) {
  Init(R"(      - id: kw
        match: {keywords: [falun, [tiananmen, "1989"]]}
        action: keyword_drop
)");
  Handshake(40000);
  uint32_t seq = kClientIsn + 1;
  auto send = [&](const std::string& msg) {
    auto out = Feed(Side::kClient, TcpFrame(true, 40000, seq, kServerIsn + 1,
                                            Tins::TCP::PSH | Tins::TCP::ACK, msg, 8080));
    seq += static_cast<uint32_t>(msg.size());
    return out;
  };
  auto a = send("remember tiananmen");  // one word alone passes
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].to, Side::kServer);
  auto b = send("in 1989!");  // completes the combination: dropped, ACKed to the client
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].to, Side::kClient);
  Rst ack = ParseRst(b[0]);
  EXPECT_EQ(ack.flags, Tins::TCP::ACK);
  EXPECT_EQ(ack.ack, seq);
  auto c = send("hello");  // the flow continues, renumbered to close the gap
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].to, Side::kServer);
  EXPECT_EQ(ParseRst(c[0]).seq, seq - 5 - 8);
  // The server's ACK of the renumbered bytes is mapped back for the client.
  auto d = Feed(Side::kServer,
                TcpFrame(false, 40000, kServerIsn + 1, seq - 8, Tins::TCP::ACK, "", 8080));
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(ParseRst(d[0]).ack, seq);
  auto e = send("falun");  // a single keyword
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].to, Side::kClient);
  ASSERT_EQ(truth_.lines.size(), 3u);
  EXPECT_EQ(truth_.lines[1]["detail"]["keywords"], nlohmann::json({"tiananmen", "1989"}));
  EXPECT_EQ(truth_.lines[2]["detail"]["keywords"], nlohmann::json({"falun"}));
}

TEST_F(Engine, KeywordSplitAcrossSegmentsIsFound) {
  Init("      - {id: kw, match: {keywords: [falungong]}, action: keyword_drop}\n");
  Handshake(40000);
  auto a = Feed(Side::kClient,
                TcpFrame(true, 40000, kClientIsn + 1, kServerIsn + 1, Tins::TCP::ACK, "xx falu"));
  EXPECT_EQ(a[0].to, Side::kServer);
  auto b = Feed(Side::kClient,
                TcpFrame(true, 40000, kClientIsn + 8, kServerIsn + 1, Tins::TCP::ACK, "ngong yy"));
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].to, Side::kClient);
}

Tins::DNS ParseDns(const Outgoing& o, Tins::IP* ip_out = nullptr) {
  Tins::EthernetII eth(o.frame.data(), static_cast<uint32_t>(o.frame.size()));
  if (ip_out != nullptr) *ip_out = eth.rfind_pdu<Tins::IP>();
  const auto& raw = eth.rfind_pdu<Tins::RawPDU>();
  return Tins::DNS(raw.payload().data(), static_cast<uint32_t>(raw.payload().size()));
}

TEST_F(Engine, AnyActionOnAQueryNamesTheQueryInTheTruth) {
  Init(R"(      - id: port
        match: {dns_qname: {suffix: [telegram.org]}}
        action: icmp_unreachable
        unreachable: port
)");
  auto out = Feed(Side::kClient, DnsQueryFrame("web.telegram.org", Tins::DNS::A));
  ASSERT_EQ(To(out, Side::kServer).size(), 0u) << "answered, not forwarded";
  ASSERT_FALSE(truth_.lines.empty());
  EXPECT_EQ(truth_.lines.back()["action"], "icmp_unreachable");
  EXPECT_EQ(truth_.lines.back()["detail"]["qname"], "web.telegram.org");
}

TEST_F(Engine, DnsInjectForgesCopiesAndStillForwardsTheQuery) {
  Init(R"(      - id: dns
        match: {dns_qname: {suffix: [whatsapp.net]}}
        action: dns_inject
        pool: [198.18.240.1, 198.18.240.2, 198.18.240.3]
        copies: 2
        ip_ttl: 99
        ip_id: 7
        df: true
        answer_ttl: 173
)");
  auto out = Feed(Side::kClient, DnsQueryFrame("e3.whatsapp.net", Tins::DNS::A));
  auto forged = To(out, Side::kClient);
  ASSERT_EQ(forged.size(), 2u);
  ASSERT_EQ(To(out, Side::kServer).size(), 1u);
  std::set<std::string> answers;
  for (const auto& o : forged) {
    Tins::IP ip;
    Tins::DNS dns = ParseDns(o, &ip);
    EXPECT_EQ(ip.src_addr().to_string(), "198.18.20.53");
    EXPECT_EQ(ip.ttl(), 99);
    EXPECT_EQ(ip.id(), 7);
    EXPECT_EQ(ip.flags(), Tins::IP::DONT_FRAGMENT);
    EXPECT_EQ(dns.id(), 0x1234);
    EXPECT_EQ(dns.answers_count(), 1);
    EXPECT_EQ(dns.answers()[0].ttl(), 173u);
    answers.insert(dns.answers()[0].data());
  }
  EXPECT_EQ(answers.size(), 2u);  // one pool address per copy
  for (const auto& a : answers) EXPECT_TRUE(a.starts_with("198.18.240.")) << a;
  // Deterministic: the same name draws the same forged addresses again.
  auto again =
      To(Feed(Side::kClient, DnsQueryFrame("e3.whatsapp.net", Tins::DNS::A)), Side::kClient);
  EXPECT_EQ(ParseDns(again[0]).answers()[0].data(), ParseDns(forged[0]).answers()[0].data());
  EXPECT_EQ(truth_.lines.back()["detail"]["qname"], "e3.whatsapp.net");
  EXPECT_EQ(truth_.lines.back()["detail"]["answers"].size(), 2u);
}

TEST_F(Engine, DelayedDnsForgeriesLeaveAfterTheQueryAndEachCopyHasItsFingerprint) {
  Init(R"(      - id: late
        match: {dns_qname: {suffix: [whatsapp.net]}}
        action: dns_inject
        pool: [198.18.240.1, 198.18.240.2, 198.18.240.3]
        delay_ms: 300
        copies:
          - {ip_ttl: 57, ip_id: 0, dns_flags: 0x8180, answer_ttl: 60}
          - {ip_ttl: 231, ip_id: random, df: true, dns_flags: 0x8580}
          - {copy_ttl: true, ip_id: 0x9916, dns_flags: 0x8400, delay_ms: 320}
)");
  auto out = Feed(Side::kClient, DnsQueryFrame("e1.whatsapp.net", Tins::DNS::A, 61));
  auto query = To(out, Side::kServer);
  ASSERT_EQ(query.size(), 1u);
  EXPECT_LE(query[0].at_ns, now_.mono_ns) << "the query passes at once";
  auto forged = To(out, Side::kClient);
  ASSERT_EQ(forged.size(), 3u);
  EXPECT_EQ(forged[0].at_ns, now_.mono_ns + 300'000'000);
  EXPECT_EQ(forged[1].at_ns, now_.mono_ns + 300'000'000);
  EXPECT_EQ(forged[2].at_ns, now_.mono_ns + 320'000'000);
  Tins::IP ip[3];
  Tins::DNS dns[3] = {ParseDns(forged[0], &ip[0]), ParseDns(forged[1], &ip[1]),
                      ParseDns(forged[2], &ip[2])};
  EXPECT_EQ(ip[0].ttl(), 57);
  EXPECT_EQ(ip[0].id(), 0);
  EXPECT_NE(ip[0].flags(), Tins::IP::DONT_FRAGMENT);
  EXPECT_EQ(dns[0].answers()[0].ttl(), 60u);
  EXPECT_EQ(ip[1].ttl(), 231);
  EXPECT_EQ(ip[1].flags(), Tins::IP::DONT_FRAGMENT);
  EXPECT_EQ(dns[1].authoritative_answer(), 1);  // 0x8580: QR AA RD RA
  EXPECT_EQ(dns[1].recursion_available(), 1);
  EXPECT_EQ(ip[2].ttl(), 61) << "copied from the query";
  EXPECT_EQ(ip[2].id(), 0x9916);
  EXPECT_EQ(dns[2].recursion_available(), 0);  // 0x8400: QR AA
  const nlohmann::json& d = truth_.lines.back()["detail"];
  ASSERT_EQ(d["copies"].size(), 3u);
  EXPECT_EQ(d["copies"][0]["ip_ttl"], 57);
  EXPECT_EQ(d["copies"][1]["dns_flags"], 0x8580);
  EXPECT_EQ(d["copies"][1]["df"], true);
  EXPECT_EQ(d["copies"][2]["ip_id"], 0x9916);
  EXPECT_EQ(d["copies"][2]["delay_ms"], 320);
  EXPECT_EQ(d["copies"][0]["answer"], d["answers"][0]);
  EXPECT_FALSE(d.contains("ip_ttl")) << "the copies' TTLs differ";
}

TEST_F(Engine, DnsInjectAnswersAaaaFromTeredoAndOtherTypesWithoutAnswers) {
  Init(R"(      - id: dns
        match: {dns_qname: {exact: [signal.org]}}
        action: dns_inject
        pool: [198.18.240.1]
        copy_ttl: true
        dns_flags: 0x8400
)");
  auto aaaa =
      To(Feed(Side::kClient, DnsQueryFrame("signal.org", Tins::DNS::AAAA, 57)), Side::kClient);
  ASSERT_EQ(aaaa.size(), 1u);
  Tins::IP ip;
  Tins::DNS dns = ParseDns(aaaa[0], &ip);
  EXPECT_EQ(ip.ttl(), 57);  // copied from the query
  ASSERT_EQ(dns.answers_count(), 1);
  EXPECT_TRUE(dns.answers()[0].data().starts_with("2001::1f0d:")) << dns.answers()[0].data();
  EXPECT_EQ(dns.authoritative_answer(), 1);  // 0x8400: QR and AA only
  EXPECT_EQ(dns.recursion_available(), 0);
  auto txt = To(Feed(Side::kClient, DnsQueryFrame("signal.org", Tins::DNS::TXT)), Side::kClient);
  ASSERT_EQ(txt.size(), 1u);
  EXPECT_EQ(ParseDns(txt[0]).answers_count(), 0);
}

TEST_F(Engine, DnsNxdomainAndDropSwallowTheQuery) {
  Init(R"(      - {id: nx, match: {dns_qname: {exact: [t.me]}}, action: dns_nxdomain}
      - {id: dd, match: {dns_qname: {exact: [signal.org]}}, action: dns_drop}
)");
  auto nx = Feed(Side::kClient, DnsQueryFrame("t.me", Tins::DNS::A));
  ASSERT_EQ(nx.size(), 1u);
  EXPECT_EQ(nx[0].to, Side::kClient);
  EXPECT_EQ(ParseDns(nx[0]).rcode(), 3);
  EXPECT_TRUE(Feed(Side::kClient, DnsQueryFrame("signal.org", Tins::DNS::A)).empty());
  EXPECT_EQ(Feed(Side::kClient, DnsQueryFrame("example.org", Tins::DNS::A)).size(), 1u);
}

TEST_F(Engine, ResidualBlocksTheThreeTupleThenExpires) {
  Init(R"(      - id: r
        match: {sni: {suffix: [whatsapp.net]}}
        action: rst_inject
        type: gfw2
        residual: {seconds: 2}
)");
  Handshake(40000);
  SendClientHello(40000, "whatsapp.net");
  // A new, innocent connection to the same server and port: RST+ACK to its SYN.
  now_.mono_ns += 500'000'000;
  auto syn = Feed(Side::kClient, TcpFrame(true, 40001, 777, 0, Tins::TCP::SYN));
  ASSERT_EQ(syn.size(), 3u);
  for (const auto& o : syn) {
    EXPECT_EQ(o.to, Side::kClient);
    Rst r = ParseRst(o);
    EXPECT_EQ(r.flags, Tins::TCP::RST | Tins::TCP::ACK);
    EXPECT_EQ(r.ack, 778u);
  }
  EXPECT_EQ(truth_.lines.back()["detail"]["residual"], true);
  // Another port on the same server is not blocked.
  EXPECT_EQ(Feed(Side::kClient, TcpFrame(true, 40002, 1, 0, Tins::TCP::SYN, "", 80))[0].to,
            Side::kServer);
  now_.mono_ns += 2'000'000'000;
  auto later = Feed(Side::kClient, TcpFrame(true, 40003, 888, 0, Tins::TCP::SYN));
  ASSERT_EQ(later.size(), 1u);
  EXPECT_EQ(later[0].to, Side::kServer);
}

TEST_F(Engine, PhasesSwitchRulesAtTheirOffsets) {
  ScenarioLoad load = ParseScenario(R"(name: p
phases:
  - start: 0s
  - start: 30s
    rules:
      - {id: bh, match: {dst_ip: 198.18.70.0/24}, action: drop}
)",
                                    "p.yaml", ".");
  ASSERT_TRUE(load.scenario);
  censor_ = std::make_unique<Censor>(*load.scenario, &truth_, 1);
  censor_->Start(now_);
  EXPECT_EQ(censor_->Tick(now_), now_.mono_ns + 30'000'000'000);
  EXPECT_EQ(Feed(Side::kClient, TcpFrame(true, 40000, 1, 0, Tins::TCP::SYN)).size(), 1u);
  now_.mono_ns += 30'000'000'000;
  censor_->Tick(now_);
  EXPECT_EQ(censor_->phase(), 1);
  EXPECT_TRUE(Feed(Side::kClient, TcpFrame(true, 40001, 1, 0, Tins::TCP::SYN)).empty());
  EXPECT_TRUE(Feed(Side::kClient, TcpFrame(true, 40001, 1, 0, Tins::TCP::SYN)).empty());
  ASSERT_EQ(truth_.lines.size(), 3u);  // two phase starts, one drop per flow
  EXPECT_EQ(truth_.lines[1]["event"], "phase_start");
  EXPECT_EQ(truth_.lines[1]["phase"], 1);
  EXPECT_EQ(truth_.lines[2]["action"], "drop");
}

TEST_F(Engine, DelayHoldsEachDirectionWithoutReordering) {
  Init("      - {id: d, action: delay, up_ms: 50, down_ms: 20}\n");
  auto up = Feed(Side::kClient, TcpFrame(true, 40000, kClientIsn, 0, Tins::TCP::SYN));
  ASSERT_EQ(up.size(), 1u);
  EXPECT_EQ(up[0].at_ns, now_.mono_ns + 50'000'000);
  auto down = Feed(Side::kServer, TcpFrame(false, 40000, kServerIsn, kClientIsn + 1,
                                           Tins::TCP::SYN | Tins::TCP::ACK));
  EXPECT_EQ(down[0].at_ns, now_.mono_ns + 20'000'000);
  now_.mono_ns += 1'000'000;
  auto up2 = Feed(Side::kClient, TcpFrame(true, 40000, kClientIsn + 1, 1, Tins::TCP::ACK));
  EXPECT_EQ(up2[0].at_ns, now_.mono_ns + 50'000'000);
}

TEST_F(Engine, ThrottleSpacesFramesAtTheRate) {
  Init("      - {id: t, action: throttle, rate: 80kbit, burst_bytes: 1500, queue_bytes: 3000}\n");
  std::string payload(986, 'x');  // 1040-byte frames: 104 ms each at 80 kbit/s
  std::vector<int64_t> at;
  for (int i = 0; i < 6; ++i) {
    auto out = Feed(Side::kClient,
                    TcpFrame(true, 40000, kClientIsn + 1 + i * 986, 1, Tins::TCP::ACK, payload));
    at.push_back(out.empty() ? -1 : out[0].at_ns - now_.mono_ns);
  }
  EXPECT_EQ(at[0], 0);
  EXPECT_EQ(at[1], 0);  // within the burst
  EXPECT_GT(at[2], 50'000'000);
  EXPECT_NEAR(static_cast<double>(at[3] - at[2]), 104e6, 1e6);
  EXPECT_EQ(at[5], -1);  // the queue bound: dropped
}

TEST_F(Engine, ThrottleByServerPrefixShapesTheDownloadToo) {
  Init(
      "      - {id: t, match: {dst_ip: [198.18.70.0/24]}, action: throttle, rate: 80kbit,\n"
      "         burst_bytes: 1500, queue_bytes: 300000}\n");
  Handshake(40000);
  std::string payload(986, 'x');
  std::vector<int64_t> at;
  for (int i = 0; i < 4; ++i) {
    auto out = Feed(Side::kServer, TcpFrame(false, 40000, kServerIsn + 1 + i * 986, kClientIsn + 1,
                                            Tins::TCP::ACK, payload));
    ASSERT_EQ(out.size(), 1u);
    at.push_back(out[0].at_ns - now_.mono_ns);
  }
  EXPECT_GT(at[3], 150'000'000) << "server-to-client frames are shaped as well";
  ASSERT_FALSE(truth_.lines.empty());
  EXPECT_EQ(truth_.lines.back().value("action", ""), "throttle");
}

TEST_F(Engine, HostileFramesDoNotCrash) {
  Init(R"(      - {id: a, match: {sni: {regex: ["^x"]}}, action: rst_inject, type: gfw2}
      - {id: b, match: {http_host: {suffix: [y.org]}}, action: http_blockpage}
      - {id: c, match: {dns_qname: {suffix: [z.org]}}, action: dns_inject, pool: [198.18.240.1]}
      - {id: d, match: {keywords: [k]}, action: keyword_drop}
      - {id: e, match: {dst_port: 5222}, action: icmp_unreachable, unreachable: port}
)");
  std::mt19937 rng(7);
  std::vector<std::vector<uint8_t>> seeds = {
      TcpFrame(true, 40000, 1, 1, Tins::TCP::ACK, ClientHello("x.org")),
      TcpFrame(true, 40001, 1, 1, Tins::TCP::ACK, "GET / HTTP/1.1\r\nHost: y.org\r\n\r\n"),
      DnsQueryFrame("a.z.org", Tins::DNS::A)};
  for (int i = 0; i < 20000; ++i) {
    std::vector<uint8_t> f = seeds[i % seeds.size()];
    int edits = 1 + static_cast<int>(rng() % 8);
    for (int e = 0; e < edits; ++e) f[14 + rng() % (f.size() - 14)] = static_cast<uint8_t>(rng());
    if (rng() % 4 == 0) f.resize(rng() % f.size());
    Feed(rng() % 2 ? Side::kClient : Side::kServer, f);
  }
}

TEST(ClientHelloParser, FindsSniAndHandlesPartialAndGarbage) {
  std::string hello = ClientHello("signal.org");
  auto bytes = [](const std::string& s) {
    return std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  };
  HelloResult full = ParseClientHelloSni(bytes(hello));
  EXPECT_EQ(full.status, HelloStatus::kFound);
  EXPECT_EQ(full.sni, "signal.org");
  for (size_t cut = 0; cut < hello.size(); ++cut) {
    EXPECT_EQ(ParseClientHelloSni(bytes(hello.substr(0, cut))).status, HelloStatus::kNeedMore)
        << cut;
  }
  EXPECT_EQ(ParseClientHelloSni(bytes("GET / HTTP/1.1\r\n")).status, HelloStatus::kNotTls);
  // The handshake split over two TLS records.
  std::string hs = hello.substr(5);
  std::string two =
      std::string("\x16\x03\x01\x00\x14", 5) + hs.substr(0, 20) + "\x16\x03\x01" +
      std::string{static_cast<char>((hs.size() - 20) >> 8), static_cast<char>(hs.size() - 20)} +
      hs.substr(20);
  EXPECT_EQ(ParseClientHelloSni(bytes(two)).sni, "signal.org");
}

TEST(HttpRequestParser, ReadsHostAndPath) {
  std::string req = "POST /a/b?c HTTP/1.0\r\nX: y\r\nhOsT:  Example.ORG:8080 \r\n\r\nbody";
  auto info = ParseHttpRequest(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(req.data()), req.size()));
  EXPECT_EQ(info.status, HttpStatus::kFound);
  EXPECT_EQ(info.host, "example.org");
  EXPECT_EQ(info.path, "/a/b?c");
  std::string partial = "GET /x HTTP/1.1\r\nHost: a";
  EXPECT_EQ(ParseHttpRequest(std::span<const uint8_t>(
                                 reinterpret_cast<const uint8_t*>(partial.data()), partial.size()))
                .status,
            HttpStatus::kNeedMore);
}

}  // namespace
}  // namespace vigil::lab
