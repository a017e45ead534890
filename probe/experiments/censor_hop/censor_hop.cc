#include "probe/experiments/censor_hop/censor_hop.h"

#include <netinet/in.h>
#include <openssl/bio.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <asio/basic_raw_socket.hpp>
#include <asio/buffer.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/generic/raw_protocol.hpp>
#include <asio/ip/address.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <chrono>
#include <memory>

#include "base/host_port.h"
#include "probe/capture/packet_capture.h"
#include "probe/dns/dns_observer.h"
#include "probe/experiments/censor_hop/icmp_error.h"
#include "probe/experiments/common/sni_endpoint_input.h"
#include "probe/measurement/envelope.h"
#include "probe/net/failure.h"
#include "probe/net/trace.h"
#include "probe/tcp/tcp_observer.h"

namespace vigil {

namespace {

using IcmpSocket = asio::basic_raw_socket<asio::generic::raw_protocol>;
constexpr auto kAsTuple = asio::experimental::as_tuple(asio::use_awaitable);

// How long a TTL-limited ClientHello is waited on: routers answer within a round trip.
constexpr std::chrono::milliseconds kHopWait{1000};
// After a time exceeded, how long a RST may still come: a censor that lets the trigger
// pass (on-path) resets it while the packet goes on to expire further along.
constexpr std::chrono::milliseconds kRstGrace{200};

constexpr char kTimeExceeded[] = "time_exceeded";
constexpr char kRst[] = "rst";
constexpr char kAnswered[] = "answered";

bool IsError(const std::string& outcome) { return outcome.rfind("error", 0) == 0; }

int64_t WallNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The IP TTL of the RST the capture saw from ip:port to our local port, if any.
std::optional<int> CapturedRstTtl(PacketCapture* capture, const std::string& ip, uint16_t port,
                                  uint16_t local_port, int64_t from_ns) {
  if (capture == nullptr) return std::nullopt;
  capture->Flush();
  for (const CapturedPacket& p : capture->Packets(from_ns, WallNs())) {
    if (p.proto == PacketProto::kTcp && (p.tcp_flags & 0x04) != 0 && p.src_ip == ip &&
        p.src_port == port && p.dst_port == local_port) {
      return p.ip_ttl;
    }
  }
  return std::nullopt;
}

// One fresh connection to ip:port at the normal TTL, then `hello` written with the
// socket's TTL lowered to `ttl`, and what came back.
asio::awaitable<HopProbe> ProbeHop(Trace& trace, IcmpSocket& icmp, const std::string& ip,
                                   uint16_t port, int ttl, const std::string& hello,
                                   const ExperimentContext& context) {
  using namespace asio::experimental::awaitable_operators;
  auto executor = co_await asio::this_coro::executor;
  HopProbe probe;
  const int64_t tid = trace.NextTransactionId();
  auto connected = co_await ObserveTcpConnect(trace, ip, port, tid, context.timeout);
  if (!connected.socket) {
    probe.outcome = "error: " + connected.failure;
    co_return probe;
  }
  asio::ip::tcp::socket& socket = *connected.socket;
  std::error_code ec;
  const uint16_t local_port = socket.local_endpoint(ec).port();
  const int fd = socket.native_handle();
  // The abortive close at the end sends one RST at the lowered TTL: a FIN would be
  // retransmitted, and the ClientHello must never go further than `ttl`.
  const linger abort_on_close{1, 0};
  if (setsockopt(fd, IPPROTO_IP, IP_TTL, &ttl, sizeof ttl) != 0 ||
      setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close) != 0) {
    probe.outcome =
        "error: " + FailureFromErrorCode(std::error_code(errno, std::system_category()));
    co_return probe;
  }
  const int64_t sent_ns = WallNs();
  double t0 = trace.Now();
  auto [write_error, written] = co_await asio::async_write(socket, asio::buffer(hello), kAsTuple);
  trace.Event("write", t0, tid, JoinHostPort(ip, port), static_cast<int64_t>(written),
              AsFailure(write_error ? FailureFromErrorCode(write_error) : ""));
  if (write_error) {
    probe.outcome = "error: " + FailureFromErrorCode(write_error);
    co_return probe;
  }

