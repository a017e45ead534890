// WeChat (no OONI test exists): the paths the WeChat app depends on, each judged on
// its own in the style of OONI's messaging tests — TCP connects to the "longlink"
// hosts (long.weixin.qq.com and the international sglong/uslong.weixin.qq.com and
// long.wechat.com) on 8080, 80 and 443; a "shortlink" HTTP POST of a small binary
// body to short.weixin.qq.com; WeChat's own HTTP DNS service; and HTTPS fetches of
// web.wechat.com and mp.weixin.qq.com. Any HTTP response counts as reachable.
// Stateless; Run on the executor's thread.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "probe/experiments/common/endpoint_sweep.h"
#include "probe/experiments/common/step_failure.h"
#include "probe/experiments/experiment.h"

namespace vigil {

inline constexpr const char* kWechatName = "wechat";
inline constexpr const char* kWechatVersion = "0.1.0";
inline constexpr const char* kWechatShortlinkHost = "short.weixin.qq.com";
inline constexpr const char* kWechatHttpDnsUrl =
    "http://dns.weixin.qq.com/cgi-bin/micromsg-bin/newgetdns";

/// The longlink hosts, the domestic one first.
const std::vector<std::string>& WechatLonglinkHosts();
/// The longlink ports, in the order the app tries them.
const std::vector<uint16_t>& WechatLonglinkPorts();
/// The web fronts fetched over HTTPS.
const std::vector<std::string>& WechatWebUrls();

/// A fresh shortlink URL: http://short.weixin.qq.com/mmtls/<8 random hex digits>.
std::string WechatShortlinkUrl();
/// The shortlink body: a 5-byte record header laid out as mmtls's (type 0x16, version
/// F1 04, big-endian length) and that many random bytes. Not a handshake the server
/// can complete: it only has to look like the app's traffic to what sits on the path.
std::string WechatShortlinkBody();

/// How one HTTP exchange ended.
struct WechatFetch {
  std::optional<StepFailure> failure;  // nullopt: a response arrived
  int status_code = 0;                 // of that response
};

/// What a run saw, reduced to what the verdicts need.
struct WechatObservations {
  std::map<std::string, std::map<uint16_t, PortOutcome>> longlink;  // host → port → outcome
  WechatFetch shortlink;
  WechatFetch httpdns;
  std::vector<std::pair<std::string, WechatFetch>> web;  // URL → fetch, WechatWebUrls order
};

/// The test keys, from the observations:
///  wechat_longlink_status   "ok" when any longlink host accepted on any port, else
///      "blocked"; wechat_longlink_failure: null when ok, else the first failure
///      (hosts in alphabetical order, ports in numeric order)
///  wechat_shortlink_status / wechat_httpdns_status  "ok" when a response arrived,
///      whatever its status code; "blocked" with *_failure = the failure otherwise
///  wechat_web_status  "blocked" when either web fetch failed; wechat_web_failure the
///      first failed fetch's failure (URL order), else null
///  x_shortlink_status_code / x_httpdns_status_code  the response's status, or null
///  x_web_status  {host: "ok" | "blocked"} per web front
///  x_endpoint_status / x_endpoint_failures  per longlink host, per port ("no_ipv6":
///      not measured, see test_keys.h)
///  x_partial_blocking  some of WeChat's endpoints worked (a longlink port, the
///      shortlink POST, the HTTP DNS GET, a web fetch) and some failed
///  x_failures  every failed step (see step_failure.h)
Json WechatTestKeys(const WechatObservations& o);

/// "anomaly" for partial blocking (whatever else the keys say: some endpoint works);
/// else "blocked" when a *_status key says blocked; else "ok".
RunVerdict WechatVerdict(const Json& test_keys);

class WechatExperiment : public Experiment {
 public:
  std::string_view name() const override { return kWechatName; }
  std::string_view version() const override { return kWechatVersion; }
  InputPolicy input_policy() const override { return InputPolicy::kNone; }
  asio::awaitable<Result<Measurement>> Run(const ExperimentContext& context,
                                           const Json& input) const override;
  RunSummary Summarize(const Measurement& measurement) const override;
};

}  // namespace vigil
