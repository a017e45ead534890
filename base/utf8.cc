#include "base/utf8.h"

#include <cstddef>

namespace vigil {

namespace {

// Length of the well-formed sequence at the start of `bytes`, or 0 when it is
// ill-formed. The ranges of the second byte are RFC 3629's table, which is what
// excludes overlong forms, surrogates and code points above U+10FFFF.
size_t SequenceLength(std::string_view bytes) {
  auto at = [&](size_t i) { return static_cast<unsigned char>(bytes[i]); };
  auto continuation = [&](size_t i) { return i < bytes.size() && (at(i) & 0xC0) == 0x80; };
  auto in = [&](size_t i, unsigned lo, unsigned hi) {
    return i < bytes.size() && at(i) >= lo && at(i) <= hi;
  };
  const unsigned lead = at(0);
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) return continuation(1) ? 2 : 0;
  if (lead >= 0xE0 && lead <= 0xEF) {
    const unsigned lo = lead == 0xE0 ? 0xA0 : 0x80;
    const unsigned hi = lead == 0xED ? 0x9F : 0xBF;
    return in(1, lo, hi) && continuation(2) ? 3 : 0;
  }
  if (lead >= 0xF0 && lead <= 0xF4) {
    const unsigned lo = lead == 0xF0 ? 0x90 : 0x80;
    const unsigned hi = lead == 0xF4 ? 0x8F : 0xBF;
    return in(1, lo, hi) && continuation(2) && continuation(3) ? 4 : 0;
  }
  return 0;
}

}  // namespace

bool IsValidUtf8(std::string_view bytes) {
  while (!bytes.empty()) {
    const size_t n = SequenceLength(bytes);
    if (n == 0) return false;
    bytes.remove_prefix(n);
  }
  return true;
}

std::string ToValidUtf8(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  while (!bytes.empty()) {
    size_t n = SequenceLength(bytes);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      n = 1;
    } else {
      out.append(bytes.substr(0, n));
    }
    bytes.remove_prefix(n);
  }
  return out;
}

size_t Utf8Length(std::string_view bytes) {
  size_t length = 0;
  while (!bytes.empty()) {
    const size_t n = SequenceLength(bytes);
    bytes.remove_prefix(n == 0 ? 1 : n);
    ++length;
  }
  return length;
}

}  // namespace vigil
