// Self-test of the loopback servers that the observer tests run against: real clients
// (dig, curl, plain sockets) check that UnboundServer, NginxServer and MisbehavingListeners
// behave as their headers promise, so that an observer test failing means the observer.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/child_process.h"
#include "tests/support/loopback_port.h"
#include "tests/support/misbehaving_listeners.h"
#include "tests/support/nginx_server.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_pki.h"
#include "tests/support/unbound_server.h"

namespace vigil::test_support {
namespace {

constexpr char kDig[] = "/usr/bin/dig";
constexpr char kCurl[] = "/usr/bin/curl";

// ---------------------------------------------------------------------------------------
// DNS

struct DigReply {
  int exit_code = -1;
  std::string status;                // "NOERROR", "NXDOMAIN", ...
  std::vector<std::string> answers;  // "name TYPE data", sorted
  std::string output;
};

DigReply Dig(uint16_t port, const std::string& name, const std::string& type, bool tcp = false) {
  // -r: ignore ~/.digrc, which could add options to every query.
  CommandResult run =
      RunCommand({kDig, "-r", "@127.0.0.1", "-p", std::to_string(port), "+tries=1", "+time=2",
                  tcp ? "+tcp" : "+notcp", "+noall", "+comments", "+answer", name, type});
  DigReply reply;
  reply.exit_code = run.exit_code;
  reply.output = run.output;
  size_t start = 0;
  while (start < run.output.size()) {
    size_t end = run.output.find('\n', start);
    if (end == std::string::npos) end = run.output.size();
    const std::string line = run.output.substr(start, end - start);
    start = end + 1;
    const size_t status = line.find("status: ");
    if (status != std::string::npos) {
      reply.status = line.substr(status + 8, line.find(',', status) - status - 8);
      continue;
    }
    if (line.empty() || line[0] == ';') continue;
    // name TTL class type data...
    std::vector<std::string> fields;
    size_t pos = 0;
    while (fields.size() < 4) {
      pos = line.find_first_not_of(" \t", pos);
      if (pos == std::string::npos) break;
      const size_t field_end = std::min(line.find_first_of(" \t", pos), line.size());
      fields.push_back(line.substr(pos, field_end - pos));
      pos = field_end;
    }
    if (fields.size() < 4 || pos == std::string::npos) continue;
    const std::string data = line.substr(line.find_first_not_of(" \t", pos));
    reply.answers.push_back(fields[0] + " " + fields[3] + " " + data);
  }
  std::sort(reply.answers.begin(), reply.answers.end());
  return reply;
}

class UnboundServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!UnboundServer::Unavailable() && IsExecutable(kDig)) server_ = new UnboundServer();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override {
    if (std::optional<std::string> reason = UnboundServer::Unavailable()) GTEST_SKIP() << *reason;
    if (!IsExecutable(kDig)) GTEST_SKIP() << kDig << " is not installed";
    ASSERT_TRUE(server_->ok()) << server_->error();
  }

  static UnboundServer* server_;
};

UnboundServer* UnboundServerTest::server_ = nullptr;

