// Fuzz target for WhoamiAnswer, which reads every UDP datagram sent to the helper's
// whoami name server. Besides crashes and sanitizer reports, it checks that what the
// server sends back is a well-formed response to the query (its id, its question, at
// most one answer and that answer the asker's address) and that a name under the
// zone asked with WhoamiQuery is answered.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "probe/dns/dns_message.h"
#include "tests/fuzz/fuzz_check.h"
#include "vantage/helper/whoami_dns.h"

namespace vigil {
namespace {

constexpr std::string_view kZone = "whoami.example.org";

void CheckAnswer(std::string_view query, const std::string& answer, std::string_view source) {
  if (answer.empty()) return;
  Result<DnsResponse> reply = ParseDnsResponse(answer);
  FUZZ_CHECK(reply.ok());
  FUZZ_CHECK(answer.substr(0, 2) == query.substr(0, 2));
  FUZZ_CHECK(reply->rcode == 0 || reply->rcode == 5);
  FUZZ_CHECK(reply->answers.size() <= 1);
  for (const DnsAnswer& a : reply->answers) {
    FUZZ_CHECK(reply->rcode == 0);
    FUZZ_CHECK((a.ipv4 && *a.ipv4 == source) || (a.ipv6 && *a.ipv6 == source));
    FUZZ_CHECK(a.ttl == 0);
  }
}

}  // namespace
}  // namespace vigil

// Byte 0 chooses the asker's address (bit 0: IPv6, bit 1: one the server cannot
// read); the rest is the datagram.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vigil;
  if (size < 1) return 0;
  std::string_view source = (data[0] & 1) ? "2001:db8::53" : "192.0.2.53";
  if (data[0] & 2) source = "not-an-address";
  const std::string_view query(reinterpret_cast<const char*>(data + 1), size - 1);
  const std::string answer = WhoamiAnswer(query, kZone, source);
  CheckAnswer(query, answer, source);

  // The question of an answered query, asked again the way a probe asks it, is
  // answered with the address when it is under the zone.
  if (answer.empty()) return 0;
  Result<DnsResponse> reply = ParseDnsResponse(answer);
  const std::string name = reply->question_name;
  if (name.find('\\') != std::string::npos || name.size() > 200) return 0;
  const std::string probe_query = WhoamiQuery(0x1234, name + "." + std::string(kZone));
  const std::string probe_answer = WhoamiAnswer(probe_query, kZone, "192.0.2.53");
  CheckAnswer(probe_query, probe_answer, "192.0.2.53");
  Result<DnsResponse> probe_reply = ParseDnsResponse(probe_answer);
  FUZZ_CHECK(probe_reply.ok() && probe_reply->rcode == 0 && probe_reply->answers.size() == 1);
  return 0;
}
