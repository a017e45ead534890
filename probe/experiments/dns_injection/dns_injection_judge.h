// The dns_injection experiment's judgement, as pure functions over what came back on a
// probe's socket (one query to the sink or to a resolver, and every datagram after it):
// each reply read and marked accepted or not, the probe's flags (docs/evidence.md),
// the verdict on a name from its probes, and their JSON. Kept apart from the sockets so
// that tests feed it replies. Be conservative: a network that is merely down or slow
// yields "inconclusive", never "injected". Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "probe/dns/dns_message.h"
#include "probe/experiments/dns_injection/forged_address_pool.h"
#include "probe/experiments/run_verdict.h"
#include "probe/measurement/measurement.h"

namespace vigil {

/// One datagram that came back on a probe's socket, as the socket saw it.
struct DnsDatagram {
  double t = 0;        // seconds since the measurement's start
  std::string source;  // "ip:port"
  std::optional<int> ip_ttl;
  std::string payload;  // the DNS message
};

enum class DnsProbeKind { kSink, kResolver };

/// One probe: the query it sent and what came back.
struct DnsProbeObservation {
  DnsProbeKind kind = DnsProbeKind::kResolver;
  std::string address;  // "ip:port" the query went to
  std::string hostname;
  int qtype = 1;  // 1 = A, 28 = AAAA
  uint16_t id = 0;
  int queries_sent = 0;  // the query and its retransmissions
  std::vector<DnsDatagram> datagrams;
  /// Why nothing answered, or why the query could not go: generic_timeout_error,
  /// connection_refused (ICMP port unreachable: nothing listens there),
  /// host_unreachable, ...; "" when a datagram came back.
  std::string failure;
  /// Not measured, and why (a resolver this experiment cannot ask over UDP); the
  /// probe is then recorded with this as its failure and judged no further.
  std::string skipped;
};

/// One datagram, read.
struct DnsReply {
  DnsDatagram datagram;
  std::optional<DnsResponse> message;  // nullopt: it did not parse
  std::string parse_error;
  bool answers_query = false;  // our id and our question (name, type)
  bool accepted = false;       // the first datagram that answers the query
};

struct DnsProbeJudgement {
  std::vector<DnsReply> replies;
  /// Distinct datagrams that answer the query (a byte-identical copy from the same
  /// source, which the network may duplicate, counts once).
  int answering = 0;
  /// In the order of docs/evidence.md: multiple_answers, answer_from_non_resolver,
  /// teredo_answer, known_forged_ip.
  std::vector<std::string> flags;
  /// The answers shown forged: every address the sink answered with, and every answer
  /// in the forged-address pool; in order of arrival, without repeats.
  std::vector<std::string> forged_addresses;
  std::string reason;  // what proves injection, one sentence; "" when nothing does
};

/// Reads the probe's datagrams and flags them:
///  multiple_answers         more distinct answering replies than queries sent;
///  answer_from_non_resolver an answering reply from the sink, or from an address the
///                           query did not go to;
///  teredo_answer            an AAAA answer in 2001::/32;
///  known_forged_ip          an A or AAAA answer in `pool`.
/// Datagrams that do not parse, or answer another id or question, are recorded and
/// count for nothing.
DnsProbeJudgement JudgeDnsProbe(const DnsProbeObservation& probe, const ForgedAddressPool& pool);

/// True when `flags` hold proof of injection: multiple_answers,
/// answer_from_non_resolver or known_forged_ip (teredo_answer alone is not).
bool ProvesInjection(const std::vector<std::string>& flags);

enum class DnsNameVerdict { kInjected, kClean, kInconclusive };

/// "injected", "clean", "inconclusive".
const char* DnsNameVerdictName(DnsNameVerdict verdict);

struct DnsNameJudgement {
  DnsNameVerdict verdict = DnsNameVerdict::kInconclusive;
  std::vector<std::string> reasons;
};

/// The verdict on one name from its probes (`judgements[i]` judges `probes[i]`):
/// injected when some probe proves it (each such probe's reason); clean when there is
/// a sink probe that stayed silent (a timeout or ICMP port unreachable), at least one
/// resolver was measured, and every measured resolver answered at least once and no
/// more than once per query sent, every datagram answering, without a flag;
/// inconclusive otherwise, with what stood in the way (no sink, a resolver timed out,
/// the sink unreachable by routing, teredo_answer alone, a malformed reply, ...).
DnsNameJudgement JudgeDnsName(const std::vector<DnsProbeObservation>& probes,
                              const std::vector<DnsProbeJudgement>& judgements);

/// A probe as names[].probes[] records it (docs/evidence.md): kind, address,
/// queries_sent, replies (t, source, ip_ttl, ip_id and df null, dns_flags, rcode,
/// answers, accepted; a datagram that does not parse has rcode null, no answers and
/// x_parse_error), flags, failure.
Json DnsProbeJson(const DnsProbeObservation& probe, const DnsProbeJudgement& judgement);

/// The x_injection entry of a probe that proves injection (layer dns, technique
/// dns_injection, injector "").
Json DnsInjectionEntry(const DnsProbeObservation& probe, const DnsProbeJudgement& judgement,
                       int transaction_id);

/// OONI's lower-case rcode names: noerror, formerr, servfail, nxdomain, notimp,
/// refused, ...; "rcode<n>" for the rest.

/// The run's word for a measurement's test keys: blocked when some name was injected,
/// ok when every name is clean, anomaly when a name is inconclusive with a flag seen
/// (teredo_answer) or a datagram that did not parse, error otherwise
/// (timeouts, no sink, nothing measured).
RunVerdict DnsInjectionVerdict(const Json& test_keys);

}  // namespace vigil
