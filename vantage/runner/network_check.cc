#include "vantage/runner/network_check.h"

#include <asio/ip/address.hpp>
#include <memory>

#include "base/host_port.h"
#include "probe/dns/dns_observer.h"
#include "probe/net/concurrency.h"
#include "probe/tcp/tcp_observer.h"

namespace vigil {
namespace {

// Only addresses prove the resolver reaches the internet: a resolver cut off from it
// may still answer NXDOMAIN or SERVFAIL for everything (a local stub does), and no
// censor removes example.com.
bool ResolverAnswered(const DnsQuery& q) {
  if (q.failure) return false;
  for (const auto& a : q.answers) {
    if (a.ipv4 || a.ipv6) return true;
  }
  return false;
}

bool IsLoopback(const std::string& ip) {
  std::error_code ec;
  const auto a = asio::ip::make_address(ip, ec);
  return !ec && a.is_loopback();
}

// "https://helper.example:8443/path" or "host:port" → host and port; nullopt when it
// names neither.
std::optional<HostPort> EndpointOf(const std::string& text) {
  std::string_view rest = text;
  uint16_t port = 80;
  if (auto scheme = rest.find("://"); scheme != std::string_view::npos) {
    if (rest.substr(0, scheme) == "https") port = 443;
    rest.remove_prefix(scheme + 3);
    rest = rest.substr(0, rest.find('/'));
  }
  auto hp = ParseHostOptionalPort(rest, port);
  if (!hp.ok()) return std::nullopt;
  return *hp;
}

Json Check(std::string kind, std::string target, const std::string& failure) {
  Json c = Json::object();
  c["kind"] = std::move(kind);
  c["target"] = std::move(target);
  c["failure"] = failure.empty() ? Json(nullptr) : Json(failure);
  return c;
}

}  // namespace

void NetworkCheck::Set(Json result) { promise_.set_value(std::move(result)); }

asio::awaitable<Json> CheckNetwork(const ExperimentContext& context,
                                   const NetworkCheckOptions& options) {
  auto trace = std::make_shared<Trace>();
  auto dns = std::make_shared<DnsObserver>(context.executor, context.resolver, context.timeout);
  auto checks = std::make_shared<std::vector<Json>>();
  std::vector<Task> tasks;
  for (const std::string& name : options.names) {
    tasks.push_back([=]() -> asio::awaitable<void> {
      // One query for the A record (getaddrinfo with the system's resolver) suffices.
      DnsQuery q = co_await dns->Query(*trace, name, 1);
      std::string failure = q.failure.value_or("");
      if (failure.empty() && !ResolverAnswered(q)) failure = "dns_no_answer";
      checks->push_back(Check("dns", name, failure));
    });
  }
  for (const std::string& text : options.endpoints) {
    auto hp = EndpointOf(text);
    if (!hp) continue;
    tasks.push_back([=, &context, hp = *hp]() -> asio::awaitable<void> {
      std::vector<std::string> ips;
      std::string failure;
      if (IsIpLiteral(hp.host)) {
        ips.push_back(context.MapAddress(hp.host));
      } else {
        LookupResult r = co_await dns->Lookup(*trace, hp.host);
        ips = std::move(r.addresses);
        failure = r.failure;
      }
      std::erase_if(ips, IsLoopback);
      if (ips.empty() && failure.empty()) co_return;  // loopback only: proves nothing
      for (const std::string& ip : ips) {
        auto c = co_await ObserveTcpConnect(*trace, ip, hp.port, trace->NextTransactionId(),
                                            context.timeout);
        failure = c.failure;
        if (failure.empty()) break;
      }
      checks->push_back(Check("tcp", JoinHostPort(hp.host, hp.port), failure));
    });
  }
  const size_t count = tasks.size();
  co_await RunBounded(std::move(tasks), count + 1);
  bool usable = false;
  for (const Json& c : *checks) usable = usable || c["failure"].is_null();
  Json out = Json::object();
  // No canary at all says nothing either way.
  out["usable"] = checks->empty() ? Json(nullptr) : Json(usable);
  out["checks"] = std::move(*checks);
  co_return out;
}

}  // namespace vigil