TEST_F(UnboundServerTest, AnswersTheFixedZones) {
  struct Case {
    const char* name;
    const char* type;
    const char* status;
    std::vector<std::string> answers;
  };
  const Case cases[] = {
      {"example.test", "A", "NOERROR", {"example.test. A 127.0.0.1"}},
      {"example.test", "AAAA", "NOERROR", {}},
      {"www.example.test", "A", "NOERROR", {"www.example.test. A 127.0.0.1"}},
      {"www.example.test", "AAAA", "NOERROR", {"www.example.test. AAAA ::1"}},
      {"multi.example.test",
       "A",
       "NOERROR",
       {"multi.example.test. A 127.0.0.1", "multi.example.test. A 127.0.0.2"}},
      {"alias.example.test",
       "A",
       "NOERROR",
       {"alias.example.test. CNAME www.example.test.", "www.example.test. A 127.0.0.1"}},
      {"alias.example.test",
       "AAAA",
       "NOERROR",
       {"alias.example.test. CNAME www.example.test.", "www.example.test. AAAA ::1"}},
      {"v4only.example.test", "A", "NOERROR", {"v4only.example.test. A 127.0.0.1"}},
      {"v4only.example.test", "AAAA", "NOERROR", {}},
      {"nx.example.test", "A", "NXDOMAIN", {}},
      {"deep.unknown.example.test", "AAAA", "NXDOMAIN", {}},
      {"refused.test", "A", "REFUSED", {}},
      {"www.refused.test", "A", "REFUSED", {}},
      {"servfail.test", "A", "SERVFAIL", {}},
      {"www.servfail.test", "AAAA", "SERVFAIL", {}},
      {"www.google.com", "A", "REFUSED", {}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.name) + " " + c.type);
    const DigReply reply = Dig(server_->port(), c.name, c.type);
    EXPECT_EQ(reply.exit_code, 0) << reply.output;
    EXPECT_EQ(reply.status, c.status) << reply.output;
    EXPECT_EQ(reply.answers, c.answers) << reply.output;
  }
}

TEST_F(UnboundServerTest, AnswersOverTcpToo) {
  const DigReply reply = Dig(server_->port(), "www.example.test", "A", /*tcp=*/true);
  EXPECT_EQ(reply.status, "NOERROR") << reply.output;
  EXPECT_EQ(reply.answers, std::vector<std::string>{"www.example.test. A 127.0.0.1"});
}

TEST_F(UnboundServerTest, ServfailIsFast) {
  const auto start = std::chrono::steady_clock::now();
  const DigReply reply = Dig(server_->port(), "servfail.test", "A");
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(reply.status, "SERVFAIL") << reply.output;
  // dig's own start-up included; unbound answers in about 10 ms.
  EXPECT_LT(elapsed, std::chrono::seconds(1));
}

TEST_F(UnboundServerTest, AddressNamesThePort) {
  EXPECT_EQ(server_->address(), "127.0.0.1:" + std::to_string(server_->port()));
}

TEST(UnboundServerExtraRecordsTest, ServesExtraRecordsInAndOutOfTheZone) {
  if (std::optional<std::string> reason = UnboundServer::Unavailable()) GTEST_SKIP() << *reason;
  if (!IsExecutable(kDig)) GTEST_SKIP() << kDig << " is not installed";
  UnboundServer server({"blocked.example.test. 300 IN CNAME www.example.test.",
                        "sinkhole.example.test. 60 IN A 10.10.34.35",
                        "note.example.test. 300 IN TXT \"hello world\"",
                        "www.elsewhere.example. 60 IN A 127.0.0.3"});
  ASSERT_TRUE(server.ok()) << server.error();
  EXPECT_EQ(Dig(server.port(), "blocked.example.test", "A").answers,
            (std::vector<std::string>{"blocked.example.test. CNAME www.example.test.",
                                      "www.example.test. A 127.0.0.1"}));
  EXPECT_EQ(Dig(server.port(), "sinkhole.example.test", "A").answers,
            std::vector<std::string>{"sinkhole.example.test. A 10.10.34.35"});
  EXPECT_EQ(Dig(server.port(), "note.example.test", "TXT").answers,
            std::vector<std::string>{"note.example.test. TXT \"hello world\""});
  EXPECT_EQ(Dig(server.port(), "www.elsewhere.example", "A").answers,
            std::vector<std::string>{"www.elsewhere.example. A 127.0.0.3"});
  // The fixed zone is still there.
  EXPECT_EQ(Dig(server.port(), "www.example.test", "A").answers,
            std::vector<std::string>{"www.example.test. A 127.0.0.1"});
}

TEST(UnboundServerLifetimeTest, DestructorStopsTheServer) {
  if (std::optional<std::string> reason = UnboundServer::Unavailable()) GTEST_SKIP() << *reason;
  if (!IsExecutable(kDig)) GTEST_SKIP() << kDig << " is not installed";
  auto server = std::make_unique<UnboundServer>();
  ASSERT_TRUE(server->ok()) << server->error();
  const uint16_t port = server->port();
  ASSERT_EQ(Dig(port, "www.example.test", "A").status, "NOERROR");
  server.reset();
  const DigReply reply = Dig(port, "www.example.test", "A", /*tcp=*/true);
  EXPECT_NE(reply.exit_code, 0) << reply.output;
  EXPECT_EQ(reply.status, "") << reply.output;
}

