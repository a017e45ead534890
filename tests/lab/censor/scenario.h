// Scenario: what the lab censor does, as loaded from a YAML scenario file — phases
// with start offsets, each an ordered rule list (first matching rule acts).
// Plain data, immutable once loaded; safe to read from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tests/lab/censor/ip_prefix.h"
#include "tests/lab/censor/name_pattern.h"

namespace vigil::lab {

enum class Proto { kAny, kTcp, kUdp };

/// All given conditions must hold; each list inside is an OR.
struct Match {
  Proto proto = Proto::kAny;
  std::vector<IpPrefix> dst_ip;
  std::vector<uint16_t> dst_port;
  std::optional<NamePattern> dns_qname;
  std::optional<NamePattern> sni;
  std::optional<NamePattern> http_host;
  std::optional<NamePattern> http_path;
  /// Each entry is a combination: all its words must have been seen in the flow.
  std::vector<std::vector<std::string>> keywords;
};

/// When a rule acts on a flow it matched: on the matching packet, or later.
enum class ActAt {
  kMatch,     // the packet that matches (a ClientHello, a request, ...)
  kAppData,   // the client's first TLS application data, after its handshake
  kResponse,  // the first segment of the server's reply that carries data
};

const char* ActAtName(ActAt at);

enum class ActionKind {
  kDnsInject,
  kDnsNxdomain,
  kDnsDrop,
  kRstInject,
  kDrop,
  kHttpBlockpage,
  kThrottle,
  kDelay,
  kKeywordDrop,
  kIcmpUnreachable,
};

const char* ActionName(ActionKind kind);

/// An IP ID: fixed, or drawn at random per packet.
struct IpIdSpec {
  bool random = true;
  uint16_t value = 0;
  /// Random IDs are drawn from [lo, hi] (GFW type III uses 0x9916-0x9933).
  uint16_t lo = 0, hi = 0xffff;
};

/// An IP TTL: fixed, random in [lo, hi] per injection, or copied from the trigger.
struct TtlSpec {
  enum Kind { kFixed, kRandom, kCopy } kind = kFixed;
  uint8_t lo = 64, hi = 64;
};

/// One forged copy's fingerprint where it differs from its rule's (the GFW's
/// injectors each have their own); unset fields take the rule's.
struct DnsCopyFingerprint {
  std::optional<TtlSpec> ip_ttl;
  std::optional<IpIdSpec> ip_id;
  std::optional<bool> df;
  std::optional<uint16_t> dns_flags;
  std::optional<uint32_t> answer_ttl;
  std::optional<uint32_t> delay_ms;
};

struct DnsInjectParams {
  std::vector<IpAddress> pool;
  std::vector<IpAddress> pool6;
  bool random = false;
  int copies = 1;
  /// Empty, or one entry per copy (`copies` given as a list).
  std::vector<DnsCopyFingerprint> per_copy;
  TtlSpec ip_ttl;
  IpIdSpec ip_id;
  bool df = false;
  uint16_t dns_flags = 0x8180;
  uint32_t answer_ttl = 60;
  /// How long after the query passed the forgeries leave: with more than the path's
  /// round trip they arrive after the genuine answer.
  uint32_t delay_ms = 0;
};

enum class RstDirection { kBoth, kClient, kServer };

/// The packets one RST injection sends; filled from the type's defaults, or from
/// the scenario for type custom.
struct RstParams {
  std::string type;  // gfw1 | gfw2 | gfw3 | henan | custom
  RstDirection direction = RstDirection::kBoth;
  int count = 1;
  bool ack = false;  // flags RA rather than R
  bool df = false;
  IpIdSpec ip_id;
  TtlSpec ttl;
  std::string payload;
  /// On-path: the trigger is forwarded too (the RST races the server's reply) and
  /// the flow lives on; otherwise the trigger is dropped and the flow killed.
  bool pass_trigger = false;
};

struct BlockpageParams {
  int status = 403;
  std::string body;
  /// A redirect's target (the Location header); empty for none.
  std::string location;
  bool then_rst = true;  // false: FIN
  /// On-path: the request reaches the server too, whose response races the page.
  bool pass_trigger = false;
};

/// Which destination-unreachable error icmp_unreachable answers with.
enum class Unreachable { kNet, kHost, kPort, kAdmin };

const char* UnreachableName(Unreachable code);

struct IcmpParams {
  Unreachable code = Unreachable::kAdmin;
  /// The error's source for IPv4 and IPv6 packets; the server's address when unset.
  std::optional<IpAddress> from4, from6;
};

struct ThrottleParams {
  uint64_t rate_bps = 0;
  uint32_t burst_bytes = 4500;
  uint32_t queue_bytes = 256 * 1024;
};

struct DelayParams {
  uint32_t up_ms = 0;    // client -> server
  uint32_t down_ms = 0;  // server -> client
};

struct Rule {
  std::string id;
  int line = 0;
  Match match;
  ActionKind action = ActionKind::kDrop;
  DnsInjectParams dns;
  RstParams rst;
  BlockpageParams blockpage;
  IcmpParams icmp;
  ThrottleParams throttle;
  DelayParams delay;
  /// Seconds the (client, server, server port) 3-tuple stays blocked after the rule
  /// fired on a TCP flow; 0 for none.
  uint32_t residual_seconds = 0;
  /// false: sni, http_host and http_path match only when the ClientHello or request
  /// head came whole in the flow's first data segment, as for a censor that inspects
  /// packets one at a time.
  bool reassemble = true;
  /// rst_inject and drop only: act on a later packet of the matched flow.
  ActAt at = ActAt::kMatch;
};

struct Phase {
  int64_t start_ms = 0;
  std::vector<Rule> rules;
};

/// How a lab server fails by itself (lab.sh sets it up; the censor only records it).
enum class ServerFailure {
  kHttp503,   // the web server answers every request for the name with 503
  kTcpReset,  // the name's web ports accept connections and reset them
};

const char* ServerFailureName(ServerFailure mode);

struct FailingServer {
  /// A name of endpoints.csv (a host name, or an IP literal of the real lists), lower-cased.
  std::string name;
  ServerFailure mode = ServerFailure::kHttp503;
};

/// What the lab's stand-in platform (tests/lab/platform/) shows at a post's URL.
enum class PostStatus { kAvailable, kDeletedByAuthor, kRemovedForViolation, kAccountBlocked };

/// "available", "deleted_by_author", "removed_for_violation", "account_blocked".
const char* PostStatusName(PostStatus status);

/// One public-account article of the platform, at https://mp.weixin.qq.com/s/<id>.
struct PlatformPost {
  std::string id;  // 1..64 of letters, digits, '-' and '_'
  std::string account;
  std::string title;
  std::string body;
  int line = 0;
};

/// From `start_ms` after the platform's start on, each listed post shows its new status.
struct PlatformPhase {
  int64_t start_ms = 0;
  std::vector<std::pair<std::string, PostStatus>> changes;  // post id → status, file order
  int line = 0;
};

/// The scenario's `platform` section: the posts (all available at first) and the phases
/// that remove them. No posts: the scenario has no platform.
struct Platform {
  std::vector<PlatformPost> posts;
  std::vector<PlatformPhase> phases;
};

/// What a scenario asks of the lab besides the censor's rules; lab.sh applies it when
/// it starts or switches to the scenario.
struct LabSettings {
  std::vector<FailingServer> failing;
  /// Keep the ISP resolvers' caches across the switch (default: flushed).
  bool keep_resolver_cache = false;
  /// The stand-in platform lab.sh runs beside the censor, when it has posts.
  Platform platform;
};

struct Scenario {
  std::string name;
  std::string description;
  std::vector<Phase> phases;
  LabSettings lab;
};

/// The packet parameters of a named RST type (gfw1, gfw2, gfw3, henan); false for an
/// unknown name.
bool RstTypeDefaults(const std::string& type, RstParams* out);

}  // namespace vigil::lab
