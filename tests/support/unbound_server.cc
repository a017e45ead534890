#include "tests/support/unbound_server.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <random>
#include <thread>

#include "tests/support/child_process.h"
#include "tests/support/loopback_port.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_pki.h"

namespace vigil::test_support {
namespace {

constexpr char kUnbound[] = "/usr/sbin/unbound";
// A second attempt on fresh ports covers the rare port taken by another process between
// FreeLoopbackPort() and unbound's bind().
constexpr int kStartAttempts = 3;
constexpr std::chrono::seconds kStartTimeout(5);

constexpr char kExampleZone[] = R"($ORIGIN example.test.
$TTL 300
@       IN SOA   example.test. hostmaster.example.test. 1 3600 600 86400 60
@       IN NS    example.test.
@       IN A     127.0.0.1
www     IN A     127.0.0.1
www     IN AAAA  ::1
multi   IN A     127.0.0.1
multi   IN A     127.0.0.2
alias   IN CNAME www.example.test.
v4only  IN A     127.0.0.1
)";

// Why each setting is there:
// - no chroot, user switch, syslog, pidfile or remote control: a throwaway child of the
//   test process that must run as root (CI) and as a developer alike;
// - so-reuseport off, so that a second unbound that picked the same port fails to start
//   instead of silently sharing the queries;
// - caches at their minimum, so that every answer is computed from the zones below;
// - the zones: example.test is authoritative data (so CNAMEs are followed, and unknown
//   names are NXDOMAIN with an SOA), servfail.test an authoritative zone with no data,
//   which unbound answers with SERVFAIL at once; "." refuse answers everything else;
// - "test." nodefault lifts unbound's built-in RFC 6761 zone that would answer NXDOMAIN
//   for all of .test before the zones above are consulted;
// - the forward zone fails closed: 127.0.0.1 is on the default do-not-query list, so if a
//   query ever reaches the iterator it ends in SERVFAIL without a packet leaving loopback.
// - the encrypted ports (optional) are extra interfaces with their own port numbers; the
//   certificate is TestPki's valid one, which names 127.0.0.1 and *.example.test.
std::string Config(const TempDir& dir, uint16_t port, uint16_t tls_port, uint16_t https_port,
                   const std::vector<std::string>& local_data) {
  std::string config = "server:\n";
  config += "  directory: \"" + dir.path() + "\"\n";
  config += "  port: " + std::to_string(port) + "\n";
  if (tls_port != 0) {
    const CertificateFiles& files = TestPki::Get().valid();
    config += "  interface: 127.0.0.1@" + std::to_string(tls_port) + "\n";
    config += "  interface: 127.0.0.1@" + std::to_string(https_port) + "\n";
    config += "  tls-port: " + std::to_string(tls_port) + "\n";
    config += "  https-port: " + std::to_string(https_port) + "\n";
    config += "  tls-service-key: \"" + files.key + "\"\n";
    config += "  tls-service-pem: \"" + files.cert + "\"\n";
  }
  config += R"(  username: ""
  chroot: ""
  pidfile: ""
  use-syslog: no
  logfile: ""
  log-time-ascii: yes
  verbosity: 1
  interface: 127.0.0.1
  outgoing-interface: 127.0.0.1
  so-reuseport: no
  do-ip4: yes
  do-ip6: no
  do-udp: yes
  do-tcp: yes
  num-threads: 1
  module-config: "iterator"
  msg-cache-size: 0
  rrset-cache-size: 0
  neg-cache-size: 0
  do-not-query-localhost: yes
  access-control: 127.0.0.0/8 allow
  local-zone: "." refuse
  local-zone: "test." nodefault
  local-zone: "example.test." transparent
  local-zone: "servfail.test." transparent
  local-zone: "refused.test." refuse
)";
  for (const std::string& line : local_data) {
    // Unbound takes either quote; pick the one the record (a TXT, say) does not contain.
    const char quote = line.find('"') == std::string::npos ? '"' : '\'';
    config += "  local-data: ";
    config += quote + line + quote + "\n";
  }
  config += R"(remote-control:
  control-enable: no
auth-zone:
  name: "example.test."
  zonefile: "example.test.zone"
  for-downstream: yes
  for-upstream: no
  fallback-enabled: no
auth-zone:
  name: "servfail.test."
  for-downstream: yes
  for-upstream: no
  fallback-enabled: no
forward-zone:
  name: "."
  forward-addr: 127.0.0.1@9
)";
  return config;
}