// ---------------------------------------------------------------------------------------
// HTTP and TLS

struct CurlReply {
  int exit_code = -1;
  std::string output;  // curl's errors and the -w summary
  std::string headers;
  std::string body;
};

CurlReply Curl(std::vector<std::string> args) {
  TempDir dir("vigil-curl-");
  // -q ignores ~/.curlrc and --noproxy keeps a proxy from the environment from being used:
  // every request must stay on loopback.
  std::vector<std::string> argv = {kCurl,
                                   "-q",
                                   "--noproxy",
                                   "*",
                                   "-sS",
                                   "--max-time",
                                   "10",
                                   "-D",
                                   dir.Join("headers"),
                                   "-o",
                                   dir.Join("body"),
                                   "-w",
                                   "code=%{http_code} redirects=%{num_redirects} "
                                   "url=%{url_effective}\\n"};
  argv.insert(argv.end(), args.begin(), args.end());
  CommandResult run = RunCommand(argv);
  return {run.exit_code, run.output, ReadFileOrEmpty(dir.Join("headers")),
          ReadFileOrEmpty(dir.Join("body"))};
}

bool HasHeader(const std::string& headers, const std::string& line) {
  std::string lower_headers = headers;
  std::string lower_line = line;
  for (std::string* s : {&lower_headers, &lower_line}) {
    std::transform(s->begin(), s->end(), s->begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  }
  return lower_headers.find(lower_line + "\r\n") != std::string::npos;
}

class NginxServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!NginxServer::Unavailable() && IsExecutable(kCurl)) server_ = new NginxServer();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override {
    if (std::optional<std::string> reason = NginxServer::Unavailable()) GTEST_SKIP() << *reason;
    if (!IsExecutable(kCurl)) GTEST_SKIP() << kCurl << " is not installed";
    ASSERT_TRUE(server_->ok()) << server_->error();
  }

  static std::string Http(const std::string& path) {
    return "http://127.0.0.1:" + std::to_string(server_->http_port()) + path;
  }
  static std::string Https(TestPki::Kind kind, const std::string& host = "127.0.0.1") {
    return "https://" + host + ":" + std::to_string(server_->https_port(kind)) + "/";
  }

  static NginxServer* server_;
};

NginxServer* NginxServerTest::server_ = nullptr;

TEST_F(NginxServerTest, ServesTheIndexPage) {
  const CurlReply reply = Curl({Http("/")});
  ASSERT_EQ(reply.exit_code, 0) << reply.output;
  EXPECT_NE(reply.output.find("code=200"), std::string::npos) << reply.output;
  EXPECT_EQ(reply.body, NginxServer::kIndexHtml);
  EXPECT_NE(reply.body.find("<title>vigil test page</title>"), std::string::npos);
  EXPECT_TRUE(
      HasHeader(reply.headers, "Content-Length: " + std::to_string(NginxServer::kIndexHtml.size())))
      << reply.headers;
}

TEST_F(NginxServerTest, ValidCertificateVerifiesForEveryName) {
  const std::string port = std::to_string(server_->https_port(TestPki::Kind::kValid));
  for (const std::string host : {"127.0.0.1", "www.example.test", "example.test", "localhost"}) {
    SCOPED_TRACE(host);
    const CurlReply reply =
        Curl({"--cacert", TestPki::Get().ca_file(), "--resolve", host + ":" + port + ":127.0.0.1",
              Https(TestPki::Kind::kValid, host)});
    EXPECT_EQ(reply.exit_code, 0) << reply.output;
    EXPECT_EQ(reply.body, NginxServer::kIndexHtml);
  }
}

