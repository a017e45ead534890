#include "probe/stun/stun_message.h"

#include <arpa/inet.h>
#include <sys/random.h>

#include <algorithm>
#include <cstring>
#include <random>

namespace vigil {

namespace {

constexpr size_t kMaxReasonBytes = 128;

uint16_t Read16(const unsigned char* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }
uint32_t Read32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

void Put16(std::string& out, uint16_t v) {
  out += static_cast<char>(v >> 8);
  out += static_cast<char>(v & 0xff);
}

void Put32(std::string& out, uint32_t v) {
  Put16(out, static_cast<uint16_t>(v >> 16));
  Put16(out, static_cast<uint16_t>(v & 0xffff));
}

// MAPPED-ADDRESS and XOR-MAPPED-ADDRESS share one layout: reserved byte, family
// (1 = IPv4, 2 = IPv6), port, address. The XOR form masks the port with the
// cookie's top half and the address with the cookie followed by the transaction id.
Result<StunAddress> ParseAddress(const unsigned char* value, size_t length, bool xored,
                                 const unsigned char* header) {
  if (length < 4) return Error{"address attribute shorter than 4 bytes"};
  const unsigned char family = value[1];
  const size_t address_size = family == 1 ? 4 : family == 2 ? 16 : 0;
  if (address_size == 0) return Error{"address family " + std::to_string(family) + " is unknown"};
  if (length != 4 + address_size) {
    return Error{"address attribute of " + std::to_string(length) + " bytes for family " +
                 std::to_string(family)};
  }
  StunAddress address;
  address.port = Read16(value + 2);
  unsigned char bytes[16];
  std::memcpy(bytes, value + 4, address_size);
  if (xored) {
    address.port ^= static_cast<uint16_t>(kStunMagicCookie >> 16);
    // Bytes 4..19 of the header are the cookie and the transaction id.
    for (size_t i = 0; i < address_size; ++i) bytes[i] ^= header[4 + i];
  }
  char text[INET6_ADDRSTRLEN];
  if (!inet_ntop(family == 1 ? AF_INET : AF_INET6, bytes, text, sizeof text)) {
    return Error{"address does not print"};
  }
  address.ip = text;
  return address;
}

}  // namespace

StunTransactionId RandomStunTransactionId() {
  StunTransactionId id{};
  size_t filled = 0;
  while (filled < id.size()) {
    const ssize_t n = getrandom(id.data() + filled, id.size() - filled, 0);
    if (n <= 0) break;
    filled += static_cast<size_t>(n);
  }
  if (filled < id.size()) {
    // getrandom cannot fail on Linux ≥ 3.17 once the pool is seeded; this keeps the
    // id unpredictable enough should it ever do so.
    std::random_device device;
    for (size_t i = filled; i < id.size(); ++i) id[i] = static_cast<uint8_t>(device());
  }
  return id;
}

std::string EncodeStunBindingRequest(const StunTransactionId& id) {
  std::string out;
  out.reserve(kStunHeaderSize);
  Put16(out, kStunBindingRequest);
  Put16(out, 0);  // no attributes
  Put32(out, kStunMagicCookie);
  out.append(reinterpret_cast<const char*>(id.data()), id.size());
  return out;
}

Result<StunMessage> ParseStunMessage(std::string_view datagram) {
  const auto* p = reinterpret_cast<const unsigned char*>(datagram.data());
  const size_t size = datagram.size();
  if (size < kStunHeaderSize) {
    return Error{"shorter than the 20-byte header (" + std::to_string(size) + " bytes)"};
  }
  StunMessage m;
  m.type = Read16(p);
  if ((m.type & 0xC000) != 0) return Error{"the first two bits are not zero: not STUN"};
  const uint16_t length = Read16(p + 2);
  if (length % 4 != 0)
    return Error{"message length " + std::to_string(length) + " is not a multiple of 4"};
  if (Read32(p + 4) != kStunMagicCookie) return Error{"wrong magic cookie"};
  if (kStunHeaderSize + length > size) {
    return Error{"message length " + std::to_string(length) + " runs past the " +
                 std::to_string(size) + "-byte datagram"};
  }
  if (kStunHeaderSize + length < size) {
    return Error{std::to_string(size - kStunHeaderSize - length) +
                 " bytes after the message's end"};
  }
  std::memcpy(m.transaction_id.data(), p + 8, m.transaction_id.size());

  size_t pos = kStunHeaderSize;
  const size_t end = size;
  for (int index = 0; pos < end; ++index) {
    if (end - pos < 4) return Error{"attribute " + std::to_string(index) + " header is truncated"};
    const uint16_t type = Read16(p + pos);
    const uint16_t value_length = Read16(p + pos + 2);
    const size_t value_at = pos + 4;
    const size_t padded = (static_cast<size_t>(value_length) + 3) & ~size_t{3};
    if (padded > end - value_at) {
      return Error{"attribute " + std::to_string(index) + " runs past the message"};
    }
    const unsigned char* value = p + value_at;
    // Only the first of several same-type attributes counts (RFC 5389 §15).
    if (type == kStunAttrXorMappedAddress && !m.xor_mapped_address) {
      auto a = ParseAddress(value, value_length, /*xored=*/true, p);
      if (!a.ok()) return Error{"XOR-MAPPED-ADDRESS: " + a.error()};
      m.xor_mapped_address = std::move(*a);
    } else if (type == kStunAttrMappedAddress && !m.mapped_address) {
      auto a = ParseAddress(value, value_length, /*xored=*/false, p);
      if (!a.ok()) return Error{"MAPPED-ADDRESS: " + a.error()};
      m.mapped_address = std::move(*a);
    } else if (type == kStunAttrErrorCode && !m.error_code) {
      if (value_length < 4) return Error{"ERROR-CODE shorter than 4 bytes"};
      const int code = (value[2] & 0x07) * 100 + value[3];
      if (code < 300 || code > 699 || value[3] > 99) {
        return Error{"ERROR-CODE " + std::to_string(code) + " is out of range"};
      }
      m.error_code = code;
      const size_t reason_length = std::min<size_t>(value_length - 4, kMaxReasonBytes);
      m.error_reason.assign(reinterpret_cast<const char*>(value + 4), reason_length);
    }
    pos = value_at + padded;
  }
  return m;
}

}  // namespace vigil
