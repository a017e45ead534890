#include "probe/experiments/common/ip_prefix_set.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <sstream>

#include "base/whole_file.h"

namespace vigil {

namespace {

// Parses an address literal into network-order bytes; false when it is not one.
bool ParseAddress(std::string_view text, bool* v6, std::array<uint8_t, 16>* bytes) {
  const std::string s(text);
  bytes->fill(0);
  if (inet_pton(AF_INET, s.c_str(), bytes->data()) == 1) {
    *v6 = false;
    return true;
  }
  if (inet_pton(AF_INET6, s.c_str(), bytes->data()) == 1) {
    *v6 = true;
    return true;
  }
  return false;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

}  // namespace

Result<bool> IpPrefixSet::Add(std::string_view cidr) {
  cidr = Trim(cidr);
  const size_t slash = cidr.find('/');
  Prefix p;
  if (!ParseAddress(cidr.substr(0, slash), &p.v6, &p.bytes)) {
    return Error{"'" + std::string(cidr) + "' is not an IP prefix"};
  }
  const int max = p.v6 ? 128 : 32;
  p.length = max;
  if (slash != std::string_view::npos) {
    std::string_view len = cidr.substr(slash + 1);
    auto [end, ec] = std::from_chars(len.data(), len.data() + len.size(), p.length);
    if (len.empty() || ec != std::errc() || end != len.data() + len.size() || p.length < 0 ||
        p.length > max) {
      return Error{"'" + std::string(cidr) + "': prefix length must be 0-" + std::to_string(max)};
    }
  }
  prefixes_.push_back(p);
  return true;
}

Result<bool> IpPrefixSet::AddFile(const std::string& path) {
  auto content = ReadWholeFile(path);
  if (!content.ok()) return Error{content.error()};
  std::istringstream in(*content);
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    std::string_view text = line;
    if (size_t hash = text.find('#'); hash != std::string_view::npos) text = text.substr(0, hash);
    text = Trim(text);
    if (text.empty()) continue;
    if (auto added = Add(text); !added.ok()) {
      return Error{path + ":" + std::to_string(number) + ": " + added.error()};
    }
  }
  return true;
}

bool IpPrefixSet::Contains(std::string_view ip) const {
  bool v6 = false;
  std::array<uint8_t, 16> bytes{};
  if (!ParseAddress(ip, &v6, &bytes)) return false;
  for (const Prefix& p : prefixes_) {
    if (p.v6 != v6) continue;
    const int whole = p.length / 8;
    bool match = std::equal(bytes.begin(), bytes.begin() + whole, p.bytes.begin());
    if (match && p.length % 8 != 0) {
      const uint8_t mask = static_cast<uint8_t>(0xff << (8 - p.length % 8));
      match = (bytes[whole] & mask) == (p.bytes[whole] & mask);
    }
    if (match) return true;
  }
  return false;
}

}  // namespace vigil
