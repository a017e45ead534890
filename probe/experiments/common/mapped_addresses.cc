#include "probe/experiments/common/mapped_addresses.h"

#include "base/host_port.h"
#include "probe/http/url.h"

namespace vigil {

namespace {

// The IP of an "ip:port" / "[ipv6]:port" address, or "" when it has none.
std::string HostOf(const std::string& address) {
  auto hp = ParseHostPort(address);
  return hp.ok() ? hp->host : std::string();
}

template <typename Entry>
void Mark(Entry& entry, const std::string& ip, const std::map<std::string, std::string>& map) {
  if (ip.empty()) return;
  if (auto it = map.find(ip); it != map.end()) entry.extra["x_mapped_from"] = it->second;
}

}  // namespace

std::map<std::string, std::string> MappedLiterals(const ExperimentContext& context,
                                                  const std::vector<std::string>& real_ips) {
  std::map<std::string, std::string> out;
  for (const auto& ip : real_ips) {
    const std::string contacted = context.MapAddress(ip);
    if (contacted != ip) out[contacted] = ip;
  }
  return out;
}

void MarkMappedAddresses(TestKeys& keys,
                         const std::map<std::string, std::string>& contacted_to_real) {
  if (contacted_to_real.empty()) return;
  for (auto& c : keys.tcp_connect) Mark(c, c.ip, contacted_to_real);
  for (auto& h : keys.tls_handshakes) Mark(h, HostOf(h.address), contacted_to_real);
  for (auto& e : keys.network_events)
    Mark(e, e.address ? HostOf(*e.address) : "", contacted_to_real);
  for (auto& r : keys.requests) {
    std::string ip = HostOf(r.address);
    if (ip.empty()) {
      // A request that failed before connecting has no address; its URL names it.
      if (auto url = ParseUrl(r.request.url); url.ok()) ip = url->host;
    }
    Mark(r, ip, contacted_to_real);
  }
}

}  // namespace vigil
