// AsnDatabase: IP address → autonomous system (number and organisation) from a
// MaxMind DB file in GeoLite2-ASN layout (autonomous_system_number,
// autonomous_system_organization), read with libmaxminddb. How the experiments
// tell a service's own addresses from forged DNS answers, and how the lab's
// stand-in addresses keep the ASNs of the services they play.
// Open once, then Lookup from any thread (the file is mapped read-only).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace vigil {

struct AsnInfo {
  uint32_t number = 0;
  std::string organization;
};

class AsnDatabase {
 public:
  /// Opens `path`; the error names the file and libmaxminddb's reason.
  static Result<std::shared_ptr<const AsnDatabase>> Open(const std::string& path);

  ~AsnDatabase();
  AsnDatabase(const AsnDatabase&) = delete;
  AsnDatabase& operator=(const AsnDatabase&) = delete;

  /// The AS of `ip` (an IPv4 or IPv6 literal), or nullopt when the database has no
  /// entry for it or `ip` is not an address.
  std::optional<AsnInfo> Lookup(std::string_view ip) const;

  /// The country (ISO 3166 alpha-2, "IT") of `ip` in a GeoLite2-Country-style file
  /// (country.iso_code), or nullopt. Open the country database for this, not the ASN one.
  std::optional<std::string> LookupCountry(std::string_view ip) const;

 private:
  AsnDatabase();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil
