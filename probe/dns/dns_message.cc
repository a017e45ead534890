#include "probe/dns/dns_message.h"

#include <ares.h>
#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <iterator>

namespace vigil {

namespace {

constexpr size_t kHeaderSize = 12;

uint16_t Read16(const unsigned char* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }
uint32_t Read32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

// Expands the (possibly compressed) name at `pos`; advances `pos` past it.
bool ExpandName(const unsigned char* msg, size_t len, size_t& pos, std::string& out) {
  char* name = nullptr;
  long enclen = 0;
  if (pos >= len) return false;
  if (ares_expand_name(msg + pos, msg, static_cast<int>(len), &name, &enclen) != ARES_SUCCESS) {
    return false;
  }
  out = name;
  ares_free_string(name);
  pos += static_cast<size_t>(enclen);
  return pos <= len;
}

}  // namespace

std::string DnsRcodeName(int rcode) {
  static const char* const kNames[] = {"noerror", "formerr", "servfail", "nxdomain",
                                       "notimp",  "refused", "yxdomain", "yxrrset",
                                       "nxrrset", "notauth", "notzone"};
  if (rcode >= 0 && rcode < static_cast<int>(std::size(kNames))) return kNames[rcode];
  return "rcode" + std::to_string(rcode);
}

std::string DnsTypeName(int qtype) {
  switch (qtype) {
    case 1:
      return "A";
    case 2:
      return "NS";
    case 5:
      return "CNAME";
    case 6:
      return "SOA";
    case 12:
      return "PTR";
    case 15:
      return "MX";
    case 16:
      return "TXT";
    case 28:
      return "AAAA";
    case 33:
      return "SRV";
    case 65:
      return "HTTPS";
    case 255:
      return "ANY";
    default:
      return "TYPE" + std::to_string(qtype);
  }
}

int DnsTypeFromName(std::string_view name) {
  std::string upper(name);
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  for (int t : {1, 2, 5, 6, 12, 15, 16, 28, 33, 65, 255}) {
    if (DnsTypeName(t) == upper) return t;
  }
  return 0;
}

Result<DnsResponse> ParseDnsResponse(std::string_view message) {
  const auto* msg = reinterpret_cast<const unsigned char*>(message.data());
  const size_t len = message.size();
  if (len < kHeaderSize) return Error{"dns response shorter than its header"};
  DnsResponse r;
  r.id = Read16(msg);
  r.flags = Read16(msg + 2);
  r.rcode = r.flags & 0x0f;
  if ((r.flags & 0x8000) == 0) return Error{"dns message is a query, not a response"};
  const uint16_t qdcount = Read16(msg + 4);
  const uint16_t ancount = Read16(msg + 6);
  size_t pos = kHeaderSize;
  for (uint16_t i = 0; i < qdcount; ++i) {
    std::string name;
    if (!ExpandName(msg, len, pos, name) || pos + 4 > len) {
      return Error{"dns question " + std::to_string(i) + " is truncated or malformed"};
    }
    if (i == 0) {
      r.question_name = name;
      r.question_type = Read16(msg + pos);
    }
    pos += 4;
  }
  for (uint16_t i = 0; i < ancount; ++i) {
    std::string owner;
    if (!ExpandName(msg, len, pos, owner) || pos + 10 > len) {
      return Error{"dns answer " + std::to_string(i) + " is truncated or malformed"};
    }
    const uint16_t type = Read16(msg + pos);
    const uint32_t ttl = Read32(msg + pos + 4);
    const uint16_t rdlength = Read16(msg + pos + 8);
    pos += 10;
    if (pos + rdlength > len) {
      return Error{"dns answer " + std::to_string(i) + " rdata runs past the message"};
    }
    DnsAnswer a;
    a.answer_type = DnsTypeName(type);
    a.ttl = ttl;
    char text[INET6_ADDRSTRLEN];
    if ((type == 1 && rdlength != 4) || (type == 28 && rdlength != 16)) {
      return Error{"dns answer " + std::to_string(i) + " has " + std::to_string(rdlength) +
                   " bytes of rdata for type " + DnsTypeName(type)};
    }
    if (type == 1) {
      inet_ntop(AF_INET, msg + pos, text, sizeof text);
      a.ipv4 = text;
    } else if (type == 28) {
      inet_ntop(AF_INET6, msg + pos, text, sizeof text);
      a.ipv6 = text;
    } else if (type == 5) {
      size_t target = pos;
      std::string cname;
      if (!ExpandName(msg, len, target, cname)) {
        return Error{"dns answer " + std::to_string(i) + " has a malformed CNAME"};
      }
      a.hostname = cname;
    } else {
      pos += rdlength;
      continue;  // types the measurement model has no field for
    }
    pos += rdlength;
    r.answers.push_back(std::move(a));
  }
  return r;
}

}  // namespace vigil
