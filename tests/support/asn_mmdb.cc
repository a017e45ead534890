#include "tests/support/asn_mmdb.h"

#include <arpa/inet.h>

#include <array>
#include <optional>

namespace vigil::test_support {
namespace {

// MaxMind DB data types (the format's section "Data Section Separator" and after).
constexpr int kString = 2, kUint16 = 5, kUint32 = 6, kMap = 7, kUint64 = 9, kArray = 11;

void Control(std::string& out, int type, size_t size) {
  uint8_t first = static_cast<uint8_t>((type <= 7 ? type : 0) << 5);
  std::string extra;
  if (size < 29) {
    first |= static_cast<uint8_t>(size);
  } else if (size < 29 + 256) {
    first |= 29;
    extra.push_back(static_cast<char>(size - 29));
  } else {
    first |= 30;
    extra.push_back(static_cast<char>((size - 285) >> 8));
    extra.push_back(static_cast<char>((size - 285) & 0xff));
  }
  out.push_back(static_cast<char>(first));
  if (type > 7) out.push_back(static_cast<char>(type - 7));
  out += extra;
}

void String(std::string& out, const std::string& s) {
  Control(out, kString, s.size());
  out += s;
}

void Uint(std::string& out, int type, uint64_t v) {
  std::string bytes;
  for (; v > 0; v >>= 8) bytes.insert(bytes.begin(), static_cast<char>(v & 0xff));
  Control(out, type, bytes.size());
  out += bytes;
}

// The network's 128 bits (IPv4 under ::/96) and prefix length, or nullopt.
std::optional<std::pair<std::array<uint8_t, 16>, int>> Bits(const std::string& cidr) {
  const size_t slash = cidr.find('/');
  if (slash == std::string::npos) return std::nullopt;
  const std::string ip = cidr.substr(0, slash);
  int length = 0;
  try {
    length = std::stoi(cidr.substr(slash + 1));
  } catch (...) {
    return std::nullopt;
  }
  std::array<uint8_t, 16> bytes{};
  if (inet_pton(AF_INET, ip.c_str(), bytes.data() + 12) == 1) {
    if (length < 1 || length > 32) return std::nullopt;
    return std::make_pair(bytes, length + 96);
  }
  if (inet_pton(AF_INET6, ip.c_str(), bytes.data()) == 1 && length >= 1 && length <= 128) {
    return std::make_pair(bytes, length);
  }
  return std::nullopt;
}

struct Record {
  enum Kind { kEmpty, kNode, kData } kind = kEmpty;
  uint32_t value = 0;  // node index or data-section offset
};

}  // namespace

std::string AsnMmdb(const std::vector<AsnMmdbNetwork>& networks) {
  std::string data;
  std::vector<std::array<Record, 2>> nodes(1);
  for (const AsnMmdbNetwork& n : networks) {
    auto bits = Bits(n.cidr);
    if (!bits) return "";
    const uint32_t offset = static_cast<uint32_t>(data.size());
    Control(data, kMap, 2);
    String(data, "autonomous_system_number");
    Uint(data, kUint32, n.asn);
    String(data, "autonomous_system_organization");
    String(data, n.organization);

    size_t node = 0;
    for (int i = 0; i < bits->second; ++i) {
      const int bit = (bits->first[i / 8] >> (7 - i % 8)) & 1;
      Record& r = nodes[node][bit];
      if (i == bits->second - 1) {
        if (r.kind != Record::kEmpty) return "";
        r = {Record::kData, offset};
        break;
      }
      if (r.kind == Record::kData) return "";
      if (r.kind == Record::kEmpty) {
        r = {Record::kNode, static_cast<uint32_t>(nodes.size())};
        nodes.emplace_back();
      }
      node = nodes[node][bit].value;
    }
  }

  const uint32_t count = static_cast<uint32_t>(nodes.size());
  std::string out;
  for (const auto& node : nodes) {
    for (const Record& r : node) {
      uint32_t v = count;
      if (r.kind == Record::kNode) v = r.value;
      if (r.kind == Record::kData) v = count + 16 + r.value;
      out.push_back(static_cast<char>((v >> 16) & 0xff));
      out.push_back(static_cast<char>((v >> 8) & 0xff));
      out.push_back(static_cast<char>(v & 0xff));
    }
  }
  out.append(16, '\0');
  out += data;
  out += "\xAB\xCD\xEFMaxMind.com";
  Control(out, kMap, 9);
  String(out, "binary_format_major_version");
  Uint(out, kUint16, 2);
  String(out, "binary_format_minor_version");
  Uint(out, kUint16, 0);
  String(out, "build_epoch");
  Uint(out, kUint64, 1700000000);
  String(out, "database_type");
  String(out, "GeoLite2-ASN");
  String(out, "description");
  Control(out, kMap, 1);
  String(out, "en");
  String(out, "vigil test database");
  String(out, "ip_version");
  Uint(out, kUint16, 6);
  String(out, "languages");
  Control(out, kArray, 1);
  String(out, "en");
  String(out, "node_count");
  Uint(out, kUint32, count);
  String(out, "record_size");
  Uint(out, kUint16, 24);
  return out;
}

}  // namespace vigil::test_support