  auto deadline = std::chrono::steady_clock::now() + std::min(kHopWait, context.timeout);
  asio::steady_timer timer(executor);
  std::array<char, 4096> tcp_buffer;
  std::array<uint8_t, 2048> icmp_buffer;
  for (;;) {
    timer.expires_at(deadline);
    auto r = co_await (socket.async_read_some(asio::buffer(tcp_buffer), kAsTuple) ||
                       icmp.async_receive(asio::buffer(icmp_buffer), kAsTuple) ||
                       timer.async_wait(kAsTuple));
    if (r.index() == 0) {
      auto [read_error, n] = std::get<0>(r);
      if (!read_error && n > 0) {
        probe.outcome = kAnswered;
      } else if (read_error == asio::error::connection_reset) {
        probe.outcome = kRst;
        probe.rst_ttl = CapturedRstTtl(context.capture.get(), ip, port, local_port, sent_ns);
      } else {
        probe.outcome = "error: " + FailureFromErrorCode(read_error);
      }
      break;
    }
    if (r.index() == 1) {
      auto [receive_error, n] = std::get<1>(r);
      if (receive_error) {
        probe.outcome = "error: " + FailureFromErrorCode(receive_error);
        break;
      }
      auto error = ParseIcmpError(icmp_buffer.data(), n);
      if (!error || error->quoted_dst != ip || error->quoted_src_port != local_port ||
          error->quoted_dst_port != port) {
        continue;  // another flow's, or not an error
      }
      probe.router = error->router;
      if (error->unreachable()) {
        probe.outcome = "unreachable";
        break;
      }
      if (probe.outcome.empty()) {
        probe.outcome = kTimeExceeded;
        deadline = std::min(deadline, std::chrono::steady_clock::now() + kRstGrace);
      }
      continue;
    }
    if (probe.outcome.empty()) probe.outcome = "timeout";
    break;
  }
  co_return probe;
}

Json HopJson(const Hop& hop) {
  const std::string router = HopRouter(hop);
  Json j = {{"ttl", hop.ttl},
            {"router", router.empty() ? Json() : Json(router)},
            {"target", hop.target.outcome},
            {"control", hop.control.outcome}};
  if (hop.target.outcome == kRst) {
    j["target_rst_ttl"] = hop.target.rst_ttl ? Json(*hop.target.rst_ttl) : Json();
  }
  return j;
}

Json OptionalJson(const std::optional<std::string>& s) { return s ? Json(*s) : Json(); }

}  // namespace

bool SweepContinues(const Hop& hop) {
  if (hop.target.outcome == kRst && hop.control.outcome != kRst) return false;
  if (hop.target.outcome == kAnswered || hop.control.outcome == kAnswered) return false;
  if (hop.control.outcome == kRst || IsError(hop.control.outcome)) return false;
  return true;
}

std::string HopRouter(const Hop& hop) {
  return hop.control.router.empty() ? hop.target.router : hop.control.router;
}

HopJudgement LocateCensor(const std::vector<Hop>& hops) {
  HopJudgement j;
  for (size_t i = 0; i < hops.size(); ++i) {
    const Hop& hop = hops[i];
    if (hop.target.outcome == kRst && hop.control.outcome != kRst) {
      j.verdict = "located";
      j.censor_ttl = hop.ttl;
      if (const std::string at = HopRouter(hop); !at.empty()) j.router_at = at;
      if (i > 0) {
        if (const std::string before = HopRouter(hops[i - 1]); !before.empty())
          j.last_router_before = before;
      }
      j.reason = "the target drew a RST at TTL " + std::to_string(hop.ttl) +
                 " where the control drew " + hop.control.outcome;
      return j;
    }
  }
  bool target_answered = false, target_reset = false;
  for (const Hop& hop : hops) {
    target_answered = target_answered || hop.target.outcome == kAnswered;
    target_reset = target_reset || hop.target.outcome == kRst;
  }
  j.verdict = "inconclusive";
  if (target_answered && !target_reset) {
    j.verdict = "not_triggered";
    j.reason =
        "the server answered the target at TTL " +
        std::to_string(std::find_if(hops.begin(), hops.end(),
                                    [](const Hop& h) { return h.target.outcome == kAnswered; })
                           ->ttl) +
        ", no RST on the way";
  } else if (hops.empty()) {
    j.reason = "no TTL was tried";
  } else if (IsError(hops.back().control.outcome)) {
    j.reason = "the control failed at TTL " + std::to_string(hops.back().ttl) + " (" +
               hops.back().control.outcome + "): the address is not reachable";
  } else if (hops.back().control.outcome == kRst) {
    j.reason = "the control drew a RST too at TTL " + std::to_string(hops.back().ttl) +
               ": the address itself is blocked";
  } else if (hops.back().control.outcome == kAnswered) {
    j.reason = "the server answered the control at TTL " + std::to_string(hops.back().ttl) +
               " but the target drew " + hops.back().target.outcome;
  } else {
    j.reason = "neither a RST nor the server's answer up to TTL " + std::to_string(hops.back().ttl);
  }
  return j;
}

