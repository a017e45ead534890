// Fuzz target for the lab censor's ParseDnsQuery and BuildDnsResponse: every DNS
// query crossing the lab's wire is read, and the answers it forges are built from what
// was read. Besides crashes and sanitizer reports, it checks that a forged answer is a
// response the probe's own DNS reader accepts, answering the same question with the
// address the scenario asked for.
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "probe/dns/dns_message.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/lab/censor/dns_wire.h"

// The input is a UDP payload sent to port 53.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vigil::lab;
  std::optional<DnsQuestion> q = ParseDnsQuery(std::span<const uint8_t>(data, size));
  if (!q) return 0;
  FUZZ_CHECK(q->qname.size() <= 255 && 12 + q->raw_question.size() <= size);
  FUZZ_CHECK(q->raw_question.size() >= 5);

  const auto answer = IpAddress::Parse(q->qtype == kDnsTypeAaaa ? "2001:db8::1" : "192.0.2.1");
  FUZZ_CHECK(answer.has_value());
  const std::vector<uint8_t> forged = BuildDnsResponse(*q, 0x8180, answer, 300);
  const std::string_view wire(reinterpret_cast<const char*>(forged.data()), forged.size());
  vigil::Result<vigil::DnsResponse> reply = vigil::ParseDnsResponse(wire);
  // Labels the probe cannot read back (a dot or a byte c-ares escapes inside one) are
  // the one thing the reader may refuse.
  bool plain = true;
  for (unsigned char c : q->qname) {
    if (!(std::isalnum(c) || c == '-' || c == '_' || c == '.')) plain = false;
  }
  if (!plain) return 0;
  FUZZ_CHECK(reply.ok());
  FUZZ_CHECK(reply->id == q->id && reply->rcode == 0 && reply->question_type == q->qtype);
  FUZZ_CHECK(reply->answers.size() == 1);
  const vigil::DnsAnswer& a = reply->answers.front();
  FUZZ_CHECK(a.ttl == 300);
  FUZZ_CHECK((a.ipv4 && *a.ipv4 == answer->ToString()) ||
             (a.ipv6 && *a.ipv6 == answer->ToString()));

  const std::vector<uint8_t> refused = BuildDnsResponse(*q, 0x8185, std::nullopt, 0);
  vigil::Result<vigil::DnsResponse> no_answer = vigil::ParseDnsResponse(
      std::string_view(reinterpret_cast<const char*>(refused.data()), refused.size()));
  FUZZ_CHECK(no_answer.ok() && no_answer->rcode == 5 && no_answer->answers.empty());
  return 0;
}
