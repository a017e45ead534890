#include "base/base64.h"

#include <algorithm>
#include <array>
#include <cstdint>

namespace vigil {
namespace {

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr int8_t kInvalid = -1;

// Digit values; with `url_safe` '-' and '_' also read as 62 and 63.
constexpr std::array<int8_t, 256> MakeDecodeTable(bool url_safe) {
  std::array<int8_t, 256> table{};
  for (int8_t& entry : table) entry = kInvalid;
  for (size_t i = 0; i < kAlphabet.size(); ++i) {
    table[static_cast<unsigned char>(kAlphabet[i])] = static_cast<int8_t>(i);
  }
  if (url_safe) {
    table['-'] = 62;
    table['_'] = 63;
  }
  return table;
}

constexpr std::array<int8_t, 256> kStandard = MakeDecodeTable(false);
constexpr std::array<int8_t, 256> kEither = MakeDecodeTable(true);

}  // namespace

std::string Base64Encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t group = static_cast<uint32_t>(static_cast<unsigned char>(bytes[i])) << 16 |
                     static_cast<uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8 |
                     static_cast<uint32_t>(static_cast<unsigned char>(bytes[i + 2]));
    out += kAlphabet[(group >> 18) & 63];
    out += kAlphabet[(group >> 12) & 63];
    out += kAlphabet[(group >> 6) & 63];
    out += kAlphabet[group & 63];
  }
  const size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t group = static_cast<uint32_t>(static_cast<unsigned char>(bytes[i])) << 16;
    if (rest == 2) group |= static_cast<uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8;
    out += kAlphabet[(group >> 18) & 63];
    out += kAlphabet[(group >> 12) & 63];
    out += rest == 2 ? kAlphabet[(group >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::optional<std::string> Base64Decode(std::string_view text) {
  size_t padding = 0;
  while (padding < 2 && !text.empty() && text.back() == '=') {
    text.remove_suffix(1);
    ++padding;
  }
  // With padding the length was a multiple of four; without, one leftover character
  // cannot encode a whole byte.
  if (padding > 0 && (text.size() + padding) % 4 != 0) return std::nullopt;
  if (text.size() % 4 == 1) return std::nullopt;

  // Written through a pointer into a buffer sized once: appending byte by byte costs
  // a capacity check per byte.
  std::string out(text.size() / 4 * 3 + 2, '\0');
  char* w = out.data();
  uint32_t group = 0;
  int bits = 0;
  for (char c : text) {
    const int value = kStandard[static_cast<unsigned char>(c)];
    if (value == kInvalid) return std::nullopt;
    group = (group << 6) | static_cast<uint32_t>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      *w++ = static_cast<char>((group >> bits) & 0xff);
    }
  }
  out.resize(static_cast<size_t>(w - out.data()));
  return out;
}

size_t Base64DecodePrefix(std::string_view text, size_t cap, std::string* out) {
  const size_t start = out->size();
  out->resize(start + std::min(cap, text.size() / 4 * 3 + 3));
  char* w = out->data() + start;
  uint32_t group = 0;
  int bits = 0;
  size_t length = 0;
  size_t i = 0;
  for (; i < text.size() && length < cap; ++i) {
    const int value = kEither[static_cast<unsigned char>(text[i])];
    if (value == kInvalid) continue;
    group = (group << 6) | static_cast<uint32_t>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      w[length++] = static_cast<char>((group >> bits) & 0xff);
    }
  }
  out->resize(start + length);
  // Past the cap only the length matters: count the remaining digits.
  size_t digits = 0;
  for (; i < text.size(); ++i) digits += kEither[static_cast<unsigned char>(text[i])] != kInvalid;
  return length + (static_cast<size_t>(bits) + digits * 6) / 8;
}

}  // namespace vigil