TEST_F(NginxServerTest, BadCertificatesFailVerificationEachItsOwnWay) {
  struct Case {
    TestPki::Kind kind;
    const char* message;
  };
  const Case cases[] = {
      {TestPki::Kind::kWrongHost, "no alternative certificate subject name matches"},
      {TestPki::Kind::kExpired, "certificate has expired"},
      {TestPki::Kind::kSelfSigned, "self-signed certificate"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(TestPki::KindName(c.kind)));
    const CurlReply reply = Curl({"--cacert", TestPki::Get().ca_file(), Https(c.kind)});
    EXPECT_EQ(reply.exit_code, 60) << reply.output;  // CURLE_PEER_FAILED_VERIFICATION
    EXPECT_NE(reply.output.find(c.message), std::string::npos) << reply.output;
    // The same server without verification: only the certificate is wrong.
    const CurlReply insecure = Curl({"--insecure", Https(c.kind)});
    EXPECT_EQ(insecure.exit_code, 0) << insecure.output;
    EXPECT_EQ(insecure.body, NginxServer::kIndexHtml);
  }
}

TEST_F(NginxServerTest, RelativeRedirectChain) {
  const CurlReply first = Curl({Http("/redirect/3")});
  EXPECT_NE(first.output.find("code=302"), std::string::npos) << first.output;
  EXPECT_TRUE(HasHeader(first.headers, "Location: /redirect/2")) << first.headers;

  const CurlReply followed = Curl({"-L", Http("/redirect/3")});
  EXPECT_EQ(followed.exit_code, 0) << followed.output;
  EXPECT_NE(followed.output.find("code=200 redirects=4 url=" + Http("/")), std::string::npos)
      << followed.output;
  EXPECT_EQ(followed.body, NginxServer::kIndexHtml);

  const CurlReply last = Curl({Http("/redirect/0")});
  EXPECT_TRUE(HasHeader(last.headers, "Location: /")) << last.headers;
  const CurlReply longest =
      Curl({"-L", Http("/redirect/" + std::to_string(NginxServer::kMaxRedirect))});
  EXPECT_NE(longest.output.find("redirects=" + std::to_string(NginxServer::kMaxRedirect + 1)),
            std::string::npos)
      << longest.output;
}

TEST_F(NginxServerTest, AbsoluteRedirectNamesTheTestDomain) {
  const std::string port = std::to_string(server_->http_port());
  const CurlReply reply = Curl({Http("/abs-redirect")});
  EXPECT_NE(reply.output.find("code=301"), std::string::npos) << reply.output;
  EXPECT_TRUE(HasHeader(reply.headers, "Location: http://www.example.test:" + port + "/"))
      << reply.headers;
  const CurlReply followed =
      Curl({"-L", "--resolve", "www.example.test:" + port + ":127.0.0.1", Http("/abs-redirect")});
  EXPECT_EQ(followed.exit_code, 0) << followed.output;
  EXPECT_EQ(followed.body, NginxServer::kIndexHtml);
}

TEST_F(NginxServerTest, ChunkedBodyHasNoContentLength) {
  for (const std::string& url :
       {Http("/chunked"),
        "https://127.0.0.1:" + std::to_string(server_->https_port(TestPki::Kind::kValid)) +
            "/chunked"}) {
    SCOPED_TRACE(url);
    const CurlReply reply = Curl({"--cacert", TestPki::Get().ca_file(), "--http1.1", url});
    EXPECT_EQ(reply.exit_code, 0) << reply.output;
    EXPECT_TRUE(HasHeader(reply.headers, "Transfer-Encoding: chunked")) << reply.headers;
    EXPECT_EQ(reply.headers.find("Content-Length"), std::string::npos) << reply.headers;
    EXPECT_EQ(reply.body, NginxServer::ChunkedBody());
  }
}

TEST_F(NginxServerTest, BigBodyHasContentLength) {
  const CurlReply reply = Curl({Http("/big")});
  EXPECT_EQ(reply.exit_code, 0) << reply.output;
  EXPECT_TRUE(HasHeader(reply.headers, "Content-Length: 2097152")) << reply.headers;
  EXPECT_TRUE(reply.body == NginxServer::BigBody()) << "body of " << reply.body.size() << " bytes";
}

