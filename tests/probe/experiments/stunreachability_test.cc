// stunreachability against a real coturn on loopback, and against a UDP responder of
// our own that sends what no real server would — truncated, malformed, foreign and
// error responses — asserting that each is recorded, none is trusted, nothing crashes,
// requests are retransmitted, and the probe's mapped address never reaches the report.
#include "probe/experiments/stunreachability/stunreachability.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <thread>

#include "probe/experiments/registry.h"
#include "probe/measurement/measurement_json.h"
#include "probe/stun/stun_message.h"
#include "probe/stun/stun_observer.h"
#include "tests/support/coturn_server.h"
#include "tests/support/loopback_port.h"
#include "tests/support/run_coroutine.h"

namespace vigil {
namespace {

using namespace std::chrono_literals;
using test_support::RunCoroutine;

// What the responder sends back for the n-th request (0-based): zero or more datagrams.
using Replies = std::function<std::vector<std::string>(const std::string& request, int n)>;

// A UDP socket on 127.0.0.1 answered by `replies` from a background thread.
class UdpResponder {
 public:
  explicit UdpResponder(Replies replies) : replies_(std::move(replies)) {
    fd_ = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      ADD_FAILURE() << "UdpResponder: cannot bind";
      return;
    }
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { Run(); });
  }
  ~UdpResponder() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) close(fd_);
  }
  uint16_t port() const { return port_; }
  int requests() const { return requests_; }

 private:
  void Run() {
    while (!stop_) {
      pollfd pfd{fd_, POLLIN, 0};
      if (poll(&pfd, 1, 20) != 1) continue;
      char buffer[2048];
      sockaddr_in from{};
      socklen_t length = sizeof from;
      const ssize_t n =
          recvfrom(fd_, buffer, sizeof buffer, 0, reinterpret_cast<sockaddr*>(&from), &length);
      if (n <= 0) continue;
      for (const std::string& reply : replies_(std::string(buffer, n), requests_++)) {
        sendto(fd_, reply.data(), reply.size(), 0, reinterpret_cast<sockaddr*>(&from), length);
      }
    }
  }

  Replies replies_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<int> requests_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// The probe's "public address" in our responses: it must never appear in a report.
constexpr char kMappedIp[] = "203.0.113.77";

std::string Header(uint16_t type, size_t length, const std::string& id) {
  std::string out;
  out += static_cast<char>(type >> 8);
  out += static_cast<char>(type & 0xff);
  out += static_cast<char>(length >> 8);
  out += static_cast<char>(length & 0xff);
  out += "\x21\x12\xa4\x42";
  return out + id;
}

std::string IdOf(const std::string& request) { return request.substr(8, 12); }

std::string SuccessFor(const std::string& request) {
  // XOR-MAPPED-ADDRESS 203.0.113.77:4242.
  std::string value = {0, 1, static_cast<char>((4242 >> 8) ^ 0x21),
                       static_cast<char>((4242 & 0xff) ^ 0x12)};
  const unsigned char ip[4] = {203, 0, 113, 77};
  const unsigned char cookie[4] = {0x21, 0x12, 0xa4, 0x42};
  for (int i = 0; i < 4; ++i) value += static_cast<char>(ip[i] ^ cookie[i]);
  return Header(kStunBindingSuccess, 12, IdOf(request)) + std::string("\x00\x20\x00\x08", 4) +
         value;
}

std::string ErrorFor(const std::string& request) {
  const std::string attribute = std::string("\x00\x09\x00\x08\x00\x00\x04\x00", 8) + "Bad!";
  return Header(kStunBindingError, attribute.size(), IdOf(request)) + attribute;
}

StunBindingOutcome Exchange(uint16_t port, std::chrono::milliseconds timeout,
                            std::chrono::milliseconds rto = 50ms, Trace* trace_out = nullptr) {
  Trace trace;
  const std::string ip = "127.0.0.1";  // outlives the coroutine, which holds a reference
  auto outcome = RunCoroutine<StunBindingOutcome>(
      [&](asio::io_context&) { return ObserveStunBinding(trace, ip, port, 1, timeout, rto); });
  if (trace_out) *trace_out = std::move(trace);
  return outcome;
}

TEST(StunObserver, SuccessRecordsPresenceButNotTheAddress) {
  UdpResponder responder([](const std::string& request, int) {
    return std::vector<std::string>{SuccessFor(request)};
  });
  Trace trace;
  auto o = Exchange(responder.port(), 2000ms, 50ms, &trace);
  EXPECT_EQ(o.failure, "");
  EXPECT_TRUE(o.response);
  EXPECT_TRUE(o.mapped_address_present);
  EXPECT_EQ(o.requests_sent, 1);
  std::vector<std::string> operations;
  for (const auto& e : trace.keys().network_events) operations.push_back(e.operation);
  EXPECT_EQ(operations, (std::vector<std::string>{"connect", "write", "read"}));
  EXPECT_EQ(trace.keys().network_events[1].num_bytes, 20);
  EXPECT_EQ(trace.keys().network_events[2].num_bytes, 32);
  EXPECT_EQ(ToJson(trace.keys()).dump().find(kMappedIp), std::string::npos);
}

