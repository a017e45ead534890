// lab_censor with real traffic: a private three-namespace topology (client `a`,
// censor, server `b`, joined by veths through the censor's user-space bridge), real
// sockets on both ends, and the ground truth file checked against what they saw.
// Needs root and `ip netns`; skips with a message otherwise. Leaves nothing behind.
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/lab/censor/dns_wire.h"

namespace vigil::lab {
namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kClientIp = "198.19.0.1";
constexpr const char* kServerIp = "198.19.0.2";
constexpr const char* kOtherServerIp = "198.19.0.3";

// Namespaces and the censor's pid, for the signal handler: it may only make
// async-signal-safe calls, so it detaches the netns mounts itself instead of running
// `ip netns del`.
char g_ns_paths[3][64];
volatile pid_t g_censor_pid = 0;

void CleanupOnSignal(int sig) {
  if (g_censor_pid > 0) kill(g_censor_pid, SIGKILL);
  for (auto& path : g_ns_paths) {
    if (path[0] != '\0') {
      umount2(path, MNT_DETACH);
      unlink(path);
    }
  }
  signal(sig, SIG_DFL);
  raise(sig);
}

int Shell(const std::string& cmd) {
  int rc = std::system((cmd + " >/dev/null 2>&1").c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

// Removes namespaces left by an earlier run that was SIGKILLed (no handler ran).
void RemoveStaleNamespaces() {
  DIR* dir = opendir("/run/netns");
  if (dir == nullptr) return;
  while (dirent* e = readdir(dir)) {
    std::string name = e->d_name;
    if (!name.starts_with("vglt")) continue;
    pid_t pid = std::atoi(name.c_str() + 4);
    if (pid > 0 && kill(pid, 0) != 0 && errno == ESRCH) Shell("ip netns del " + name);
  }
  closedir(dir);
}

// Runs `fn` with the calling thread inside network namespace `ns`, so the sockets it
// creates live there; they keep working after the thread switches back.
template <typename Fn>
auto InNetns(const std::string& ns, Fn fn) {
  int self = open("/proc/thread-self/ns/net", O_RDONLY);
  int target = open(("/run/netns/" + ns).c_str(), O_RDONLY);
  EXPECT_GE(target, 0) << ns;
  EXPECT_EQ(setns(target, CLONE_NEWNET), 0) << std::strerror(errno);
  auto result = fn();
  EXPECT_EQ(setns(self, CLONE_NEWNET), 0);
  close(target);
  close(self);
  return result;
}

sockaddr_in Addr(const char* ip, uint16_t port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  inet_pton(AF_INET, ip, &sa.sin_addr);
  return sa;
}

void SetTimeout(int fd, int ms) {
  timeval tv{ms / 1000, (ms % 1000) * 1000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

class Topology {
 public:
  Topology() {
    prefix_ = "vglt" + std::to_string(getpid());
    a_ = prefix_ + "-a";
    c_ = prefix_ + "-censor";
    b_ = prefix_ + "-b";
    const std::string* names[] = {&a_, &c_, &b_};
    for (int i = 0; i < 3; ++i) {
      std::snprintf(g_ns_paths[i], sizeof g_ns_paths[i], "/run/netns/%s", names[i]->c_str());
    }
    for (int sig : {SIGINT, SIGTERM, SIGABRT, SIGSEGV}) signal(sig, CleanupOnSignal);
    ok_ = Setup();
  }
  ~Topology() {
    for (const auto& ns : {a_, c_, b_}) Shell("ip netns del " + ns);
    for (auto& path : g_ns_paths) path[0] = '\0';
  }
  bool ok() const { return ok_; }
  const std::string& a() const { return a_; }
  const std::string& b() const { return b_; }
  const std::string& censor() const { return c_; }

 private:
  bool Setup() {
    std::vector<std::string> cmds = {
        "ip netns add " + a_,
        "ip netns add " + c_,
        "ip netns add " + b_,
        "ip -n " + c_ + " link add in type veth peer name eth0 netns " + a_,
        "ip -n " + c_ + " link add out type veth peer name eth0 netns " + b_,
    };
    for (const auto& ns : {a_, c_, b_}) {
      // No IPv6 chatter (router solicitations, DAD) to bridge or to confuse counts.
      cmds.push_back("ip netns exec " + ns + " sysctl -qw net.ipv6.conf.all.disable_ipv6=1");
      cmds.push_back("ip netns exec " + ns + " sysctl -qw net.ipv6.conf.default.disable_ipv6=1");
      cmds.push_back("ip -n " + ns + " link set lo up");
    }
    cmds.push_back("ip -n " + c_ + " link set in up");
    cmds.push_back("ip -n " + c_ + " link set out up");
    cmds.push_back("ip -n " + a_ + " addr add " + kClientIp + "/24 dev eth0");
    cmds.push_back("ip -n " + a_ + " link set eth0 up");
    cmds.push_back("ip -n " + b_ + " addr add " + kServerIp + "/24 dev eth0");
    cmds.push_back("ip -n " + b_ + " addr add " + kOtherServerIp + "/24 dev eth0");
    cmds.push_back("ip -n " + b_ + " link set eth0 up");
    for (const auto& cmd : cmds) {
      if (Shell(cmd) != 0) {
        error_ = cmd;
        return false;
      }
    }
    return true;
  }

 public:
  std::string error_;

 private:
  std::string prefix_, a_, c_, b_;
  bool ok_ = false;
};

// One lab_censor process in the censor namespace, stopped with SIGTERM.
class CensorProcess {
 public:
  CensorProcess(const Topology& topo, const std::string& scenario_yaml) {
    dir_ = "/tmp/vglt" + std::to_string(getpid()) + "-" + std::to_string(counter_++);
    Shell("mkdir -p " + dir_);
    std::ofstream(dir_ + "/scenario.yaml") << scenario_yaml;
    truth_ = dir_ + "/truth.jsonl";
    pid_ = fork();
    if (pid_ == 0) {
      execlp("ip", "ip", "netns", "exec", topo.censor().c_str(), LAB_CENSOR_BINARY, "--in", "in",
             "--out", "out", "--scenario", (dir_ + "/scenario.yaml").c_str(), "--truth",
             truth_.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    g_censor_pid = pid_;
    // Ready once it has opened both interfaces and written the first phase_start.
    for (int i = 0; i < 100 && !ready_; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      ready_ = ReadFile(truth_).find("phase_start") != std::string::npos;
    }
  }
  ~CensorProcess() {
    Stop();
    Shell("rm -rf " + dir_);
  }
  int Stop() {
    if (pid_ <= 0) return exit_code_;
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = 0;
    g_censor_pid = 0;
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return exit_code_;
  }
  bool ready() const { return ready_; }
  std::vector<nlohmann::json> Truth() const {
    std::vector<nlohmann::json> lines;
    std::istringstream in(ReadFile(truth_));
    for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
    return lines;
  }
  std::vector<nlohmann::json> Actions(const std::string& action) const {
    std::vector<nlohmann::json> out;
    for (auto& l : Truth()) {
      if (l.value("action", "") == action) out.push_back(l);
    }
    return out;
  }

 private:
  static std::string ReadFile(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  static inline int counter_ = 0;
  std::string dir_, truth_;
  pid_t pid_ = 0;
  bool ready_ = false;
  int exit_code_ = -1;
};

// A TCP server in namespace b that echoes (or, with echo false, reads and stays
// silent, like a TLS server waiting for more), until the test ends.
class TcpServer {
 public:
  TcpServer(const Topology& topo, const char* ip, uint16_t port, bool echo) {
    fd_ = InNetns(topo.b(), [] { return socket(AF_INET, SOCK_STREAM, 0); });
    int one = 1;
    setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in sa = Addr(ip, port);
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0) << std::strerror(errno);
    listen(fd_, 16);
    thread_ = std::thread([this, echo] {
      while (!stop_) {
        pollfd p{fd_, POLLIN, 0};
        if (poll(&p, 1, 100) <= 0) continue;
        int c = accept(fd_, nullptr, nullptr);
        if (c < 0) continue;
        std::thread([c, echo, this] {
          SetTimeout(c, 200);
          char buf[65536];
          while (!stop_) {
            ssize_t n = recv(c, buf, sizeof buf, 0);
            if (n == 0 || (n < 0 && errno != EAGAIN)) break;
            if (n > 0 && echo) send(c, buf, static_cast<size_t>(n), MSG_NOSIGNAL);
          }
          close(c);
        }).detach();
      }
    });
  }
  ~TcpServer() {
    stop_ = true;
    thread_.join();
    close(fd_);
    std::this_thread::sleep_for(std::chrono::milliseconds(250));  // connection threads end
  }

 private:
  int fd_ = -1;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// Connects from namespace a; returns the socket, or -errno.
int Connect(const Topology& topo, const char* ip, uint16_t port, int timeout_ms = 2000) {
  int fd = InNetns(topo.a(), [] { return socket(AF_INET, SOCK_STREAM, 0); });
  SetTimeout(fd, timeout_ms);
  sockaddr_in sa = Addr(ip, port);
  if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    int err = errno;
    close(fd);
    return -err;
  }
  return fd;
}

bool EchoRoundTrip(int fd, size_t bytes) {
  std::string data(bytes, '\0');
  for (size_t i = 0; i < bytes; ++i) data[i] = static_cast<char>('a' + i % 26);
  std::thread writer([&] { send(fd, data.data(), data.size(), MSG_NOSIGNAL); });
  std::string got;
  char buf[65536];
  while (got.size() < bytes) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  writer.join();
  return got == data;
}

// A UDP socket in namespace a talking to a UDP echo in namespace b.
double UdpEchoRttMs(const Topology& topo, int rounds) {
  int server = InNetns(topo.b(), [] { return socket(AF_INET, SOCK_DGRAM, 0); });
  sockaddr_in sa = Addr(kServerIp, 7001);
  bind(server, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
  SetTimeout(server, 3000);
  std::thread echo([&] {
    for (int i = 0; i < rounds; ++i) {
      char buf[512];
      sockaddr_in from{};
      socklen_t len = sizeof from;
      ssize_t n = recvfrom(server, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
      if (n <= 0) return;
      sendto(server, buf, static_cast<size_t>(n), 0, reinterpret_cast<sockaddr*>(&from), len);
    }
  });
  int client = InNetns(topo.a(), [] { return socket(AF_INET, SOCK_DGRAM, 0); });
  SetTimeout(client, 3000);
  double best = -1;
  for (int i = 0; i < rounds; ++i) {
    auto t0 = Clock::now();
    sendto(client, "ping", 4, 0, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
    char buf[16];
    if (recv(client, buf, sizeof buf, 0) != 4) {
      best = -1;
      break;
    }
    double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    if (best < 0 || ms < best) best = ms;
  }
  echo.join();
  close(client);
  close(server);
  return best;
}

std::string ClientHello(const std::string& sni) {
  auto u16 = [](size_t v) { return std::string{static_cast<char>(v >> 8), static_cast<char>(v)}; };
  std::string name = std::string(1, '\0') + u16(sni.size()) + sni;
  std::string ext = u16(0) + u16(name.size() + 2) + u16(name.size()) + name;
  std::string body = std::string("\x03\x03", 2) + std::string(32, 'r') + std::string(1, '\0') +
                     u16(2) + std::string("\x13\x01", 2) + std::string("\x01\x00", 2) +
                     u16(ext.size()) + ext;
  std::string hs = std::string(1, '\x01') + std::string(1, '\0') + u16(body.size()) + body;
  return std::string("\x16\x03\x01", 3) + u16(hs.size()) + hs;
}

class CensorIntegration : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (geteuid() != 0) {
      skip_ = "needs root (network namespaces)";
      return;
    }
    if (Shell("ip netns list") != 0) {
      skip_ = "`ip netns` is unavailable";
      return;
    }
    RemoveStaleNamespaces();
    topo_ = new Topology();
    if (!topo_->ok()) skip_ = "cannot build the namespace topology: " + topo_->error_;
  }
  static void TearDownTestSuite() {
    delete topo_;
    topo_ = nullptr;
  }
  void SetUp() override {
    if (!skip_.empty()) GTEST_SKIP() << skip_;
  }
  static inline Topology* topo_ = nullptr;
  static inline std::string skip_;
};

constexpr const char* kClean = "name: clean\nphases:\n  - start: 0s\n";

TEST_F(CensorIntegration, CleanScenarioForwardsTcpAndUdpBothWays) {
  CensorProcess censor(*topo_, kClean);
  ASSERT_TRUE(censor.ready());
  TcpServer server(*topo_, kServerIp, 7000, true);
  int fd = Connect(*topo_, kServerIp, 7000);
  ASSERT_GE(fd, 0) << std::strerror(-fd);
  // Large enough to make the sender's veth hand over TSO super-segments.
  EXPECT_TRUE(EchoRoundTrip(fd, 512 * 1024));
  close(fd);
  EXPECT_GT(UdpEchoRttMs(*topo_, 3), 0);
  EXPECT_EQ(censor.Stop(), 0);
  auto truth = censor.Truth();
  ASSERT_EQ(truth.size(), 1u);
  EXPECT_EQ(truth[0]["event"], "phase_start");
}

TEST_F(CensorIntegration, DropBlackholesOnlyTheListedAddress) {
  CensorProcess censor(*topo_, R"(name: bh
phases:
  - start: 0s
    rules:
      - {id: bh, match: {dst_ip: 198.19.0.3/32}, action: drop}
)");
  ASSERT_TRUE(censor.ready());
  TcpServer open(*topo_, kServerIp, 7000, true);
  TcpServer blocked(*topo_, kOtherServerIp, 7000, true);
  int fd = Connect(*topo_, kOtherServerIp, 7000, 1500);
  EXPECT_LT(fd, 0);
  if (fd < 0) {
    EXPECT_TRUE(-fd == EINPROGRESS || -fd == ETIMEDOUT || -fd == EAGAIN) << -fd;
  }
  if (fd >= 0) close(fd);
  int ok = Connect(*topo_, kServerIp, 7000);
  ASSERT_GE(ok, 0);
  EXPECT_TRUE(EchoRoundTrip(ok, 1000));
  close(ok);
  censor.Stop();
  auto drops = censor.Actions("drop");
  ASSERT_EQ(drops.size(), 1u);
  EXPECT_EQ(drops[0]["rule"], "bh");
  EXPECT_EQ(drops[0]["flow"]["dst"], kOtherServerIp);
}

TEST_F(CensorIntegration, DelayAddsTwiceTheDelayToTheRoundTrip) {
  double base = 0;
  {
    CensorProcess censor(*topo_, kClean);
    ASSERT_TRUE(censor.ready());
    base = UdpEchoRttMs(*topo_, 5);
  }
  ASSERT_GT(base, 0);
  CensorProcess censor(*topo_, R"(name: d
phases:
  - start: 0s
    rules:
      - {id: slow, action: delay, ms: 50}
)");
  ASSERT_TRUE(censor.ready());
  double delayed = UdpEchoRttMs(*topo_, 5);
  EXPECT_GE(delayed, 100.0);
  EXPECT_LT(delayed, 100.0 + base + 30.0);
}

TEST_F(CensorIntegration, DnsInjectionArrivesBeforeTheGenuineAnswer) {
  CensorProcess censor(*topo_, R"(name: dns
phases:
  - start: 0s
    rules:
      - id: dns
        match: {dns_qname: {suffix: [whatsapp.net]}}
        action: dns_inject
        pool: [198.18.240.7]
        copies: 2
)");
  ASSERT_TRUE(censor.ready());
  // The genuine resolver answers 20 ms late, like a real one across the border.
  int server = InNetns(topo_->b(), [] { return socket(AF_INET, SOCK_DGRAM, 0); });
  sockaddr_in sa = Addr(kServerIp, 53);
  ASSERT_EQ(bind(server, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  SetTimeout(server, 3000);
  std::thread resolver([&] {
    uint8_t buf[512];
    sockaddr_in from{};
    socklen_t len = sizeof from;
    ssize_t n = recvfrom(server, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
    if (n <= 0) return;
    auto q = ParseDnsQuery(std::span<const uint8_t>(buf, static_cast<size_t>(n)));
    if (!q) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    auto reply = BuildDnsResponse(*q, 0x8180, IpAddress::Parse("198.19.9.9"), 300);
    sendto(server, reply.data(), reply.size(), 0, reinterpret_cast<sockaddr*>(&from), len);
  });
  int client = InNetns(topo_->a(), [] { return socket(AF_INET, SOCK_DGRAM, 0); });
  SetTimeout(client, 1000);
  // A query for e1.whatsapp.net, type A.
  std::vector<uint8_t> query = {0xab, 0xcd, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
  for (std::string label : {"e1", "whatsapp", "net"}) {
    query.push_back(static_cast<uint8_t>(label.size()));
    query.insert(query.end(), label.begin(), label.end());
  }
  query.insert(query.end(), {0, 0, 1, 0, 1});
  sendto(client, query.data(), query.size(), 0, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
  std::vector<std::string> answers;
  for (int i = 0; i < 3; ++i) {
    uint8_t buf[512];
    ssize_t n = recv(client, buf, sizeof buf, 0);
    if (n <= 0) break;
    ASSERT_GE(n, 4);
    answers.push_back(std::to_string(buf[n - 4]) + "." + std::to_string(buf[n - 3]) + "." +
                      std::to_string(buf[n - 2]) + "." + std::to_string(buf[n - 1]));
  }
  resolver.join();
  close(client);
  close(server);
  EXPECT_EQ(answers, (std::vector<std::string>{"198.18.240.7", "198.18.240.7", "198.19.9.9"}));
  censor.Stop();
  auto injected = censor.Actions("dns_inject");
  ASSERT_EQ(injected.size(), 1u);
  EXPECT_EQ(injected[0]["detail"]["qname"], "e1.whatsapp.net");
}

// Counts TCP RSTs arriving at the client's interface while it is open.
class RstCounter {
 public:
  explicit RstCounter(const Topology& topo) {
    char err[PCAP_ERRBUF_SIZE];
    pcap_ = InNetns(topo.a(), [&] {
      pcap_t* p = pcap_create("eth0", err);
      pcap_set_immediate_mode(p, 1);
      pcap_set_snaplen(p, 256);
      pcap_activate(p);
      return p;
    });
    bpf_program prog{};
    pcap_compile(pcap_, &prog, "tcp[tcpflags] & tcp-rst != 0", 1, PCAP_NETMASK_UNKNOWN);
    pcap_setfilter(pcap_, &prog);
    pcap_freecode(&prog);
    pcap_setnonblock(pcap_, 1, err);
  }
  ~RstCounter() { pcap_close(pcap_); }
  int Count() {
    pcap_dispatch(
        pcap_, -1,
        [](u_char* user, const pcap_pkthdr*, const u_char*) { ++*reinterpret_cast<int*>(user); },
        reinterpret_cast<u_char*>(&count_));
    return count_;
  }

 private:
  pcap_t* pcap_ = nullptr;
  int count_ = 0;
};

TEST_F(CensorIntegration, Gfw2ResetsTheClientHelloThenResidualBlocksTheThreeTuple) {
  CensorProcess censor(*topo_, R"(name: sni
phases:
  - start: 0s
    rules:
      - id: wa
        match: {sni: {suffix: [whatsapp.net]}}
        action: rst_inject
        type: gfw2
        residual: {seconds: 2}
)");
  ASSERT_TRUE(censor.ready());
  TcpServer server(*topo_, kServerIp, 443, false);
  TcpServer control(*topo_, kServerIp, 8443, true);
  RstCounter rsts(*topo_);

  int fd = Connect(*topo_, kServerIp, 443);
  ASSERT_GE(fd, 0) << std::strerror(-fd);
  std::string hello = ClientHello("mmg.whatsapp.net");
  auto fired = Clock::now();
  ASSERT_EQ(send(fd, hello.data(), hello.size(), MSG_NOSIGNAL), static_cast<ssize_t>(hello.size()));
  char buf[64];
  ssize_t n = recv(fd, buf, sizeof buf, 0);
  int err = errno;
  EXPECT_EQ(n, -1);
  EXPECT_EQ(err, ECONNRESET) << std::strerror(err);
  close(fd);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(rsts.Count(), 3);

  // Residual: an innocent connection on the same 3-tuple is refused at once...
  int again = Connect(*topo_, kServerIp, 443);
  EXPECT_EQ(again, -ECONNREFUSED);
  if (again >= 0) close(again);
  // ...while another port on the same server works.
  int other = Connect(*topo_, kServerIp, 8443);
  ASSERT_GE(other, 0);
  EXPECT_TRUE(EchoRoundTrip(other, 100));
  close(other);

  // After the residual period the 3-tuple is open again.
  std::this_thread::sleep_until(fired + std::chrono::milliseconds(2300));
  int later = Connect(*topo_, kServerIp, 443);
  EXPECT_GE(later, 0) << std::strerror(-later);
  if (later >= 0) {
    EXPECT_EQ(send(later, "hello", 5, MSG_NOSIGNAL), 5);
    close(later);
  }
  censor.Stop();
  auto rst = censor.Actions("rst_inject");
  ASSERT_EQ(rst.size(), 2u);
  EXPECT_EQ(rst[0]["detail"]["sni"], "mmg.whatsapp.net");
  EXPECT_EQ(rst[0]["detail"]["rst_type"], "gfw2");
  EXPECT_FALSE(rst[0]["detail"].contains("residual"));
  EXPECT_EQ(rst[1]["detail"]["residual"], true);
  EXPECT_EQ(rst[1]["flow"]["dport"], 443);
}

TEST_F(CensorIntegration, KeywordDropLosesTheMessageButKeepsTheConnection) {
  CensorProcess censor(*topo_, R"(name: kw
phases:
  - start: 0s
    rules:
      - {id: kw, match: {keywords: [[tiananmen, "1989"]]}, action: keyword_drop}
)");
  ASSERT_TRUE(censor.ready());
  TcpServer server(*topo_, kServerIp, 7000, true);
  int fd = Connect(*topo_, kServerIp, 7000);
  ASSERT_GE(fd, 0);
  auto exchange = [&](const std::string& msg) {
    send(fd, msg.data(), msg.size(), MSG_NOSIGNAL);
    char buf[256];
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string("<none>");
  };
  SetTimeout(fd, 700);
  EXPECT_EQ(exchange("tiananmen square"), "tiananmen square");
  EXPECT_EQ(exchange("june 1989"), "<none>");  // dropped silently
  EXPECT_EQ(exchange("still there?"), "still there?");
  close(fd);
  censor.Stop();
  EXPECT_EQ(censor.Actions("keyword_drop").size(), 1u);
}

}  // namespace
}  // namespace vigil::lab
