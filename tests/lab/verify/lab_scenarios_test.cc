// Every scenario of the library, observed the way a volunteer or a researcher would:
// dig, curl, openssl s_client, tcpdump, mosquitto clients, and `vigil measure`,
// from the censored network (vgl-client) and the open one (vgl-client2), checked
// against the censor's ground truth. The lab comes up once for the whole program.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "tests/lab/verify/lab_environment.h"
#include "tests/support/child_process.h"
#include "tests/support/temp_dir.h"

namespace vigil::test_support {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

LabEnvironment* g_lab = nullptr;

class LabScenariosTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (LabEnvironment::Unavailable()) return;
    g_lab = new LabEnvironment("clean");
  }
  static void TearDownTestSuite() {
    delete g_lab;
    g_lab = nullptr;
  }

  void SetUp() override {
    if (auto why = LabEnvironment::Unavailable()) GTEST_SKIP() << *why;
    ASSERT_TRUE(g_lab && g_lab->ok()) << (g_lab ? g_lab->error() : "no lab");
  }

  void Use(const std::string& scenario) {
    std::string error;
    ASSERT_TRUE(g_lab->SwitchScenario(scenario, &error)) << error;
  }

  // Every DNS reply that reaches `ns` from `server` for one dig of `name`, in
  // arrival order, as the A addresses each carried (tcpdump keeps listening after
  // dig has taken the first reply, as an injection detector must).
  std::vector<std::vector<std::string>> DnsReplies(const std::string& ns, const std::string& server,
                                                   const std::string& name) {
    // A fresh log per capture: the child appends, and an old capture's lines (or its
    // "listening on") must not be taken for this one's.
    static int capture = 0;
    const std::string log =
        g_lab->state_dir() + "/tcpdump-" + ns + "-" + std::to_string(++capture) + ".txt";
    ChildProcess tcpdump;
    std::string error;
    EXPECT_TRUE(tcpdump.Start({"ip", "netns", "exec", "vgl-" + ns, "tcpdump", "-l", "-n", "-i",
                               "eth0", "-c", "10", "udp and src port 53 and src host " + server},
                              log, &error))
        << error;
    for (int i = 0; i < 50 && ReadFileOrEmpty(log).find("listening on") == std::string::npos; ++i) {
      std::this_thread::sleep_for(50ms);
    }
    auto dig = g_lab->Exec(ns, {"dig", "@" + server, name, "A", "+tries=1", "+time=3"});
    EXPECT_EQ(dig.exit_code, 0) << dig.output;
    std::this_thread::sleep_for(1500ms);  // the genuine answer may trail the forged ones
    tcpdump.Kill();
    std::vector<std::vector<std::string>> replies;
    std::istringstream lines(ReadFileOrEmpty(log));
    static const std::regex kA(R"( A (\d+\.\d+\.\d+\.\d+))");
    for (std::string line; std::getline(lines, line);) {
      if (line.find(" > ") == std::string::npos) continue;
      std::vector<std::string> addresses;
      for (std::sregex_iterator it(line.begin(), line.end(), kA), end; it != end; ++it) {
        addresses.push_back((*it)[1]);
      }
      replies.push_back(addresses);
    }
    return replies;
  }

  // What reaches vgl-<ns>'s eth0 matching the tcpdump `filter` while `run` runs and
  // for `linger` after (a reply that trails what the client took), as tcpdump prints
  // it: one line per packet, with `payloads` each packet's bytes as ASCII (-A), with
  // `verbose` each packet's IP header fields first (-v).
  std::string Capture(const std::string& ns, const std::string& filter,
                      const std::function<void()>& run, bool payloads = false,
                      std::chrono::milliseconds linger = 1000ms, bool verbose = false) {
    static int capture = 0;
    const std::string log =
        g_lab->state_dir() + "/capture-" + ns + "-" + std::to_string(++capture) + ".txt";
    std::vector<std::string> argv = {"ip", "netns", "exec", "vgl-" + ns, "tcpdump",
                                     "-l", "-n",    "-i",   "eth0"};
    if (payloads) argv.push_back("-A");
    if (verbose) argv.push_back("-v");
    argv.push_back(filter);
    ChildProcess tcpdump;
    std::string error;
    EXPECT_TRUE(tcpdump.Start(argv, log, &error)) << error;
    for (int i = 0; i < 50 && ReadFileOrEmpty(log).find("listening on") == std::string::npos; ++i) {
      std::this_thread::sleep_for(50ms);
    }
    run();
    std::this_thread::sleep_for(linger);
    tcpdump.Kill();
    return ReadFileOrEmpty(log);
  }

  json Measure(const std::string& ns, std::vector<std::string> args) {
    json m = g_lab->Measure(ns, std::move(args));
    EXPECT_TRUE(m.is_object()) << "vigil measure printed no measurement";
    return m.is_object() ? m : json::object();
  }

  static std::string Failure(const json& m) {
    const json& f = m.value("test_keys", json::object()).value("failure", json());
    return f.is_string() ? f.get<std::string>() : "";
  }

  std::vector<json> ActionsOf(const std::string& rule) {
    std::vector<json> out;
    for (auto& a : g_lab->Actions()) {
      if (a.value("rule", "") == rule) out.push_back(a);
    }
    return out;
  }
};