TEST(StunObserver, RetransmitsUntilAnswered) {
  // Silent for the first two requests: the third (after 50 + 100 ms) gets the answer.
  UdpResponder responder([](const std::string& request, int n) {
    return n < 2 ? std::vector<std::string>{} : std::vector<std::string>{SuccessFor(request)};
  });
  auto o = Exchange(responder.port(), 3000ms);
  EXPECT_EQ(o.failure, "");
  EXPECT_EQ(o.requests_sent, 3);
  EXPECT_EQ(responder.requests(), 3);
}

TEST(StunObserver, SilenceEndsInATimeoutOnTimeAfterSevenRequests) {
  UdpResponder responder([](const std::string&, int) { return std::vector<std::string>{}; });
  const auto start = std::chrono::steady_clock::now();
  // 7 requests at 0, 10, 30, ..., 630 ms, then 160 ms of listening: done well before 5 s.
  auto o = Exchange(responder.port(), 5000ms, 10ms);
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(o.failure, "generic_timeout_error");
  EXPECT_FALSE(o.response);
  EXPECT_EQ(o.requests_sent, kStunMaxRequests);
  EXPECT_LT(took, 2000ms);
  EXPECT_GE(took, 700ms);
}

TEST(StunObserver, TheDeadlineCutsTheScheduleShort) {
  UdpResponder responder([](const std::string&, int) { return std::vector<std::string>{}; });
  const auto start = std::chrono::steady_clock::now();
  auto o = Exchange(responder.port(), 300ms, 500ms);
  EXPECT_EQ(o.failure, "generic_timeout_error");
  EXPECT_EQ(o.requests_sent, 1);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1000ms);
}

TEST(StunObserver, HostileDatagramsAreDiscardedWithReasonsThenTheRealAnswerCounts) {
  UdpResponder responder([](const std::string& request, int) {
    std::string foreign = SuccessFor(request);
    foreign[10] = static_cast<char>(foreign[10] ^ 0xff);
    std::string wrong_cookie = SuccessFor(request);
    wrong_cookie[5] = 0;
    const std::string valid = SuccessFor(request);
    return std::vector<std::string>{
        "",                                               // empty datagram
        valid.substr(0, 7),                               // truncated header
        valid.substr(0, 26),                              // truncated attribute
        wrong_cookie,                                     // not STUN 5389
        foreign,                                          // someone else's transaction
        Header(kStunBindingRequest, 0, IdOf(request)),    // a request, not a response
        Header(kStunBindingSuccess, 400, IdOf(request)),  // length past the datagram
        std::string(1500, '\xff'),                        // noise
        valid,                                            // finally, ours
    };
  });
  auto o = Exchange(responder.port(), 2000ms, 500ms);
  EXPECT_EQ(o.failure, "");
  EXPECT_TRUE(o.response);
  EXPECT_EQ(o.discarded_count, 8);
  ASSERT_EQ(o.discarded.size(), 8u);
  EXPECT_NE(o.discarded[0].find("shorter than the 20-byte header"), std::string::npos);
  EXPECT_NE(o.discarded[2].find("runs past"), std::string::npos) << o.discarded[2];
  EXPECT_NE(o.discarded[3].find("magic cookie"), std::string::npos);
  EXPECT_EQ(o.discarded[4], "transaction id of another request");
  EXPECT_NE(o.discarded[5].find("not a Binding response"), std::string::npos);
}

TEST(StunObserver, OnlyGarbageMeansATimeoutWithEveryDatagramAccounted) {
  UdpResponder responder(
      [](const std::string&, int) { return std::vector<std::string>{std::string(3, '\x01')}; });
  auto o = Exchange(responder.port(), 400ms, 100ms);
  EXPECT_EQ(o.failure, "generic_timeout_error");
  EXPECT_FALSE(o.response);
  EXPECT_EQ(o.discarded_count, o.requests_sent);
  EXPECT_GE(o.requests_sent, 2);
}

TEST(StunObserver, ErrorResponseIsAFailureButAResponse) {
  UdpResponder responder(
      [](const std::string& request, int) { return std::vector<std::string>{ErrorFor(request)}; });
  auto o = Exchange(responder.port(), 2000ms);
  EXPECT_TRUE(o.response);
  EXPECT_EQ(o.error_code, 400);
  EXPECT_NE(o.failure.find("unknown_failure: STUN Binding Error Response 400"), std::string::npos)
      << o.failure;
  EXPECT_FALSE(o.mapped_address_present);
}

TEST(StunObserver, ClosedPortIsConnectionRefused) {
  const uint16_t port = test_support::FreeLoopbackPort();
  ASSERT_NE(port, 0);
  auto o = Exchange(port, 2000ms);
  EXPECT_EQ(o.failure, "connection_refused");
  EXPECT_FALSE(o.response);
}