std::string ClientHelloBytes(const std::string& sni) {
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_client_method()),
                                                        SSL_CTX_free);
  if (!ctx) return "";
  std::unique_ptr<SSL, decltype(&SSL_free)> ssl(SSL_new(ctx.get()), SSL_free);
  if (!ssl) return "";
  BIO* in = BIO_new(BIO_s_mem());
  BIO* out = BIO_new(BIO_s_mem());
  if (in == nullptr || out == nullptr) {
    BIO_free(in);
    BIO_free(out);
    return "";
  }
  SSL_set_bio(ssl.get(), in, out);  // ssl owns both now
  static constexpr unsigned char kAlpn[] = "\x02h2\x08http/1.1";
  SSL_set_alpn_protos(ssl.get(), kAlpn, sizeof kAlpn - 1);
  SSL_set_tlsext_host_name(ssl.get(), sni.c_str());
  SSL_connect(ssl.get());  // wants to read the server's answer: the ClientHello is out
  char* data = nullptr;
  const long size = BIO_get_mem_data(out, &data);
  return size > 0 ? std::string(data, static_cast<size_t>(size)) : "";
}

std::string HttpRequestBytes(const std::string& host) {
  std::string name;
  for (char c : host) {
    if (c == '\r' || c == '\n') return "";  // no header of ours carries a line break
    name.push_back(c);
  }
  return "GET / HTTP/1.1\r\nHost: " + name +
         "\r\nUser-Agent: vigil\r\nAccept: */*\r\nConnection: close\r\n\r\n";
}

