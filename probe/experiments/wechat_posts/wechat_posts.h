// WeChat public-account articles (no OONI test exists): fetches one article URL
// (https://mp.weixin.qq.com/s/...) and says what became of the post — available (the
// article, with its title and a hash of its text), deleted by its author, removed for
// violating regulations, its account blocked (the platform's notices, told apart by
// testlists/fingerprints/wechat_posts.csv), unreachable (a network failure, in OONI's
// words), or unknown (a response that is none of these). A removal is the platform's
// doing, not the network's: it is never reported as network blocking. Run without
// input, `vigil run` measures every URL of testlists/wechat_posts/ (DefaultInputs).
// Stateless; Run on the executor's thread.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "probe/experiments/common/step_failure.h"
#include "probe/experiments/experiment.h"
#include "probe/experiments/wechat_posts/post_page.h"

namespace vigil {

inline constexpr const char* kWechatPostsName = "wechat_posts";
inline constexpr const char* kWechatPostsVersion = "0.1.0";
/// The most of a page kept and read: real article pages carry their scripts inline and
/// run to a few megabytes.
inline constexpr size_t kPostBodyCap = size_t{8} << 20;

/// What a run saw, reduced to what the keys need.
struct PostObservation {
  std::string url;
  /// nullopt: a response arrived (whatever its status code).
  std::optional<StepFailure> failure;
  int status_code = 0;
  /// The response's classification; meaningless when `failure` is set.
  PostClassification page;
};

/// The test keys, from the observation:
///  post_url               the URL fetched (the measurement's input)
///  post_status            PostStatusName: available, deleted_by_author,
///      removed_for_violation, account_blocked, unreachable, unknown
///  post_failure           unreachable: the failure (OONI's string); else null
///  post_failed_operation  unreachable: the step that failed (resolve, connect,
///      tls_handshake, http_round_trip); else null
///  x_status_code          the final response's status code; null without one
///  x_title                available: the article's title, or null when it has none
///  x_content_sha256       available: SHA-256 of the article's text; else null
///  x_notice               a removal: the notice text found (the fingerprint's pattern)
///  x_notice_provenance    a removal: "sample" or "lab", the fingerprint's provenance
///  x_unknown_reason       unknown: what was seen instead ("HTTP 404", ...); else null
///  x_failures             the failed step, if any (see step_failure.h)
Json WechatPostsTestKeys(const PostObservation& o);

/// The verdict line of a measurement's keys, for `service` (the URL). A removal is ok
/// (the network delivered the platform's answer; the evidence says which removal), as
/// is available; unknown is anomaly; unreachable is blocked at the failed step's layer,
/// or down when the control helper failed it too (x_control).
RunSummary WechatPostsSummary(const std::string& service, const Json& test_keys);

class WechatPostsExperiment : public Experiment {
 public:
  std::string_view name() const override { return kWechatPostsName; }
  std::string_view version() const override { return kWechatPostsVersion; }
  InputPolicy input_policy() const override { return InputPolicy::kRequired; }
  Result<std::vector<std::string>> DefaultInputs(const std::string& data_dir) const override;
  asio::awaitable<Result<Measurement>> Run(const ExperimentContext& context,
                                           const Json& input) const override;
  RunSummary Summarize(const Measurement& measurement) const override;
};

}  // namespace vigil