// Splits a record line into its owner name (absolute, lower case) and the rest.
std::pair<std::string, std::string> SplitOwner(const std::string& line) {
  const size_t begin = line.find_first_not_of(" \t");
  if (begin == std::string::npos) return {"", ""};
  const size_t end = std::min(line.find_first_of(" \t", begin), line.size());
  std::string owner = line.substr(begin, end - begin);
  std::transform(owner.begin(), owner.end(), owner.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (owner.back() != '.') owner += '.';
  return {owner, line.substr(end)};
}

bool InExampleZone(const std::string& owner) {
  constexpr std::string_view kApex = "example.test.";
  constexpr std::string_view kBelow = ".example.test.";
  return owner == kApex ||
         (owner.size() > kBelow.size() &&
          owner.compare(owner.size() - kBelow.size(), kBelow.size(), kBelow) == 0);
}

// A real query (example.test A, recursion desired) over UDP: unbound is ready when it
// answers one, not merely when its socket exists.
bool AnswersQuery(uint16_t port) {
  const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  static std::minstd_rand ids(static_cast<unsigned>(getpid()));
  const uint16_t id = static_cast<uint16_t>(ids());
  const unsigned char query[] = {static_cast<unsigned char>(id >> 8),
                                 static_cast<unsigned char>(id & 0xff),
                                 0x01,
                                 0x00,
                                 0x00,
                                 0x01,
                                 0x00,
                                 0x00,
                                 0x00,
                                 0x00,
                                 0x00,
                                 0x00,
                                 7,
                                 'e',
                                 'x',
                                 'a',
                                 'm',
                                 'p',
                                 'l',
                                 'e',
                                 4,
                                 't',
                                 'e',
                                 's',
                                 't',
                                 0,
                                 0x00,
                                 0x01,
                                 0x00,
                                 0x01};
  bool answered = false;
  if (connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0 &&
      send(fd, query, sizeof query, 0) == static_cast<ssize_t>(sizeof query)) {
    pollfd pfd{fd, POLLIN, 0};
    unsigned char reply[512];
    if (poll(&pfd, 1, 100) == 1) {
      const ssize_t n = recv(fd, reply, sizeof reply, 0);
      answered = n >= 12 && reply[0] == query[0] && reply[1] == query[1] && (reply[2] & 0x80);
    }
  }
  close(fd);
  return answered;
}

}  // namespace

std::optional<std::string> UnboundServer::Unavailable() {
  if (!IsExecutable(kUnbound)) return std::string(kUnbound) + " is not installed";
  return std::nullopt;
}

UnboundServer::UnboundServer(std::vector<std::string> extra_records)
    : UnboundServer(UnboundOptions{std::move(extra_records), false}) {}

UnboundServer::UnboundServer(UnboundOptions options) : options_(std::move(options)) {
  std::optional<std::string> reason = Unavailable();
  if (!reason && options_.encrypted) reason = TestPki::Unavailable();
  if (reason) {
    error_ = *reason;
    return;
  }
  std::string error;
  if (options_.encrypted && !TestPki::Get().ok()) {
    error = "no certificates: " + TestPki::Get().error();
  } else {
    for (int attempt = 0; attempt < kStartAttempts; ++attempt) {
      if (StartOnce(&error)) return;
    }
  }
  port_ = tls_port_ = https_port_ = 0;
  error_ = "UnboundServer: " + error;
  ADD_FAILURE() << error_;
}

UnboundServer::~UnboundServer() = default;

bool UnboundServer::StartOnce(std::string* error) {
  process_.reset();
  dir_ = std::make_unique<TempDir>("vigil-unbound-");
  if (!dir_->ok()) {
    *error = dir_->error();
    return false;
  }
  port_ = FreeLoopbackPort();
  if (options_.encrypted) {
    tls_port_ = FreeLoopbackPort();
    https_port_ = FreeLoopbackPort();
  }
  if (port_ == 0 || (options_.encrypted && (tls_port_ == 0 || https_port_ == 0))) {
    *error = "no free loopback port";
    return false;
  }
  std::string zone = kExampleZone;
  std::vector<std::string> local_data;
  for (const std::string& record : options_.extra_records) {
    auto [owner, rest] = SplitOwner(record);
    if (owner.empty()) continue;
    if (InExampleZone(owner)) {
      zone += owner + rest + "\n";
    } else {
      local_data.push_back(owner + rest);
    }
  }
  const std::string config = dir_->Join("unbound.conf");
  if (!dir_->WriteFile("example.test.zone", zone, error) ||
      !dir_->WriteFile("unbound.conf", Config(*dir_, port_, tls_port_, https_port_, local_data),
                       error)) {
    return false;
  }
  process_ = std::make_unique<ChildProcess>();
  if (!process_->Start({kUnbound, "-d", "-c", config}, dir_->Join("unbound.log"), error)) {
    return false;
  }
  const auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!process_->Running()) {
      *error = "unbound " + process_->ExitDescription() + " on port " + std::to_string(port_) +
               "; log:\n" + Log();
      return false;
    }
    if (AnswersQuery(port_) && (!options_.encrypted || (TcpConnects("127.0.0.1", tls_port_) &&
                                                        TcpConnects("127.0.0.1", https_port_)))) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  *error = "unbound did not answer on port " + std::to_string(port_) + " within " +
           std::to_string(kStartTimeout.count()) + " s; log:\n" + Log();
  return false;
}

std::string UnboundServer::address() const { return "127.0.0.1:" + std::to_string(port_); }

std::string UnboundServer::Log() const {
  return dir_ ? ReadFileOrEmpty(dir_->Join("unbound.log")) : std::string();
}

}  // namespace vigil::test_support
