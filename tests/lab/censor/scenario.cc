#include "tests/lab/censor/scenario.h"

namespace vigil::lab {

const char* ActionName(ActionKind kind) {
  switch (kind) {
    case ActionKind::kDnsInject:
      return "dns_inject";
    case ActionKind::kDnsNxdomain:
      return "dns_nxdomain";
    case ActionKind::kDnsDrop:
      return "dns_drop";
    case ActionKind::kRstInject:
      return "rst_inject";
    case ActionKind::kDrop:
      return "drop";
    case ActionKind::kHttpBlockpage:
      return "http_blockpage";
    case ActionKind::kThrottle:
      return "throttle";
    case ActionKind::kDelay:
      return "delay";
    case ActionKind::kKeywordDrop:
      return "keyword_drop";
    case ActionKind::kIcmpUnreachable:
      return "icmp_unreachable";
  }
  return "?";
}

const char* ActAtName(ActAt at) {
  switch (at) {
    case ActAt::kMatch:
      return "match";
    case ActAt::kAppData:
      return "app_data";
    case ActAt::kResponse:
      return "response";
  }
  return "?";
}

const char* UnreachableName(Unreachable code) {
  switch (code) {
    case Unreachable::kNet:
      return "net";
    case Unreachable::kHost:
      return "host";
    case Unreachable::kPort:
      return "port";
    case Unreachable::kAdmin:
      return "admin";
  }
  return "?";
}

const char* PostStatusName(PostStatus status) {
  switch (status) {
    case PostStatus::kAvailable:
      return "available";
    case PostStatus::kDeletedByAuthor:
      return "deleted_by_author";
    case PostStatus::kRemovedForViolation:
      return "removed_for_violation";
    case PostStatus::kAccountBlocked:
      return "account_blocked";
  }
  return "?";
}

const char* ServerFailureName(ServerFailure mode) {
  switch (mode) {
    case ServerFailure::kHttp503:
      return "http_503";
    case ServerFailure::kTcpReset:
      return "tcp_reset";
  }
  return "?";
}

// Fingerprints from "A Wall Behind A Wall" (S&P 2025), as summarised in
// shared/notes/censorship-techniques.md. Where the paper gives no value (type II/III
// TTL, Henan TTL) a plausible constant is used so the types stay distinguishable.
bool RstTypeDefaults(const std::string& type, RstParams* out) {
  RstParams p;
  p.type = type;
  if (type == "gfw1") {
    p.count = 1;
    p.ack = false;
    p.df = false;
    p.ip_id = {.random = false, .value = 0};
    p.ttl = {TtlSpec::kRandom, 55, 118};
  } else if (type == "gfw2") {
    p.count = 3;
    p.ack = true;
    p.df = true;
    p.ip_id = {.random = true, .value = 0, .lo = 1, .hi = 0xffff};
    p.ttl = {TtlSpec::kRandom, 40, 70};
  } else if (type == "gfw3") {
    p.count = 1;
    p.ack = true;
    p.df = false;
    p.ip_id = {.random = true, .value = 0, .lo = 0x9916, .hi = 0x9933};
    p.ttl = {TtlSpec::kFixed, 248, 248};
  } else if (type == "henan") {
    p.count = 1;
    p.ack = true;
    p.df = false;
    p.ip_id = {.random = false, .value = 1};
    p.ttl = {TtlSpec::kFixed, 64, 64};
    p.direction = RstDirection::kClient;
    p.payload = std::string("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x00", 10);
  } else {
    return false;
  }
  *out = p;
  return true;
}

}  // namespace vigil::lab
