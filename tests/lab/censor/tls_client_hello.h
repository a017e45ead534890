// Extracts the server name (SNI) from the start of a client's TCP byte stream holding
// a TLS ClientHello, which may span several TLS records and TCP segments.
// Bounded: never reads past the given bytes nor assembles more than 16 KiB.
// Pure function; thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace vigil::lab {

enum class HelloStatus {
  kNeedMore,  // a ClientHello so far, but incomplete
  kFound,     // complete, with a host_name entry in server_name
  kNoSni,     // complete ClientHello without SNI
  kNotTls,    // not a TLS handshake, or malformed
};

struct HelloResult {
  HelloStatus status = HelloStatus::kNotTls;
  std::string sni;
};

/// Looks for the ClientHello at the start of `stream` (the client's first bytes).
HelloResult ParseClientHelloSni(std::span<const uint8_t> stream);

}  // namespace vigil::lab