TEST_F(LabScenariosTest, CleanShowsNoInterferenceAtAll) {
  Use("clean");
  auto dig = g_lab->Exec("client", {"dig", "+short", "web.whatsapp.com"});
  EXPECT_EQ(dig.output, "198.18.71.3\n") << "the ISP resolver answers with the lab address";

  auto replies = DnsReplies("client", "198.18.20.53", "e1.whatsapp.net");
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0], std::vector<std::string>{"198.18.71.11"});

  auto curl =
      g_lab->Exec("client", {"curl", "-sS", "--max-time", "5", "--cacert", g_lab->ca_file(), "-o",
                             "/dev/null", "-w", "%{http_code}", "https://web.whatsapp.com/"});
  EXPECT_EQ(curl.output, "200") << curl.output;

  auto s_client = g_lab->Exec("client", {"sh", "-c",
                                         "echo | openssl s_client -connect 198.18.70.10:443 "
                                         "-servername web.telegram.org -CAfile " +
                                             g_lab->ca_file() + " 2>&1"});
  EXPECT_NE(s_client.output.find("Verify return code: 0 (ok)"), std::string::npos)
      << s_client.output;
  EXPECT_NE(s_client.output.find("BEGIN CERTIFICATE"), std::string::npos) << s_client.output;

  json http = Measure("client", {"http", "https://web.telegram.org/", "--ca-file", g_lab->ca_file(),
                                 "--timeout", "5"});
  EXPECT_EQ(Failure(http), "");
  EXPECT_EQ(http["test_keys"]["requests"][0]["response"]["code"], 200);
  json tcp = Measure("client", {"tcp", "198.18.70.1:443", "--timeout", "3"});
  EXPECT_EQ(Failure(tcp), "");

  EXPECT_TRUE(g_lab->Actions().empty()) << g_lab->Actions().front().dump();
}

TEST_F(LabScenariosTest, GfwDnsForgedAnswersRaceAheadOfTheGenuineOne) {
  Use("gfw-dns");
  auto replies = DnsReplies("client", "198.18.20.53", "e1.whatsapp.net");
  ASSERT_EQ(replies.size(), 3u) << "two forged copies, then the genuine answer";
  ASSERT_EQ(replies[0].size(), 1u);
  EXPECT_EQ(replies[0][0].rfind("198.18.240.", 0), 0u) << replies[0][0];
  EXPECT_EQ(replies.back(), std::vector<std::string>{"198.18.71.11"});

  // c-ares takes the first reply: vigil's plain lookup is fooled, as any client is.
  json dns = Measure("client", {"dns", "e1.whatsapp.net", "--resolver", "udp://198.18.20.53:53"});
  EXPECT_EQ(dns["test_keys"]["queries"][0]["answers"][0]["ipv4"].get<std::string>().rfind(
                "198.18.240.", 0),
            0u);
  EXPECT_EQ(dns["test_keys"]["queries"][0]["answers"][0]["ttl"], 173);

  // Unlisted names and the open network see only the genuine answer.
  replies = DnsReplies("client", "198.18.20.53", "weixin.qq.com");
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0], std::vector<std::string>{"198.18.74.1"});
  replies = DnsReplies("client2", "198.18.20.53", "e1.whatsapp.net");
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0], std::vector<std::string>{"198.18.71.11"});

  auto injected = ActionsOf("messaging-dns");
  ASSERT_GE(injected.size(), 2u);
  EXPECT_EQ(injected[0]["action"], "dns_inject");
  EXPECT_NE(injected[0].dump().find("e1.whatsapp.net"), std::string::npos) << injected[0].dump();
}

