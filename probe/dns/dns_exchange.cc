#include "probe/dns/dns_exchange.h"

#include <strings.h>
#include <sys/random.h>

#include <random>

#include "base/base64.h"
#include "probe/dns/dns_message.h"
#include "probe/net/failure.h"
#include "probe/net/trace.h"

namespace vigil {

namespace {

void Put16(std::string& out, uint16_t v) {
  out += static_cast<char>(v >> 8);
  out += static_cast<char>(v & 0xff);
}

bool SameName(std::string_view a, std::string_view b) {
  if (!a.empty() && a.back() == '.') a.remove_suffix(1);
  if (!b.empty() && b.back() == '.') b.remove_suffix(1);
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

Result<std::string> EncodeDnsQuery(std::string_view name, int qtype, uint16_t id) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  if (name.empty()) return Error{"empty name"};
  if (name.size() > 253) return Error{"name longer than 253 bytes"};
  std::string out;
  Put16(out, id);
  Put16(out, 0x0100);  // RD
  Put16(out, 1);       // QDCOUNT
  Put16(out, 0);
  Put16(out, 0);
  Put16(out, 0);
  size_t start = 0;
  while (start <= name.size()) {
    size_t dot = name.find('.', start);
    if (dot == std::string_view::npos) dot = name.size();
    const size_t length = dot - start;
    if (length == 0 || length > 63) {
      return Error{"label " + std::to_string(start) + " of '" + std::string(name) +
                   "' is empty or longer than 63 bytes"};
    }
    out += static_cast<char>(length);
    out.append(name.substr(start, length));
    start = dot + 1;
  }
  out += '\0';
  Put16(out, static_cast<uint16_t>(qtype));
  Put16(out, 1);  // IN
  return out;
}

uint16_t RandomDnsId() {
  uint16_t id = 0;
  if (getrandom(&id, sizeof id, 0) != static_cast<ssize_t>(sizeof id)) {
    std::random_device device;
    id = static_cast<uint16_t>(device());
  }
  return id;
}

void RecordDnsResponse(DnsQuery& q, std::string_view message, uint16_t expected_id) {
  q.raw_response = Base64Encode(message);
  auto parsed = ParseDnsResponse(message);
  if (!parsed.ok()) {
    q.failure = "dns_server_misbehaving";
    q.extra["x_parse_error"] = parsed.error();
    return;
  }
  q.rcode = parsed->rcode;
  if (parsed->id != expected_id) {
    q.failure = "dns_reply_with_wrong_query_id";
    q.extra["x_parse_error"] =
        "reply id " + std::to_string(parsed->id) + ", query id " + std::to_string(expected_id);
    return;
  }
  if (!SameName(parsed->question_name, q.hostname) ||
      DnsTypeName(parsed->question_type) != q.query_type) {
    q.failure = "dns_server_misbehaving";
    q.extra["x_parse_error"] = "the reply answers another question";
    return;
  }
  bool has_answers = false;
  for (const auto& a : parsed->answers) {
    if (a.answer_type == q.query_type) has_answers = true;
  }
  q.answers = std::move(parsed->answers);
  q.failure = AsFailure(FailureFromDnsRcode(parsed->rcode, has_answers));
}

}  // namespace vigil
