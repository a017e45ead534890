// STUN messages (RFC 5389): the Binding Request a reachability probe sends and the
// parsing of what comes back. Hand-written rather than taken from a STUN library
// because the probe must see every datagram as it arrived — a truncated header, a
// wrong cookie, someone else's transaction id, an error response — and say which it
// was, where a library hides all of that behind "no answer"; and because the codec
// is small (a 20-byte header and a few TLV attributes). Parsing is bounded by the
// datagram's length and safe on hostile bytes. Pure functions; thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace vigil {

inline constexpr uint32_t kStunMagicCookie = 0x2112A442;
inline constexpr size_t kStunHeaderSize = 20;

inline constexpr uint16_t kStunBindingRequest = 0x0001;
inline constexpr uint16_t kStunBindingSuccess = 0x0101;
inline constexpr uint16_t kStunBindingError = 0x0111;

inline constexpr uint16_t kStunAttrMappedAddress = 0x0001;
inline constexpr uint16_t kStunAttrErrorCode = 0x0009;
inline constexpr uint16_t kStunAttrXorMappedAddress = 0x0020;

/// The 96-bit id that ties a response to its request.
using StunTransactionId = std::array<uint8_t, 12>;

/// A transport address carried in a (XOR-)MAPPED-ADDRESS attribute. It is the
/// probe's own public address as the server saw it: never put it in a report.
struct StunAddress {
  std::string ip;  // textual IPv4 or IPv6
  uint16_t port = 0;
};

/// What a datagram said, once it parsed as a STUN message.
struct StunMessage {
  uint16_t type = 0;  // e.g. kStunBindingSuccess
  StunTransactionId transaction_id{};
  std::optional<StunAddress> xor_mapped_address;
  std::optional<StunAddress> mapped_address;  // RFC 3489 servers send only this
  std::optional<int> error_code;              // 300..699, from ERROR-CODE
  std::string error_reason;                   // its reason phrase, at most 128 bytes
};

/// A fresh transaction id from the system's cryptographic random source, so that an
/// off-path sender cannot guess it.
StunTransactionId RandomStunTransactionId();

/// The 20-byte Binding Request with no attributes.
std::string EncodeStunBindingRequest(const StunTransactionId& id);

/// Parses one datagram. Errors name what is wrong ("shorter than the 20-byte header",
/// "wrong magic cookie", "attribute 3 runs past the message", ...). Attributes the
/// probe does not use are skipped; a malformed address attribute is an error.
Result<StunMessage> ParseStunMessage(std::string_view datagram);

}  // namespace vigil