TEST_F(LabScenariosTest, GfwSniRstResetsAfterClientHelloThenBlocksTheThreeTuple) {
  Use("gfw-sni-rst");
  auto s_client = g_lab->Exec("client", {"sh", "-c",
                                         "echo | openssl s_client -connect 198.18.71.3:443 "
                                         "-servername web.whatsapp.com -CAfile " +
                                             g_lab->ca_file() + " 2>&1"});
  // s_client prints "Verify return code: 0 (ok)" even when no certificate arrived.
  EXPECT_NE(s_client.output.find("no peer certificate available"), std::string::npos)
      << s_client.output;
  EXPECT_TRUE(s_client.output.find("errno=104") != std::string::npos ||
              s_client.output.find("Connection reset") != std::string::npos)
      << s_client.output;

  json tls = Measure("client", {"tls", "198.18.70.10:443", "--sni", "web.telegram.org", "--ca-file",
                                g_lab->ca_file(), "--timeout", "5"});
  EXPECT_EQ(Failure(tls), "connection_reset");
  EXPECT_EQ(tls["test_keys"]["failed_operation"], "tls_handshake");

  // Residual: the same (client, server, port) is blocked whatever the content...
  json again = Measure("client", {"tcp", "198.18.70.10:443", "--timeout", "3"});
  EXPECT_NE(Failure(again), "") << "residual blocking of the 3-tuple";
  // ...another port of the same server is not...
  EXPECT_EQ(Failure(Measure("client", {"tcp", "198.18.70.10:80", "--timeout", "3"})), "");
  // ...and the open network is not filtered at all.
  EXPECT_EQ(Failure(Measure("client2", {"tls", "198.18.70.10:443", "--sni", "web.telegram.org",
                                        "--ca-file", g_lab->ca_file(), "--timeout", "5"})),
            "");

  bool residual_logged = false;
  for (auto& a : g_lab->Actions())
    residual_logged |= a.dump().find("\"residual\":true") != std::string::npos;
  EXPECT_TRUE(residual_logged);
  EXPECT_FALSE(ActionsOf("telegram-sni-gfw1").empty());
  EXPECT_FALSE(ActionsOf("whatsapp-sni-gfw2").empty());

  // The residual block expires (20 s in the library scenario).
  std::this_thread::sleep_for(21s);
  EXPECT_EQ(Failure(Measure("client", {"tcp", "198.18.70.10:443", "--timeout", "3"})), "");
}

TEST_F(LabScenariosTest, HenanResetsWithoutResidualBlocking) {
  Use("henan-rst");
  json tls = Measure("client", {"tls", "198.18.71.3:443", "--sni", "web.whatsapp.com", "--ca-file",
                                g_lab->ca_file(), "--timeout", "5"});
  EXPECT_EQ(Failure(tls), "connection_reset");
  EXPECT_EQ(Failure(Measure("client", {"tcp", "198.18.71.3:443", "--timeout", "3"})), "")
      << "no residual block after a Henan reset";
  auto resets = ActionsOf("henan-sni");
  ASSERT_FALSE(resets.empty());
  EXPECT_NE(resets[0].dump().find("henan"), std::string::npos) << resets[0].dump();
}

TEST_F(LabScenariosTest, BlackholedTelegramDataCentresTimeOut) {
  Use("blackhole-ips");
  json tcp = Measure("client", {"tcp", "198.18.70.1:443", "--timeout", "1"});
  EXPECT_EQ(Failure(tcp), "generic_timeout_error");
  json post =
      Measure("client", {"http", "http://198.18.70.2/", "--method", "POST", "--timeout", "1"});
  EXPECT_EQ(Failure(post), "generic_timeout_error");
  EXPECT_EQ(Failure(Measure("client2", {"tcp", "198.18.70.1:443", "--timeout", "3"})), "");
  EXPECT_EQ(Failure(Measure("client", {"tcp", "198.18.71.3:443", "--timeout", "3"})), "")
      << "only the data centres are blackholed";
  EXPECT_FALSE(ActionsOf("telegram-dc-blackhole").empty());
}

TEST_F(LabScenariosTest, BlockPageIsInjectedForBlockedHosts) {
  Use("blockpage-http");
  auto curl =
      g_lab->Exec("client", {"curl", "-s", "-i", "--max-time", "5", "http://web.whatsapp.com/"});
  EXPECT_NE(curl.output.find("403"), std::string::npos) << curl.output;
  EXPECT_NE(curl.output.find("This site is blocked"), std::string::npos) << curl.output;

  json http = Measure("client", {"http", "http://web.whatsapp.com/", "--timeout", "5"});
  EXPECT_EQ(http["test_keys"]["requests"][0]["response"]["code"], 403) << http.dump();
  EXPECT_EQ(http["test_keys"]["requests"][0]["response"]["x_title"], "Blocked");

  json open = Measure("client2", {"http", "http://web.whatsapp.com/", "--timeout", "5"});
  EXPECT_EQ(open["test_keys"]["requests"][0]["response"]["code"], 200) << open.dump();
  EXPECT_FALSE(ActionsOf("messaging-host-blockpage").empty());
}

