// `vigil run` as a user runs it, without the lab: with no working network (a
// resolver that never answers, every real IP literal sent to loopback through an
// endpoints file) it records honest failures and ends within its deadlines; bad
// arguments and malformed files get one precise line and exit status 2.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <set>
#include <sstream>

#include "probe/experiments/registry.h"
#include "probe/experiments/telegram/telegram.h"
#include "probe/measurement/measurement_json.h"
#include "tests/support/child_process.h"
#include "tests/support/silent_resolver.h"
#include "tests/support/temp_dir.h"
#include "tests/support/unbound_server.h"
#include "tests/support_paths.h"

namespace vigil {
namespace {

using namespace std::chrono_literals;
using test_support::RunCommand;
using test_support::SilentResolver;
using test_support::VigilBinary;

// Every IP literal the experiments contact, sent to loopback, where nothing listens
// on their ports: nothing leaves the machine.
std::string LoopbackEndpoints(const test_support::TempDir& dir) {
  const std::string path = dir.Join("endpoints.csv");
  std::ofstream out(path);
  out << "name,kind,real,lab_ipv4,lab_ipv6,asn,as_org,notes\n";
  for (const auto& dc : TelegramOoniDcs()) out << dc << ",ip," << dc << ",127.0.0.1,::1,62041,,\n";
  for (const auto& dc : TelegramIpv6Dcs()) out << dc << ",ip," << dc << ",127.0.0.1,::1,62041,,\n";
  return path;
}

TEST(RunCommandTest, WithoutANetworkEveryServiceFailsHonestlyAndOnTime) {
  SilentResolver resolver;
  ASSERT_TRUE(resolver.ok());
  test_support::TempDir dir("vigil-run-");
  ASSERT_TRUE(dir.ok()) << dir.error();
  const auto start = std::chrono::steady_clock::now();
  auto r = RunCommand({VigilBinary(), "run", "im", "--batch", "--timeout", "1", "--resolver",
                       resolver.url(), "--endpoints", LoopbackEndpoints(dir)},
                      60s);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_EQ(r.exit_code, 0) << r.output;
  // One second per step, steps bounded and run side by side: far below a minute.
  EXPECT_LT(elapsed, 20s);
  std::istringstream lines(r.output);
  std::set<std::string> tests;
  for (std::string line; std::getline(lines, line);) {
    auto m = ParseMeasurement(line);
    ASSERT_TRUE(m.ok()) << m.error() << "\n" << line.substr(0, 300);
    tests.insert(m->test_name);
    EXPECT_EQ(m->probe_ip, "127.0.0.1");
    ASSERT_FALSE(m->test_keys.queries.empty()) << m->test_name;
    for (const auto& q : m->test_keys.queries) {
      EXPECT_EQ(q.failure.value_or(""), "generic_timeout_error")
          << m->test_name << " " << q.hostname;
    }
    // Every canary failed with the network: the measurement says so.
    EXPECT_EQ(m->test_keys.extra["x_network"]["usable"], false) << m->test_name;
    // Connects to the loopback stand-ins are refused, never timed out or faked.
    for (const auto& c : m->test_keys.tcp_connect) {
      EXPECT_FALSE(c.status.success) << m->test_name << " " << c.ip;
    }
  }
  const auto im = ExperimentGroup("im");
  EXPECT_EQ(tests, std::set<std::string>(im.begin(), im.end()));
}

TEST(RunCommandTest, TheTableAndTheOutputFile) {
  SilentResolver resolver;
  ASSERT_TRUE(resolver.ok());
  test_support::TempDir dir("vigil-run-");
  ASSERT_TRUE(dir.ok()) << dir.error();
  const std::string output = dir.Join("out/run.jsonl");
  auto r = RunCommand({VigilBinary(), "run", "whatsapp", "--timeout", "0.5", "--resolver",
                       resolver.url(), "--output", output},
                      60s);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("SERVICE"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("WhatsApp"), std::string::npos) << r.output;
  // The resolver answers nobody, the canary names included: this machine has no
  // network, which says nothing about censorship.
  EXPECT_NE(r.output.find("no_network"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("blocked (dns)"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("resolve generic_timeout_error"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("1 measurements: 0 ok, 0 blocked, 0 anomaly, 1 no_network"),
            std::string::npos)
      << r.output;
  const std::string written = test_support::ReadFileOrEmpty(output);
  ASSERT_FALSE(written.empty());
  auto m = ParseMeasurement(written.substr(0, written.find('\n')));
  ASSERT_TRUE(m.ok()) << m.error();
  EXPECT_EQ(m->test_name, "whatsapp");
  EXPECT_EQ(m->test_keys.extra["x_network"]["usable"], false);

  // The analyzer's store and `vigil query` say the same of the same measurement.
  const std::string store = "sqlite:" + dir.Join("analysis.sqlite");
  auto analyzed = RunCommand({VigilBinary(), "analyze", "--store", store, output}, 60s);
  ASSERT_EQ(analyzed.exit_code, 0) << analyzed.output;
  EXPECT_NE(analyzed.output.find("verdicts: 0 ok, 0 blocked, 0 anomaly, 0 down, 1 no_network"),
            std::string::npos)
      << analyzed.output;
  auto listed = RunCommand({VigilBinary(), "query", "measurements", "--store", store, "--since",
                            "2020-01-01", "--format", "csv"},
                           60s);
  ASSERT_EQ(listed.exit_code, 0) << listed.output;
  EXPECT_NE(listed.output.find(",no_network,"), std::string::npos) << listed.output;
}

TEST(RunCommandTest, WhereTheNetworkWorksTheSameFailuresAreBlocking) {
  if (auto why = test_support::UnboundServer::Unavailable()) GTEST_SKIP() << *why;
  // A resolver that answers for a canary name and refuses WhatsApp's names.
  test_support::UnboundServer resolver({"example.com. 300 IN A 127.0.0.1"});
  ASSERT_TRUE(resolver.ok()) << resolver.error();
  test_support::TempDir dir("vigil-run-");
  ASSERT_TRUE(dir.ok()) << dir.error();
  auto r = RunCommand(
      {VigilBinary(), "run", "whatsapp", "--timeout", "0.5", "--resolver",
       "udp://127.0.0.1:" + std::to_string(resolver.port()), "--output", dir.Join("run.jsonl")},
      60s);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("1 measurements: 0 ok, 1 blocked"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("blocked (dns)"), std::string::npos) << r.output;  // progress line
}

TEST(RunCommandTest, BadArgumentsAndFilesGetOneLineAndStatus2) {
  test_support::TempDir dir("vigil-run-");
  ASSERT_TRUE(dir.ok()) << dir.error();
  auto unknown = RunCommand({VigilBinary(), "run", "nosuchtest"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.output.find("unknown experiment or group 'nosuchtest'"), std::string::npos)
      << unknown.output;

  const std::string bad = dir.Join("bad.csv");
  std::ofstream(bad) << "name,kind,real,lab_ipv4,lab_ipv6,asn,as_org,notes\n"
                     << "149.154.175.50,ip,149.154.175.50,198.18.70.1,fd00:64::70:1,62041,x,\n"
                     << "x,ip,149.154.167.51,not-an-ip,,62041,x,\n";
  auto endpoints = RunCommand({VigilBinary(), "run", "telegram", "--endpoints", bad});
  EXPECT_EQ(endpoints.exit_code, 2);
  EXPECT_NE(endpoints.output.find(bad + ":3: lab_ipv4: \"not-an-ip\" is not an IPv4 address"),
            std::string::npos)
      << endpoints.output;

  auto missing = RunCommand({VigilBinary(), "run", "im", "--input-file", dir.Join("none.txt")});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.output.find("none.txt: cannot read"), std::string::npos) << missing.output;

  auto resolver = RunCommand({VigilBinary(), "run", "im", "--resolver", "smtp://1.2.3.4"});
  EXPECT_EQ(resolver.exit_code, 2);
  EXPECT_NE(resolver.output.find("--resolver"), std::string::npos) << resolver.output;
}

}  // namespace
}  // namespace vigil
