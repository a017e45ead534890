// ForgedAddressPool: the addresses a censor's DNS injectors are known to answer with —
// the `dns` `full` address patterns of the block-page fingerprints
// (data_dir/fingerprints/fingerprints_dns.csv) plus files of one address or CIDR a line
// (InjectionOptions::forged_ip_files). The probe reads the fingerprints itself: it
// must not link the analyzer, whose reader does far more. Plain value type; const
// methods are safe from any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "probe/experiments/common/ip_prefix_set.h"

namespace vigil {

class ForgedAddressPool {
 public:
  /// The fingerprints file (none there is no error: the pool is then the files alone)
  /// and every file of `files`; errors name file:line.
  static Result<ForgedAddressPool> Load(const std::string& data_dir,
                                        const std::vector<std::string>& files);

  /// Adds the IP-literal `full` patterns of the rows found at `dns` of a fingerprints CSV
  /// (OONI's format: name,scope,other_names,location_found,pattern_type,pattern,...);
  /// patterns that are names (CNAME targets) are left out.
  Result<bool> AddFingerprints(std::string_view csv, const std::string& path);

  /// Adds one address or prefix.
  Result<bool> Add(std::string_view cidr) { return prefixes_.Add(cidr); }

  /// Adds a file of addresses and prefixes ('#' comments); errors read "path:line: ...".
  Result<bool> AddFile(const std::string& path) { return prefixes_.AddFile(path); }

  bool Contains(std::string_view ip) const { return prefixes_.Contains(ip); }
  size_t size() const { return prefixes_.size(); }

 private:
  IpPrefixSet prefixes_;
};

/// data_dir/fingerprints/fingerprints_dns.csv ("testlists/..." when data_dir is empty).
std::string DnsFingerprintsPath(const std::string& data_dir);

}  // namespace vigil
