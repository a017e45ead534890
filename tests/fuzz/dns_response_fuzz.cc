// Fuzz target for ParseDnsResponse and RecordDnsResponse: what a resolver (over UDP
// through c-ares' bytes, or a DoT/DoH server's message body) sends back. Besides
// crashes and sanitizer reports, it checks that an accepted answer holds what its
// type promises, that the recorded raw_response is the message byte for byte, and that
// a question we encode reads back as the same question.
#include <arpa/inet.h>
#include <strings.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/base64.h"
#include "probe/dns/dns_exchange.h"
#include "probe/dns/dns_message.h"
#include "tests/fuzz/fuzz_check.h"

namespace vigil {
namespace {

bool OneLine(const std::string& s) { return !s.empty() && s.find('\n') == std::string::npos; }

bool SameName(std::string_view a, std::string_view b) {
  if (!a.empty() && a.back() == '.') a.remove_suffix(1);
  if (!b.empty() && b.back() == '.') b.remove_suffix(1);
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

// Names EncodeDnsQuery can write as they read: plain labels, no escapes.
bool PlainName(std::string_view name) {
  if (name.empty() || name.size() > 253 || name.front() == '.') return false;
  size_t label = 0;
  for (char c : name) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
    } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '_') {
      if (++label > 63) return false;
    } else {
      return false;
    }
  }
  return true;
}

void CheckAnswers(const DnsResponse& r, std::string_view message) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(message.data());
  FUZZ_CHECK(r.rcode == (r.flags & 0x0f));
  FUZZ_CHECK((r.flags & 0x8000) != 0);
  FUZZ_CHECK(r.id == ((bytes[0] << 8) | bytes[1]));
  FUZZ_CHECK(r.answers.size() <= static_cast<size_t>((bytes[6] << 8) | bytes[7]));
  for (const DnsAnswer& a : r.answers) {
    unsigned char address[16];
    if (a.answer_type == "A") {
      FUZZ_CHECK(a.ipv4 && !a.ipv6 && !a.hostname);
      FUZZ_CHECK(inet_pton(AF_INET, a.ipv4->c_str(), address) == 1);
    } else if (a.answer_type == "AAAA") {
      FUZZ_CHECK(a.ipv6 && !a.ipv4 && !a.hostname);
      FUZZ_CHECK(inet_pton(AF_INET6, a.ipv6->c_str(), address) == 1);
    } else {
      FUZZ_CHECK(a.answer_type == "CNAME");
      FUZZ_CHECK(a.hostname && !a.ipv4 && !a.ipv6);
    }
    FUZZ_CHECK(a.ttl && *a.ttl >= 0 && *a.ttl <= 0xffffffffLL);
  }
}

}  // namespace
}  // namespace vigil

// The input is one DNS message, as a DoH body or a DoT frame's payload carries it.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vigil;
  const std::string_view message(reinterpret_cast<const char*>(data), size);
  Result<DnsResponse> parsed = ParseDnsResponse(message);
  if (!parsed.ok()) {
    FUZZ_CHECK(OneLine(parsed.error()));
  } else {
    CheckAnswers(*parsed, message);
  }

  // Recorded as a DoT exchange would (the query asked for what the message answers,
  // so the comparison of questions passes and the answers are kept).
  DnsQuery q;
  q.hostname = parsed.ok() ? parsed->question_name : "example.org";
  q.query_type = parsed.ok() ? DnsTypeName(parsed->question_type) : "A";
  const uint16_t id = parsed.ok() ? parsed->id : 0;
  RecordDnsResponse(q, message, id);
  FUZZ_CHECK(q.raw_response && Base64Decode(*q.raw_response) == std::string(message));
  if (!parsed.ok()) {
    FUZZ_CHECK(q.failure == "dns_server_misbehaving" && q.answers.empty());
  } else {
    FUZZ_CHECK(q.rcode == parsed->rcode);
    FUZZ_CHECK(q.answers.size() == parsed->answers.size());
    if (!q.failure) FUZZ_CHECK(parsed->rcode == 0 && !q.answers.empty());
  }
  // A DoH exchange (id 0) with an answer of another id is told apart from a bad message.
  if (parsed.ok() && parsed->id != 0) {
    DnsQuery doh = q;
    doh.failure.reset();
    RecordDnsResponse(doh, message, 0);
    FUZZ_CHECK(doh.failure == "dns_reply_with_wrong_query_id");
  }

  // The question, encoded as our query and read back as a response, is the same.
  if (parsed.ok() && PlainName(parsed->question_name)) {
    Result<std::string> query =
        EncodeDnsQuery(parsed->question_name, parsed->question_type, parsed->id);
    FUZZ_CHECK(query.ok());
    std::string reply = *query;
    reply[2] = static_cast<char>(reply[2] | 0x80);  // QR: a response
    Result<DnsResponse> again = ParseDnsResponse(reply);
    FUZZ_CHECK(again.ok());
    FUZZ_CHECK(SameName(again->question_name, parsed->question_name));
    FUZZ_CHECK(again->question_type == parsed->question_type && again->id == parsed->id);
    FUZZ_CHECK(again->answers.empty());
  }
  return 0;
}
