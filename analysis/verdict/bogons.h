// IsBogon: addresses no public name should resolve to (private, loopback, link-local,
// documentation, multicast and other special-purpose ranges). A pure function, safe
// from any thread.
#pragma once

#include <string>

namespace vigil::analysis {

/// True when `ip` (IPv4 or IPv6 text) lies in a special-purpose range; false for
/// anything else, text that is not an address included.
bool IsBogon(const std::string& ip);

}  // namespace vigil::analysis