TEST_F(LabScenariosTest, ThrottleSlowsMessagingDownloads) {
  Use("throttle");
  auto speed = [](const CommandResult& r) { return std::atof(r.output.c_str()); };
  const std::vector<std::string> curl = {"curl",
                                         "-s",
                                         "-o",
                                         "/dev/null",
                                         "--max-time",
                                         "4",
                                         "-w",
                                         "%{speed_download}",
                                         "http://web.whatsapp.com/large"};
  const double throttled = speed(g_lab->Exec("client", curl));
  const double open = speed(g_lab->Exec("client2", curl));
  EXPECT_GT(throttled, 0);
  EXPECT_LT(throttled, 20000) << "64 kbit/s is 8 kB/s";
  EXPECT_GT(open, 10 * throttled);
}

TEST_F(LabScenariosTest, KeywordFilterDropsMessagesSilently) {
  Use("keyword-filter");
  const std::string log = g_lab->state_dir() + "/mqtt-sub.txt";
  ChildProcess sub;
  std::string error;
  ASSERT_TRUE(sub.Start({"ip", "netns", "exec", "vgl-control", "mosquitto_sub", "-h",
                         "198.18.64.11", "-t", "chat/room", "-v"},
                        log, &error))
      << error;
  std::this_thread::sleep_for(500ms);
  for (const char* message : {"hello nonce-1", "falungong nonce-2", "tiananmen nonce-3",
                              "1989 nonce-4", "tiananmen 1989 nonce-5", "bye nonce-6"}) {
    auto pub = g_lab->Exec(
        "client", {"mosquitto_pub", "-h", "198.18.64.11", "-t", "chat/room", "-m", message});
    EXPECT_EQ(pub.exit_code, 0) << pub.output << " (the connection survives the drop)";
  }
  std::this_thread::sleep_for(1s);
  sub.Kill();
  const std::string got = ReadFileOrEmpty(log);
  for (const char* delivered : {"nonce-1", "nonce-3", "nonce-4", "nonce-6"}) {
    EXPECT_NE(got.find(delivered), std::string::npos) << delivered << " in:\n" << got;
  }
  for (const char* dropped : {"nonce-2", "nonce-5"}) {
    EXPECT_EQ(got.find(dropped), std::string::npos) << dropped << " in:\n" << got;
  }
  EXPECT_EQ(ActionsOf("wechat-keywords").size(), 2u);
}

TEST_F(LabScenariosTest, CrackdownBeginsAtItsOffset) {
  const auto start = std::chrono::steady_clock::now();
  Use("crackdown");
  EXPECT_EQ(Failure(Measure("client", {"tcp", "198.18.70.1:443", "--timeout", "2"})), "")
      << "nothing is blocked before the crackdown";
  // The phase begins 30 s after the censor started (which is after Use returned
  // from starting it): wait for the censor to announce it, then probe.
  auto phases = [] {
    int n = 0;
    for (auto& t : g_lab->Truth()) n += t.value("event", "") == "phase_start";
    return n;
  };
  while (phases() < 2 && std::chrono::steady_clock::now() < start + 45s) {
    std::this_thread::sleep_for(200ms);
  }
  EXPECT_GE(std::chrono::steady_clock::now() - start, 29s) << "the crackdown began early";
  EXPECT_EQ(Failure(Measure("client", {"tcp", "198.18.70.1:443", "--timeout", "1"})),
            "generic_timeout_error");
  json tls = Measure("client", {"tls", "198.18.72.5:443", "--sni", "chat.signal.org", "--ca-file",
                                g_lab->ca_file(), "--timeout", "5"});
  EXPECT_EQ(Failure(tls), "connection_reset");
  EXPECT_EQ(phases(), 2);
}

