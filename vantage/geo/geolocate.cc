#include "vantage/geo/geolocate.h"

#include <httplib.h>

#include <fstream>
#include <future>
#include <nlohmann/json.hpp>
#include <sstream>

#include "base/host_port.h"
#include "probe/geo/asn_database.h"
#include "probe/http/url.h"
#include "vantage/helper/whoami_dns.h"

namespace vigil {

std::string FirstNameserver(const std::string& resolv_conf) {
  std::ifstream in(resolv_conf);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string key, value;
    if (words >> key >> value && key == "nameserver" && IsIpLiteral(value)) return value;
  }
  return "";
}

namespace {

std::string AskHelper(const GeoOptions& options, std::string* why) {
  auto url = ParseUrl(options.helper_url);
  if (!url.ok()) {
    *why = "helper " + options.helper_url + ": " + url.error();
    return "";
  }
  httplib::Client client(FormatEndpointUrl(url->scheme, url->host, url->port));
  const auto ms = options.timeout.count();
  client.set_connection_timeout(ms / 1000, (ms % 1000) * 1000);
  client.set_read_timeout(ms / 1000, (ms % 1000) * 1000);
  if (!options.ca_file.empty()) client.set_ca_cert_path(options.ca_file.c_str());
  auto res = client.Get("/x/whoami");
  if (!res) {
    *why = "helper " + options.helper_url + ": " + httplib::to_string(res.error());
    return "";
  }
  auto json = nlohmann::json::parse(res->body, nullptr, false);
  if (res->status != 200 || !json.is_object() || !json.contains("ip") || !json["ip"].is_string() ||
      !IsIpLiteral(json["ip"].get<std::string>())) {
    *why = "helper " + options.helper_url + ": no address in its answer (HTTP " +
           std::to_string(res->status) + ")";
    return "";
  }
  return json["ip"].get<std::string>();
}

}  // namespace

GeoInfo Geolocate(const GeoOptions& options) {
  GeoInfo geo;
  geo.resolver_ip = options.resolver_ip.empty() ? FirstNameserver() : options.resolver_ip;
  // The resolver's egress is asked beside the helper: two independent round trips.
  std::future<Result<std::string>> egress;
  if (!options.resolver_whoami.empty() && !geo.resolver_ip.empty()) {
    egress = std::async(std::launch::async, [&options, ip = geo.resolver_ip] {
      return LookupWhoami(ip, options.resolver_port, options.resolver_whoami,
                          static_cast<int>(options.timeout.count()));
    });
  }
  std::string probe_ip;
  if (options.helper_url.empty()) {
    geo.notes.push_back(
        "no helper configured: the probe's address is unknown, so only probe_ip is scrubbed");
  } else {
    std::string why;
    probe_ip = AskHelper(options, &why);
    if (probe_ip.empty()) geo.notes.push_back(why);
  }
  if (!probe_ip.empty()) geo.probe_ips.push_back(probe_ip);
  if (!options.resolver_whoami.empty()) {
    if (!egress.valid()) {
      geo.notes.push_back("no resolver address to ask " + options.resolver_whoami);
    } else if (auto answer = egress.get(); answer.ok()) {
      geo.resolver_ip = *answer;
    } else {
      geo.notes.push_back("resolver's egress address unknown: " + answer.error());
    }
  }

  std::shared_ptr<const AsnDatabase> asn, country;
  if (!options.asn_db.empty()) {
    auto db = AsnDatabase::Open(options.asn_db);
    if (db.ok())
      asn = *db;
    else
      geo.notes.push_back(db.error());
  }
  if (!options.country_db.empty()) {
    auto db = AsnDatabase::Open(options.country_db);
    if (db.ok())
      country = *db;
    else
      geo.notes.push_back(db.error());
  }
  if (asn && !probe_ip.empty()) {
    if (auto info = asn->Lookup(probe_ip)) {
      geo.probe_asn = "AS" + std::to_string(info->number);
      geo.probe_network_name = info->organization;
    }
  }
  if (country && !probe_ip.empty()) {
    if (auto cc = country->LookupCountry(probe_ip)) geo.probe_cc = *cc;
  }
  if (asn && !geo.resolver_ip.empty()) {
    if (auto info = asn->Lookup(geo.resolver_ip)) {
      geo.resolver_asn = "AS" + std::to_string(info->number);
      geo.resolver_network_name = info->organization;
    }
  }
  return geo;
}

}  // namespace vigil