TEST_F(NginxServerTest, StatusPagesCarryTheirBodies) {
  for (int code : NginxServer::kStatusCodes) {
    SCOPED_TRACE(code);
    const CurlReply reply = Curl({Http("/status/" + std::to_string(code))});
    EXPECT_NE(reply.output.find("code=" + std::to_string(code)), std::string::npos) << reply.output;
    EXPECT_EQ(reply.body, NginxServer::StatusBody(code));
  }
}

TEST_F(NginxServerTest, AcceptsPost) {
  const CurlReply reply = Curl({"--data-binary", "field=value", Http("/post")});
  EXPECT_EQ(reply.exit_code, 0) << reply.output;
  EXPECT_NE(reply.output.find("code=200"), std::string::npos) << reply.output;
  EXPECT_EQ(reply.body, NginxServer::kPostedBody);
}

TEST_F(NginxServerTest, ServesBinaryAndDocumentRootFiles) {
  const CurlReply binary = Curl({Http("/binary")});
  EXPECT_EQ(binary.body, NginxServer::kBinaryBody);
  EXPECT_TRUE(HasHeader(binary.headers, "Content-Type: application/octet-stream"))
      << binary.headers;

  std::ofstream(server_->document_root() + "/added-by-test.txt") << "added\n";
  EXPECT_EQ(Curl({Http("/added-by-test.txt")}).body, "added\n");
  const CurlReply missing = Curl({Http("/no-such-file")});
  EXPECT_NE(missing.output.find("code=404"), std::string::npos) << missing.output;
}

TEST_F(NginxServerTest, ListensOnIpv6LoopbackWhenItExists) {
  if (!server_->ipv6()) GTEST_SKIP() << "no IPv6 loopback here";
  const CurlReply plain =
      Curl({"-g", "http://[::1]:" + std::to_string(server_->http_port()) + "/"});
  EXPECT_EQ(plain.exit_code, 0) << plain.output;
  EXPECT_EQ(plain.body, NginxServer::kIndexHtml);
  const CurlReply tls =
      Curl({"-g", "--cacert", TestPki::Get().ca_file(),
            "https://[::1]:" + std::to_string(server_->https_port(TestPki::Kind::kValid)) + "/"});
  EXPECT_EQ(tls.exit_code, 0) << tls.output;
}

TEST(NginxServerLifetimeTest, DestructorStopsTheServer) {
  if (std::optional<std::string> reason = NginxServer::Unavailable()) GTEST_SKIP() << *reason;
  auto server = std::make_unique<NginxServer>();
  ASSERT_TRUE(server->ok()) << server->error();
  const uint16_t port = server->http_port();
  ASSERT_TRUE(TcpConnects("127.0.0.1", port));
  server.reset();
  EXPECT_FALSE(TcpConnects("127.0.0.1", port));
}

// ---------------------------------------------------------------------------------------
// Misbehaving listeners

class Socket {
 public:
  Socket() : fd_(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {}
  ~Socket() {
    if (fd_ >= 0) close(fd_);
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  int fd() const { return fd_; }

  /// connect() to 127.0.0.1:port; 0 or the errno.
  int Connect(uint16_t port) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0 ? 0
                                                                                          : errno;
  }
  bool Send(const std::string& bytes) {
    return send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
           static_cast<ssize_t>(bytes.size());
  }
  /// Whether something (data, EOF or an error) is readable within timeout_ms.
  bool Readable(int timeout_ms) {
    pollfd pfd{fd_, POLLIN, 0};
    return poll(&pfd, 1, timeout_ms) == 1;
  }
  /// Everything up to EOF (waiting at most 2 s in all); *error gets the errno of a failure.
  std::string ReadAll(int* error) {
    std::string data;
    *error = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (std::chrono::steady_clock::now() < deadline) {
      if (!Readable(100)) continue;
      char buffer[4096];
      const ssize_t n = recv(fd_, buffer, sizeof buffer, 0);
      if (n < 0) {
        *error = errno;
        return data;
      }
      if (n == 0) return data;
      data.append(buffer, static_cast<size_t>(n));
    }
    *error = ETIMEDOUT;
    return data;
  }

 private:
  int fd_;
};

class MisbehavingListenersTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(listeners_.ok()) << listeners_.error(); }
  MisbehavingListeners listeners_;
};

