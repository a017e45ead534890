// IpPrefixSet: a set of IPv4 and IPv6 CIDR prefixes ("31.13.24.0/21", "2a03:2880::/32")
// read from data files, answering "is this address inside?" — how the messaging
// experiments tell a service's own addresses from a resolver's lies without an ASN
// database. Plain value type; const methods are safe to call from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace vigil {

class IpPrefixSet {
 public:
  /// Adds one prefix; a bare address is a /32 or /128. The error names what is wrong.
  Result<bool> Add(std::string_view cidr);

  /// Adds every prefix of a file: one a line, '#' starts a comment, blank lines
  /// are skipped. Errors read "path:line: reason".
  Result<bool> AddFile(const std::string& path);

  /// True when `ip` (an IPv4 or IPv6 literal) lies in one of the prefixes.
  bool Contains(std::string_view ip) const;

  size_t size() const { return prefixes_.size(); }

 private:
  struct Prefix {
    bool v6 = false;
    std::array<uint8_t, 16> bytes{};
    int length = 0;
  };
  std::vector<Prefix> prefixes_;
};

}  // namespace vigil
