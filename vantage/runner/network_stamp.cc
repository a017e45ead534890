#include "vantage/runner/network_stamp.h"

#include "base/utf8.h"
#include "probe/geo/asn_database.h"
#include "vantage/geo/scrub.h"

namespace vigil {

void StampNetwork(const GeoInfo& where, Measurement& m) {
  m.probe_asn = where.probe_asn;
  m.probe_cc = where.probe_cc;
  m.probe_network_name = where.probe_network_name;
  m.resolver_asn = where.resolver_asn;
  m.resolver_ip = where.resolver_ip;
  m.resolver_network_name = where.resolver_network_name;
  // Bytes that are not UTF-8 are written base64-encoded, where scrubbing the text
  // cannot see an address: scrub them before they are encoded.
  if (where.probe_ips.empty()) return;
  for (auto& t : m.test_keys.requests) {
    std::string& body = t.response.body.bytes;
    if (!IsValidUtf8(body)) body = ScrubProbeIp(body, where.probe_ips);
    for (auto& [name, value] : t.response.headers_list) {
      if (!IsValidUtf8(value)) value = ScrubProbeIp(value, where.probe_ips);
    }
    for (auto& [name, value] : t.response.headers) {
      if (!IsValidUtf8(value)) value = ScrubProbeIp(value, where.probe_ips);
    }
  }
}

void PlaceDnsAnswers(const AsnDatabase& db, Measurement& measurement) {
  for (DnsQuery& q : measurement.test_keys.queries) {
    for (DnsAnswer& a : q.answers) {
      const std::optional<std::string>& ip = a.ipv4 ? a.ipv4 : a.ipv6;
      if (!ip || ip->empty() || a.asn) continue;
      if (auto info = db.Lookup(*ip); info && info->number != 0) {
        a.asn = info->number;
        if (!a.as_org_name) a.as_org_name = info->organization;
      }
    }
  }
}

}  // namespace vigil