TEST_F(MisbehavingListenersTest, RefusedPortRefuses) {
  Socket client;
  EXPECT_EQ(client.Connect(listeners_.refused_port()), ECONNREFUSED);
}

TEST_F(MisbehavingListenersTest, ResetPortResetsAfterTheFirstBytes) {
  Socket client;
  ASSERT_EQ(client.Connect(listeners_.reset_port()), 0);
  ASSERT_TRUE(client.Send("\x16\x03\x01 a ClientHello, say"));
  int error = 0;
  EXPECT_EQ(client.ReadAll(&error), "");
  EXPECT_EQ(error, ECONNRESET);
}

TEST_F(MisbehavingListenersTest, ResetPortResetsAQuietClientToo) {
  Socket client;
  ASSERT_EQ(client.Connect(listeners_.reset_port()), 0);
  int error = 0;
  EXPECT_EQ(client.ReadAll(&error), "");
  EXPECT_EQ(error, ECONNRESET);
}

TEST_F(MisbehavingListenersTest, SilentPortNeverAnswers) {
  Socket client;
  ASSERT_EQ(client.Connect(listeners_.silent_port()), 0);
  ASSERT_TRUE(client.Send("GET / HTTP/1.1\r\nHost: example.test\r\n\r\n"));
  EXPECT_FALSE(client.Readable(300));
}

TEST_F(MisbehavingListenersTest, EofPortClosesCleanlyAfterTheFirstBytes) {
  Socket client;
  ASSERT_EQ(client.Connect(listeners_.eof_port()), 0);
  ASSERT_TRUE(client.Send("\x16\x03\x01 a ClientHello, say"));
  int error = 0;
  EXPECT_EQ(client.ReadAll(&error), "");
  EXPECT_EQ(error, 0);
}

TEST_F(MisbehavingListenersTest, BlackholePortNeverCompletesTheHandshake) {
  Socket client;
  ASSERT_EQ(fcntl(client.fd(), F_SETFL, O_NONBLOCK), 0);
  ASSERT_EQ(client.Connect(listeners_.blackhole_port()), EINPROGRESS);
  pollfd pfd{client.fd(), POLLOUT, 0};
  EXPECT_EQ(poll(&pfd, 1, 1000), 0) << "connect completed or failed";
  int error = -1;
  socklen_t length = sizeof error;
  ASSERT_EQ(getsockopt(client.fd(), SOL_SOCKET, SO_ERROR, &error, &length), 0);
  EXPECT_EQ(error, 0);  // still in progress, not failed
}

TEST_F(MisbehavingListenersTest, HttpGarbagePortAnswersTheCallersBytes) {
  static constexpr char kBytes[] = "HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n\xff\x00truncated";
  const std::string garbage(kBytes, sizeof kBytes - 1);
  listeners_.set_http_garbage(garbage);
  Socket client;
  ASSERT_EQ(client.Connect(listeners_.http_garbage_port()), 0);
  ASSERT_TRUE(client.Send("GET / HTTP/1.1\r\nHost: example.test\r\n\r\n"));
  int error = 0;
  EXPECT_EQ(client.ReadAll(&error), garbage);
  EXPECT_EQ(error, 0);
}

TEST_F(MisbehavingListenersTest, CurlRejectsTheDefaultGarbage) {
  if (!IsExecutable(kCurl)) GTEST_SKIP() << kCurl << " is not installed";
  const CurlReply reply =
      Curl({"http://127.0.0.1:" + std::to_string(listeners_.http_garbage_port()) + "/"});
  EXPECT_NE(reply.exit_code, 0) << reply.output;
  EXPECT_NE(reply.exit_code, 28) << "timed out instead of failing: " << reply.output;
}

}  // namespace
}  // namespace vigil::test_support
