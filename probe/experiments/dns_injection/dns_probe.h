// SendDnsProbe: one query from a socket of its own (UDP, connected to the destination)
// and every datagram that comes back, with its IP TTL (IP_RECVTTL / IPV6_RECVHOPLIMIT),
// read until a listening window after the first one closes — what a stub resolver,
// which stops at the first reply, cannot see. No judgement here
// (dns_injection_judge.h). Use from the executor's thread.
#pragma once

#include <asio/awaitable.hpp>
#include <chrono>
#include <string>

#include "probe/experiments/dns_injection/dns_injection_judge.h"
#include "probe/net/trace.h"

namespace vigil {

struct DnsProbeTarget {
  DnsProbeKind kind = DnsProbeKind::kResolver;
  std::string ip;  // an IPv4 or IPv6 literal
  uint16_t port = 53;
  std::string hostname;
  int qtype = 1;
};

struct DnsProbeTiming {
  Trace::Clock::time_point zero;      // the measurement's start: datagrams' t count from it
  std::chrono::milliseconds timeout;  // how long to wait for a first datagram
  std::chrono::milliseconds listen;   // how long to go on reading after it
};

/// Sends the query (a random id; once more, same id, when nothing has come back half way
/// through the timeout) and reads until `listen` after the first datagram, or `timeout`
/// when none comes; ICMP port unreachable (ECONNREFUSED) shortens the wait to `listen`
/// from its arrival and, with nothing else back, is the failure connection_refused.
asio::awaitable<DnsProbeObservation> SendDnsProbe(DnsProbeTarget target, DnsProbeTiming timing);

}  // namespace vigil