Result<Measurement> RunStun(const Json& input, std::chrono::milliseconds timeout = 3000ms) {
  auto result = RunCoroutine<std::optional<Result<Measurement>>>(
      [&](asio::io_context& io) -> asio::awaitable<std::optional<Result<Measurement>>> {
        ExperimentContext context;
        context.executor = io.get_executor();
        context.timeout = timeout;
        auto e = MakeExperiment("stunreachability");
        if (!e) co_return Error{"stunreachability is not registered"};
        co_return co_await e->Run(context, input);
      });
  return std::move(*result);
}

TEST(StunReachability, RealCoturnAnswers) {
  if (auto why = test_support::CoturnServer::Unavailable()) GTEST_SKIP() << *why;
  test_support::CoturnServer coturn;
  ASSERT_TRUE(coturn.ok()) << coturn.error();
  const std::string input = "stun://127.0.0.1:" + std::to_string(coturn.port());
  auto m = RunStun(input);
  ASSERT_TRUE(m.ok()) << m.error();
  Json j = ToJson(*m);
  const Json& k = j["test_keys"];
  EXPECT_EQ(j["test_name"], "stunreachability");
  EXPECT_EQ(j["input"], input);
  EXPECT_EQ(k["endpoint"], "127.0.0.1:" + std::to_string(coturn.port()));
  EXPECT_TRUE(k["failure"].is_null()) << k["failure"];
  EXPECT_EQ(k["x_mapped_address_present"], true);
  EXPECT_TRUE(k["queries"].is_array());
  EXPECT_TRUE(k["network_events"].is_array());
  auto e = MakeExperiment("stunreachability");
  EXPECT_EQ(e->Summarize(*m).verdict, RunVerdict::kOk);
  // Reads are recorded by size alone: coturn's answer (our address) is not in the report.
  bool read = false;
  for (const auto& event : k["network_events"]) {
    if (event["operation"] == "read") read = true;
    EXPECT_FALSE(event.contains("data"));
  }
  EXPECT_TRUE(read);
}

TEST(StunReachability, ReportNeverCarriesTheMappedAddress) {
  UdpResponder responder([](const std::string& request, int) {
    return std::vector<std::string>{SuccessFor(request)};
  });
  auto m = RunStun("stun://127.0.0.1:" + std::to_string(responder.port()));
  ASSERT_TRUE(m.ok()) << m.error();
  const std::string dump = ToJson(*m).dump();
  EXPECT_EQ(dump.find(kMappedIp), std::string::npos);
  EXPECT_EQ(dump.find("4242"), std::string::npos);
  EXPECT_NE(dump.find("\"x_mapped_address_present\":true"), std::string::npos);
}

TEST(StunReachability, HostileResponderIsRecordedAsBlocked) {
  UdpResponder responder([](const std::string& request, int) {
    return std::vector<std::string>{SuccessFor(request).substr(0, 22)};
  });
  auto m = RunStun(Json{{"input", "stun://127.0.0.1:" + std::to_string(responder.port())}}, 1200ms);
  ASSERT_TRUE(m.ok()) << m.error();
  const Json k = ToJson(*m)["test_keys"];
  EXPECT_EQ(k["failure"], "generic_timeout_error");
  EXPECT_EQ(k["x_mapped_address_present"], false);
  EXPECT_GE(k["x_discarded_count"].get<int>(), 2);
  EXPECT_NE(k["x_discarded"][0].get<std::string>().find("malformed"), std::string::npos);
  auto s = MakeExperiment("stunreachability")->Summarize(*m);
  EXPECT_EQ(s.verdict, RunVerdict::kBlocked);
  EXPECT_EQ(s.blocking, "tcp_ip");
  EXPECT_NE(s.evidence.find("generic_timeout_error"), std::string::npos) << s.evidence;
}

TEST(StunReachability, ErrorResponseStillShowsStunGetsThrough) {
  UdpResponder responder(
      [](const std::string& request, int) { return std::vector<std::string>{ErrorFor(request)}; });
  auto m = RunStun("stun://127.0.0.1:" + std::to_string(responder.port()));
  ASSERT_TRUE(m.ok()) << m.error();
  const Json k = ToJson(*m)["test_keys"];
  EXPECT_TRUE(k["failure"].is_string());
  EXPECT_EQ(k["x_error_code"], 400);
  EXPECT_EQ(MakeExperiment("stunreachability")->Summarize(*m).verdict, RunVerdict::kOk);
}

TEST(StunReachability, InputsThatCannotBeMeasuredAreErrors) {
  for (const char* bad : {"http://example.org/", "stun://", "stun://[::1", "stun://host:99999"}) {
    EXPECT_FALSE(RunStun(bad).ok()) << bad;
  }
  auto url = ParseStunUrl("stun://stun.example.test");
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(url->port, kStunDefaultPort);
  url = ParseStunUrl("stun://[::1]:19302");
  ASSERT_TRUE(url.ok()) << url.error();
  EXPECT_EQ(url->host, "::1");
  EXPECT_EQ(url->port, 19302);
}

}  // namespace
}  // namespace vigil
