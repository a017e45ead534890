// One DNS exchange done by hand, for the transports c-ares does not speak (DNS over
// TLS, DNS over HTTPS): the query message we send, and the dnst `queries[]` fields
// (raw_response, rcode, answers, failure) filled from the response message that came
// back. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"
#include "probe/measurement/measurement.h"

namespace vigil {

/// A standard query (recursion desired, one question of class IN) for `name`, which
/// may end with a dot; the error names a label that is empty or too long.
Result<std::string> EncodeDnsQuery(std::string_view name, int qtype, uint16_t id);

/// A random query id from the system's cryptographic random source.
uint16_t RandomDnsId();

/// Fills `q` from `message`: the raw response, the rcode and answers, and the failure
/// (as the rcode and the presence of answers of q.query_type say). A message that
/// does not parse, or answers another id or question, is dns_server_misbehaving
/// (dns_reply_with_wrong_query_id for the id) with `x_parse_error` saying why.
void RecordDnsResponse(DnsQuery& q, std::string_view message, uint16_t expected_id);

}  // namespace vigil