TEST_F(LabScenariosTest, FailingServersFailForEveryVantagePointWithoutCensorship) {
  Use("failing-servers");
  for (const char* ns : {"client", "client2"}) {
    auto page = g_lab->Exec(ns, {"curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                                 "--max-time", "5", "http://archive.org/"});
    EXPECT_EQ(page.output, "503") << ns;
    auto tls = g_lab->Exec(ns, {"curl", "-sS", "--max-time", "5", "--cacert", g_lab->ca_file(),
                                "https://citizenlab.ca/"});
    EXPECT_EQ(tls.exit_code, 35) << ns << ": reset in the TLS handshake: " << tls.output;
    EXPECT_NE(tls.output.find("reset"), std::string::npos) << ns << ": " << tls.output;
    auto http = g_lab->Exec(ns, {"curl", "-sS", "--max-time", "5", "http://citizenlab.ca/"});
    EXPECT_EQ(http.exit_code, 56) << ns << ": reset after the request: " << http.output;
  }
  EXPECT_TRUE(g_lab->Actions().empty()) << "the censor did nothing";
  bool recorded = false;
  for (auto& t : g_lab->Truth()) {
    if (t.value("event", "") != "lab_settings") continue;
    recorded = true;
    EXPECT_EQ(t["servers"]["failing"][1], (json{{"name", "citizenlab.ca"}, {"mode", "tcp_reset"}}));
  }
  EXPECT_TRUE(recorded) << "the truth names the failing servers";

  Use("clean");  // the servers recover with the next scenario
  auto page =
      g_lab->Exec("client", {"curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time",
                             "5", "https://archive.org/", "--cacert", g_lab->ca_file()});
  EXPECT_EQ(page.output, "200");
  auto tls =
      g_lab->Exec("client", {"curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time",
                             "5", "--cacert", g_lab->ca_file(), "https://citizenlab.ca/"});
  EXPECT_EQ(tls.output, "200");
}

TEST_F(LabScenariosTest, IcmpUnreachableAnswersFromTheCensorFailConnectionsAtOnce) {
  Use("icmp-unreachable");
  auto curl = [](const std::string& ns, const std::string& url, const char* family) {
    return g_lab->Exec(ns, {"curl", family, "-sS", "--max-time", "5", "--cacert", g_lab->ca_file(),
                            "-o", "/dev/null", url});
  };
  // Administratively prohibited: EHOSTUNREACH over IPv4, EACCES over IPv6 (Linux),
  // at once rather than after a timeout.
  auto v4 = curl("client", "https://web.whatsapp.com/", "-4");
  EXPECT_EQ(v4.exit_code, 7) << v4.output;
  EXPECT_EQ(Failure(Measure("client", {"tcp", "198.18.71.3:443", "--timeout", "5"})),
            "host_unreachable");
  EXPECT_EQ(Failure(Measure("client", {"tcp", "[fd00:64::71:3]:443", "--timeout", "5"})),
            "permission_denied");
  EXPECT_EQ(curl("client2", "https://web.whatsapp.com/", "-4").exit_code, 0);

  json tcp = Measure("client", {"tcp", "198.18.72.5:443", "--timeout", "5"});
  EXPECT_EQ(Failure(tcp), "host_unreachable");

  // The resolver's address answers "port unreachable" for Telegram names only.
  auto dig = g_lab->Exec("client",
                         {"dig", "@198.18.20.53", "web.telegram.org", "A", "+tries=1", "+time=2"});
  EXPECT_NE(dig.output.find("connection refused"), std::string::npos) << dig.output;
  auto ok = g_lab->Exec("client", {"dig", "+short", "@198.18.20.53", "weixin.qq.com", "A"});
  EXPECT_EQ(ok.output, "198.18.74.1\n");

  auto admin = ActionsOf("whatsapp-admin-prohibited");
  ASSERT_GE(admin.size(), 2u);
  EXPECT_EQ(admin[0]["action"], "icmp_unreachable");
  EXPECT_EQ(admin[0]["detail"]["unreachable"], "admin");
  EXPECT_EQ(admin[0]["detail"]["icmp_code"], 13);
  EXPECT_EQ(admin[0]["detail"]["from"], "198.18.11.2");
  auto port = ActionsOf("telegram-dns-port-unreachable");
  ASSERT_FALSE(port.empty());
  EXPECT_EQ(port[0]["detail"]["icmp_code"], 3);
  EXPECT_EQ(port[0]["detail"]["from"], "198.18.20.53");
}

TEST_F(LabScenariosTest, OnPathInjectionRacesTheServersGenuineReply) {
  Use("on-path-injection");
  // TLS: the RSTs arrive first; the ClientHello reached the server, whose ACK of it
  // trails them to a client that has already given up.
  std::string s_client;
  const std::string tls = Capture("client", "tcp and src host 198.18.71.3 and src port 443", [&] {
    s_client = g_lab
                   ->Exec("client", {"sh", "-c",
                                     "echo | openssl s_client -connect 198.18.71.3:443 "
                                     "-servername web.whatsapp.com -CAfile " +
                                         g_lab->ca_file() + " 2>&1"})
                   .output;
  });
  EXPECT_NE(s_client.find("errno=104"), std::string::npos) << s_client;
  static const std::regex kRst(R"(Flags \[R\.\], seq \d+, ack (\d+),)");
  std::smatch rst;
  ASSERT_TRUE(std::regex_search(tls, rst, kRst)) << tls;
  const std::regex server_ack("Flags \\[P?\\.\\], (seq \\S+ )?ack " + rst[1].str() + ",");
  std::smatch ack;
  const std::string after_rst = tls.substr(static_cast<size_t>(rst.position(0)));
  EXPECT_TRUE(std::regex_search(after_rst, ack, server_ack))
      << "the server's answer to the ClientHello trails the RSTs:\n"
      << tls;

  // HTTP: the injected page wins; the server got the request and its 200 trails it.
  const std::string access_log = g_lab->state_dir() + "/nginx/access.log";
  const size_t served_before = ReadFileOrEmpty(access_log).size();
  std::string page;
  const std::string http = Capture(
      "client", "tcp and src host 198.18.70.10 and src port 80",
      [&] {
        page = g_lab
                   ->Exec("client",
                          {"curl", "-4", "-s", "-i", "--max-time", "5", "http://web.telegram.org/"})
                   .output;
      },
      /*payloads=*/true);
  EXPECT_TRUE(page.starts_with("HTTP/1.1 403 Forbidden")) << page;
  const size_t injected = http.find("HTTP/1.1 403 Forbidden");
  const size_t genuine = http.find("HTTP/1.1 200 OK");
  ASSERT_NE(injected, std::string::npos) << http;
  ASSERT_NE(genuine, std::string::npos) << "the server's response trails the page:\n" << http;
  EXPECT_LT(injected, genuine);
  EXPECT_NE(ReadFileOrEmpty(access_log).substr(served_before).find("198.18.1.10"),
            std::string::npos)
      << "the request reached the server";

  auto rsts = ActionsOf("whatsapp-sni-on-path-rst");
  ASSERT_EQ(rsts.size(), 1u) << "once per flow";
  EXPECT_EQ(rsts[0]["detail"]["trigger"], "pass");
  EXPECT_EQ(rsts[0]["detail"]["rst_type"], "gfw2");
  auto pages = ActionsOf("telegram-host-on-path-page");
  ASSERT_EQ(pages.size(), 1u);
  EXPECT_EQ(pages[0]["detail"]["trigger"], "pass");
}

TEST_F(LabScenariosTest, LateDnsForgeriesTrailTheGenuineAnswerEachWithItsFingerprint) {
  Use("gfw-dns-late");
  std::string dig;
  const std::string log = Capture(
      "client", "udp and src port 53 and src host 198.18.20.53",
      [&] {
        dig = g_lab
                  ->Exec("client", {"dig", "+short", "@198.18.20.53", "e1.whatsapp.net", "A",
                                    "+tries=1", "+time=3"})
                  .output;
      },
      /*payloads=*/false, 1500ms, /*verbose=*/true);
  EXPECT_EQ(dig, "198.18.71.11\n") << "the first reply is the genuine one";
  // tcpdump -v: "HH:MM:SS.us IP (tos 0x0, ttl T, id I, offset 0, flags [F], ...)" and
  // the DNS line below it.
  struct Reply {
    double at;
    int ttl, id;
    bool df;
    std::string answer;
  };
  std::vector<Reply> replies;
  static const std::regex kIp(
      R"(^\d+:\d+:(\d+\.\d+) IP \(tos \S+, ttl (\d+), id (\d+), offset \d+, flags \[([^\]]*)\])");
  static const std::regex kA(R"( A (\d+\.\d+\.\d+\.\d+))");
  std::istringstream lines(log);
  for (std::string line; std::getline(lines, line);) {
    std::smatch m;
    if (std::regex_search(line, m, kIp)) {
      replies.push_back({std::stod(m[1]), std::stoi(m[2]), std::stoi(m[3]), m[4] == "DF", ""});
    } else if (!replies.empty() && std::regex_search(line, m, kA)) {
      replies.back().answer = m[1];
    }
  }
  ASSERT_EQ(replies.size(), 4u) << log;
  EXPECT_EQ(replies[0].answer, "198.18.71.11");
  for (size_t i = 1; i < 4; ++i) {
    EXPECT_EQ(replies[i].answer.rfind("198.18.240.", 0), 0u) << replies[i].answer;
    EXPECT_GE(replies[i].at - replies[0].at, 0.25) << "held back 300 ms";
  }
  // The order of copies 1 and 2 (both at 300 ms) is the censor's; copy 3 leaves last.
  // Every TTL is one less than the censor set: r1 routes the replies to the client.
  std::set<int> ttls = {replies[1].ttl, replies[2].ttl};
  EXPECT_EQ(ttls, (std::set<int>{56, 230}));
  EXPECT_EQ(replies[3].ttl, 62) << "the query's TTL at the censor (64, less r1's hop), less r1's";
  EXPECT_EQ(replies[3].id, 0x9916);
  for (size_t i = 1; i < 3; ++i) {
    EXPECT_EQ(replies[i].df, replies[i].ttl == 230) << replies[i].ttl;
    if (replies[i].ttl == 56) {
      EXPECT_EQ(replies[i].id, 0);
    }
  }

  auto injected = ActionsOf("messaging-dns-late");
  ASSERT_EQ(injected.size(), 1u);
  const json& copies = injected[0]["detail"]["copies"];
  ASSERT_EQ(copies.size(), 3u);
  EXPECT_EQ(copies[0]["dns_flags"], 0x8180);
  EXPECT_EQ(copies[1]["dns_flags"], 0x8580);
  EXPECT_EQ(copies[2]["dns_flags"], 0x8400);
  EXPECT_EQ(copies[2]["delay_ms"], 320);
}

TEST_F(LabScenariosTest, RedirectBlockPageSendsTheClientToTheCensorsPage) {
  Use("blockpage-redirect");
  auto curl =
      g_lab->Exec("client", {"curl", "-s", "-i", "--max-time", "5", "http://www.minghui.org/"});
  EXPECT_TRUE(curl.output.starts_with("HTTP/1.1 302 Found\r\n")) << curl.output;
  EXPECT_NE(curl.output.find(
                "\r\nLocation: http://198.18.240.34/?type=Invalid%20Site&policy=MainPolicy\r\n"),
            std::string::npos)
      << curl.output;
  auto where = g_lab->Exec("client", {"curl", "-s", "-o", "/dev/null", "--max-time", "5", "-w",
                                      "%{http_code} %{redirect_url}", "http://twitter.com/"});
  EXPECT_EQ(where.output, "302 http://198.18.240.34/?type=Invalid%20Site&policy=MainPolicy");
  auto open = g_lab->Exec("client2", {"curl", "-s", "-o", "/dev/null", "--max-time", "5", "-w",
                                      "%{http_code}", "http://www.minghui.org/"});
  EXPECT_EQ(open.output, "200");
  auto redirects = ActionsOf("testlist-redirect");
  ASSERT_EQ(redirects.size(), 2u);
  EXPECT_EQ(redirects[0]["detail"]["status"], 302);
  EXPECT_EQ(redirects[0]["detail"]["location"],
            "http://198.18.240.34/?type=Invalid%20Site&policy=MainPolicy");
  EXPECT_EQ(redirects[0]["detail"]["host"], "www.minghui.org");
}

// A TLS handshake whose ClientHello leaves in two TCP segments (the first `split` bytes,
// then the rest 50 ms later): python's ssl over a memory BIO, TCP_NODELAY. Prints
// "handshake ok" or the exception.
constexpr const char* kSplitHelloClient = R"(
import socket, ssl, sys, time
host, sni, ca, split = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
ctx = ssl.create_default_context(cafile=ca)
incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
tls = ctx.wrap_bio(incoming, outgoing, server_hostname=sni)
try:
    s = socket.create_connection((host, 443), timeout=5)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    first = True
    while True:
        try:
            tls.do_handshake()
            done = True
        except ssl.SSLWantReadError:
            done = False
        data = outgoing.read()
        if data and first and split:
            s.sendall(data[:split])
            time.sleep(0.05)
            s.sendall(data[split:])
            first = False
        elif data:
            s.sendall(data)
        if done:
            break
        chunk = s.recv(65536)
        if not chunk:
            raise ConnectionError("closed by the server")
        incoming.write(chunk)
    print("handshake ok", tls.version())
except Exception as e:
    print("failed:", type(e).__name__, e)
)";

TEST_F(LabScenariosTest, CensorWithoutReassemblyMissesASplitClientHello) {
  Use("no-reassembly");
  auto hello = [](const std::string& ip, const std::string& sni, int split) {
    return g_lab
        ->Exec("client", {"python3", "-c", kSplitHelloClient, ip, sni, g_lab->ca_file(),
                          std::to_string(split)})
        .output;
  };
  EXPECT_TRUE(hello("198.18.71.3", "web.whatsapp.com", 100).starts_with("handshake ok"))
      << "split in two segments, the ClientHello passes";
  EXPECT_TRUE(
      hello("198.18.71.3", "web.whatsapp.com", 0).starts_with("failed: ConnectionResetError"))
      << "whole, it is reset";
  auto s_client = g_lab->Exec("client", {"sh", "-c",
                                         "echo | openssl s_client -connect 198.18.70.10:443 "
                                         "-servername web.telegram.org -CAfile " +
                                             g_lab->ca_file() + " 2>&1"});
  EXPECT_NE(s_client.output.find("errno=104"), std::string::npos) << s_client.output;
  auto resets = ActionsOf("messaging-sni-per-packet");
  ASSERT_EQ(resets.size(), 2u) << "the split ClientHello left no trace";
  EXPECT_EQ(resets[0]["detail"]["reassemble"], false);
}

TEST_F(LabScenariosTest, BlockingAfterTheHandshakeLetsTheHandshakeComplete) {
  Use("after-handshake");
  auto curl = [](const std::string& url, const char* max_time) {
    return g_lab->Exec("client", {"curl", "-4", "-v", "-sS", "-o", "/dev/null", "--max-time",
                                  max_time, "--cacert", g_lab->ca_file(), url});
  };
  // Reset on the request, after a complete handshake.
  auto whatsapp = curl("https://web.whatsapp.com/", "5");
  EXPECT_NE(whatsapp.output.find("SSL connection using"), std::string::npos) << whatsapp.output;
  EXPECT_EQ(whatsapp.exit_code, 56) << whatsapp.output;
  EXPECT_NE(whatsapp.output.find("reset"), std::string::npos) << whatsapp.output;
  // Silence from the request on: a handshake-only probe sees nothing wrong.
  json tls = Measure("client", {"tls", "198.18.72.5:443", "--sni", "chat.signal.org", "--ca-file",
                                g_lab->ca_file(), "--timeout", "5"});
  EXPECT_EQ(Failure(tls), "");
  auto signal = curl("https://chat.signal.org/", "2");
  EXPECT_NE(signal.output.find("SSL connection using"), std::string::npos) << signal.output;
  EXPECT_EQ(signal.exit_code, 28) << "timed out after the handshake: " << signal.output;
  // The request reaches the server; RSTs take its response's place.
  const std::string access_log = g_lab->state_dir() + "/nginx/access.log";
  const size_t served_before = ReadFileOrEmpty(access_log).size();
  auto telegram =
      g_lab->Exec("client", {"curl", "-4", "-sS", "--max-time", "5", "http://web.telegram.org/"});
  EXPECT_EQ(telegram.exit_code, 56) << telegram.output;
  EXPECT_NE(ReadFileOrEmpty(access_log).substr(served_before).find("\"GET / HTTP/1.1\" 200"),
            std::string::npos)
      << "the server answered the request";
  // The open network is not filtered.
  EXPECT_EQ(g_lab
                ->Exec("client2", {"curl", "-sS", "-o", "/dev/null", "--max-time", "5", "--cacert",
                                   g_lab->ca_file(), "https://web.whatsapp.com/"})
                .exit_code,
            0);

  for (const char* rule : {"whatsapp-rst-after-handshake", "signal-drop-after-handshake"}) {
    auto acted = ActionsOf(rule);
    ASSERT_FALSE(acted.empty()) << rule;
    EXPECT_EQ(acted[0]["detail"]["at"], "app_data") << rule;
  }
  auto response = ActionsOf("telegram-rst-on-response");
  ASSERT_EQ(response.size(), 1u);
  EXPECT_EQ(response[0]["detail"]["at"], "response");
  EXPECT_EQ(response[0]["detail"]["host"], "web.telegram.org");
}

TEST_F(LabScenariosTest, ScenarioSwitchesFlushTheResolversUnlessTheScenarioKeepsThem) {
  // Caching is off in the ISP resolvers, but their infrastructure cache remembers each
  // upstream (its round-trip time, its timeouts under the last scenario's drops).
  auto infra = [] {
    return g_lab
        ->Exec("r1", {"unbound-control", "-c", g_lab->state_dir() + "/unbound-r1/unbound.conf",
                      "dump_infra"})
        .output;
  };
  auto lookup = [] {
    auto dig = g_lab->Exec("client", {"dig", "+short", "+tries=1", "+time=2", "www.lab.test"});
    EXPECT_EQ(dig.output, "198.18.64.1\n");
  };
  Use("clean");
  lookup();
  EXPECT_NE(infra().find("198.18.20.53"), std::string::npos) << infra();
  Use("clean-keep-cache");
  EXPECT_NE(infra().find("198.18.20.53"), std::string::npos) << "kept: " << infra();
  bool recorded = false;
  for (auto& t : g_lab->Truth()) recorded |= t.value("keep_resolver_cache", false);
  EXPECT_TRUE(recorded) << "the truth says the caches were kept";
  Use("clean");
  EXPECT_EQ(infra().find("198.18.20.53"), std::string::npos) << "flushed: " << infra();
  lookup();
}

}  // namespace
}  // namespace vigil::test_support
