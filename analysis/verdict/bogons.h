// BogonList: address ranges no public name should resolve to (private, loopback,
// link-local, documentation, multicast and other special-purpose ranges), read from a
// CSV file of prefixes (testlists/verdict/bogons.csv). A bad line is refused with
// "file:line:column: field: reason". Immutable once read; Contains may be called from
// many threads at once.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace vigil::analysis {

class BogonList {
 public:
  /// The CSV header a bogon list starts with (after any # comment lines).
  static constexpr std::string_view kHeader = "prefix,name";

  /// Parses a bogon list's text: # comment lines, the header, then one
  /// "address/length,name" per line. `name` is used in messages.
  static Result<BogonList> Parse(std::string_view text, const std::string& name);

  /// True when `ip` (IPv4 or IPv6 text) lies in one of the ranges; false for anything
  /// else, text that is not an address included.
  bool Contains(const std::string& ip) const;

  /// How many ranges the list holds.
  size_t size() const { return v4_.size() + v6_.size(); }

 private:
  struct V4 {
    uint32_t base = 0;
    uint32_t mask = 0;
  };
  struct V6 {
    std::array<uint8_t, 16> base{};
    int bits = 0;
  };
  std::vector<V4> v4_;
  std::vector<V6> v6_;
};

}  // namespace vigil::analysis