asio::awaitable<Result<Measurement>> CensorHopExperiment::Run(const ExperimentContext& context,
                                                              const Json& input) const {
  auto executor = co_await asio::this_coro::executor;
  auto parsed = ParseSniEndpointInput(input);
  if (!parsed.ok()) co_return Error{"censor_hop: " + parsed.error()};
  auto trigger = StringOption(parsed->raw, "trigger", "tls");
  if (!trigger.ok()) co_return Error{"censor_hop: " + trigger.error()};
  if (*trigger != "tls" && *trigger != "http") {
    co_return Error{"censor_hop: trigger: \"" + *trigger + "\": tls or http"};
  }
  const uint16_t port = parsed->endpoint.port;
  Measurement m = NewMeasurement(kCensorHopName, kCensorHopVersion, parsed->raw.target);
  Trace trace;

  std::string unavailable;
  IcmpSocket icmp(executor);
  std::error_code ec;
  icmp.open(asio::generic::raw_protocol(AF_INET, IPPROTO_ICMP), ec);
  if (ec) unavailable = "censor_hop needs CAP_NET_RAW for a raw ICMP socket: " + ec.message();
  std::string ip;
  std::string lookup_failure;
  if (IsIpLiteral(parsed->endpoint.host)) {
    ip = context.MapAddress(parsed->endpoint.host);
  } else if (unavailable.empty()) {
    DnsObserver dns(executor, context.resolver, context.timeout);
    LookupResult found = co_await dns.Lookup(trace, parsed->endpoint.host);
    for (const auto& a : found.addresses) {
      if (a.find(':') == std::string::npos) {
        ip = a;
        break;
      }
    }
    if (ip.empty() && !found.addresses.empty()) ip = found.addresses.front();
    if (ip.empty()) lookup_failure = found.failure.empty() ? "dns_no_answer" : found.failure;
  }
  if (unavailable.empty() && ip.find(':') != std::string::npos) {
    unavailable = "censor_hop measures IPv4 paths only; " + ip + " is an IPv6 address";
  }
  // The trigger: a TLS ClientHello naming the SNI (default), or an HTTP request naming
  // the Host (option "trigger": "http"; the endpoint's port should then be an HTTP one).
  const bool http = trigger.value() == "http";
  const std::string target_hello =
      http ? HttpRequestBytes(parsed->sni) : ClientHelloBytes(parsed->sni);
  const std::string control_hello =
      http ? HttpRequestBytes(parsed->control_sni) : ClientHelloBytes(parsed->control_sni);
  if (unavailable.empty() && (target_hello.empty() || control_hello.empty())) {
    unavailable = "OpenSSL made no ClientHello";
  }

  Json keys = Json::object();
  keys["address"] = ip.empty() ? parsed->endpoint_text : JoinHostPort(ip, port);
  keys["sni"] = parsed->sni;
  keys["control_sni"] = parsed->control_sni;
  keys["trigger"] = trigger.value();
  if (!unavailable.empty()) {
    keys["available"] = false;
    keys["reason"] = unavailable;
  } else {
    keys["available"] = true;
    std::vector<Hop> hops;
    for (int ttl = 1; lookup_failure.empty() && ttl <= std::max(1, context.injection.max_ttl);
         ++ttl) {
      Hop hop;
      hop.ttl = ttl;
      hop.control = co_await ProbeHop(trace, icmp, ip, port, ttl, control_hello, context);
      if (IsError(hop.control.outcome)) {
        hop.target.outcome = "error: not sent";
      } else {
        hop.target = co_await ProbeHop(trace, icmp, ip, port, ttl, target_hello, context);
      }
      hops.push_back(hop);
      if (!SweepContinues(hop)) break;
    }
    HopJudgement judgement = LocateCensor(hops);
    if (!lookup_failure.empty()) {
      judgement.reason = "the endpoint's name did not resolve (" + lookup_failure + ")";
    }
    Json hop_list = Json::array();
    for (const Hop& hop : hops) hop_list.push_back(HopJson(hop));
    keys["hops"] = std::move(hop_list);
    keys["censor_ttl"] = judgement.censor_ttl ? Json(*judgement.censor_ttl) : Json();
    keys["last_router_before"] = OptionalJson(judgement.last_router_before);
    keys["router_at"] = OptionalJson(judgement.router_at);
    keys["verdict"] = judgement.verdict;
    keys["x_reason"] = judgement.reason;
  }

  m.test_runtime = trace.Now();
  m.test_keys = std::move(trace.keys());
  m.test_keys.extra = std::move(keys);
  co_return m;
}

RunSummary CensorHopExperiment::Summarize(const Measurement& measurement) const {
  const Json& k = measurement.test_keys.extra;
  RunSummary s;
  s.service = measurement.input.is_string() ? measurement.input.get<std::string>() : kCensorHopName;
  if (!k.value("available", false)) {
    s.verdict = RunVerdict::kError;
    s.evidence = "not measured: " + k.value("reason", std::string());
    return s;
  }
  const std::string verdict = k.value("verdict", std::string());
  const std::string reason = k.value("x_reason", std::string());
  if (verdict == "located") {
    auto name = [&k](const char* key) {
      return k[key].is_string() ? k[key].get<std::string>() : std::string("an unnamed router");
    };
    s.verdict = RunVerdict::kBlocked;
    s.blocking = k.value("trigger", std::string("tls")) == "http" ? "http" : "tls";
    const std::string before =
        k["last_router_before"].is_string() ? name("last_router_before") : "the probe";
    s.evidence = "censor at TTL " + std::to_string(k.value("censor_ttl", 0)) + ", between " +
                 before + " and " + name("router_at") + ": " + reason;
  } else if (verdict == "not_triggered") {
    s.verdict = RunVerdict::kOk;
    s.evidence = "not triggered: " + reason;
  } else {
    s.verdict = RunVerdict::kError;
    s.evidence = "inconclusive: " + reason;
  }
  return s;
}

// How the registry makes one: experiments.def lists it.
std::unique_ptr<Experiment> MakeCensorHopExperiment() {
  return std::make_unique<CensorHopExperiment>();
}

}  // namespace vigil
