// Geolocation of a vantage point, as OONI Probe does it, without trusting a third
// party: the probe's public address from our helper (GET /x/whoami: the address the
// helper saw), its AS and network name from an ASN mmdb, its country from a country
// mmdb, and the resolver's address and AS. Unknown parts stay at OONI's defaults
// (AS0, ZZ). The probe's address is only ever used to scrub it from measurements
// (scrub.h): it is never written to a report or a log line that leaves the machine.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace vigil {

struct GeoOptions {
  std::string helper_url;   // http(s)://host:port of `vigil helper`; empty: no probe IP
  std::string asn_db;       // GeoLite2-ASN-style mmdb; empty: AS0
  std::string country_db;   // GeoLite2-Country-style mmdb; empty: ZZ
  std::string resolver_ip;  // the resolver's address; empty: /etc/resolv.conf's first
  uint16_t resolver_port = 53;
  /// A name under a helper's whoami zone: resolved through the resolver, its answer is
  /// the address the resolver recursed from (its egress), which then is resolver_ip.
  std::string resolver_whoami;
  std::string ca_file;  // for an https helper
  std::chrono::milliseconds timeout{5000};
};

struct GeoInfo {
  std::vector<std::string> probe_ips;  // what to scrub (empty when unknown)
  std::string probe_asn = "AS0";
  std::string probe_cc = "ZZ";
  std::string probe_network_name;
  std::string resolver_ip;
  std::string resolver_asn = "AS0";
  std::string resolver_network_name;
  std::vector<std::string> notes;  // why a part is unknown (for the volunteer's terminal)
};

GeoInfo Geolocate(const GeoOptions& options);

/// The first nameserver of a resolv.conf-format file, or "".
std::string FirstNameserver(const std::string& resolv_conf = "/etc/resolv.conf");

}  // namespace vigil
