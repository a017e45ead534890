#include "probe/experiments/wechat_posts/wechat_posts.h"

#include <asio/this_coro.hpp>
#include <filesystem>
#include <memory>

#include "probe/dns/dns_observer.h"
#include "probe/experiments/common/fetch.h"
#include "probe/experiments/common/messaging_control.h"
#include "probe/experiments/common/test_keys.h"
#include "probe/experiments/wechat_posts/notice_fingerprints.h"
#include "probe/http/url.h"
#include "probe/measurement/envelope.h"
#include "probe/net/trace.h"
#include "probe/testlists/post_list.h"

namespace vigil {

namespace {

Json OrNull(const std::optional<std::string>& s) { return s ? Json(*s) : Json(); }
Json OrNull(const std::string& s) { return s.empty() ? Json() : Json(s); }

std::string StringKey(const Json& k, const char* key) {
  auto it = k.find(key);
  return it != k.end() && it->is_string() ? it->get<std::string>() : "";
}

}  // namespace

Json WechatPostsTestKeys(const PostObservation& o) {
  const PostClassification& c = o.page;
  const PostStatus status = o.failure ? PostStatus::kUnreachable : c.status;
  Json keys = Json::object();
  keys["post_url"] = o.url;
  keys["post_status"] = std::string(PostStatusName(status));
  keys["post_failure"] = o.failure ? Json(o.failure->failure) : Json();
  keys["post_failed_operation"] = o.failure ? Json(o.failure->operation) : Json();
  keys["x_status_code"] = o.failure || o.status_code == 0 ? Json() : Json(o.status_code);
  const bool available = status == PostStatus::kAvailable;
  keys["x_title"] = available ? OrNull(c.title) : Json();
  keys["x_content_sha256"] = available ? OrNull(c.content_sha256) : Json();
  const bool removal = IsRemoval(status) && c.notice;
  keys["x_notice"] = removal ? Json(c.notice->pattern) : Json();
  keys["x_notice_provenance"] = removal ? Json(c.notice->provenance) : Json();
  keys["x_unknown_reason"] = status == PostStatus::kUnknown ? OrNull(c.why) : Json();
  Json failures = Json::array();
  if (o.failure) failures.push_back(ToJson(*o.failure));
  keys["x_failures"] = failures;
  return keys;
}

RunSummary WechatPostsSummary(const std::string& service, const Json& k) {
  const std::optional<PostStatus> status = ParsePostStatus(StringKey(k, "post_status"));
  if (!status) {
    RunSummary s;
    s.service = service;
    s.evidence = "no post_status in the measurement";
    return s;
  }
  if (*status == PostStatus::kUnreachable) {
    RunSummary s = SummarizeFailures(
        service, ControlFailedEveryStep(k) ? RunVerdict::kDown : RunVerdict::kBlocked,
        StepFailuresFromJson(k.value("x_failures", Json::array())));
    s.evidence = "unreachable: " + s.evidence;
    return s;
  }
  RunSummary s;
  s.service = service;
  const std::string name(PostStatusName(*status));
  if (*status == PostStatus::kAvailable) {
    // The network delivered the article.
    s.verdict = RunVerdict::kOk;
    const std::string title = StringKey(k, "x_title");
    s.evidence = title.empty() ? name : name + ": \"" + title + "\"";
  } else if (IsRemoval(*status)) {
    // The network delivered the platform's notice: the removal is the platform's doing,
    // which no network verdict may claim. The evidence says what the platform did.
    s.verdict = RunVerdict::kOk;
    s.evidence = name + " (the platform's notice \"" + StringKey(k, "x_notice") +
                 "\"; not the network's doing)";
  } else {
    s.verdict = RunVerdict::kAnomaly;
    s.evidence = name + ": " + StringKey(k, "x_unknown_reason");
  }
  return s;
}

Result<std::vector<std::string>> WechatPostsExperiment::DefaultInputs(
    const std::string& data_dir) const {
  // No list shipped or added: nothing to measure by default (a group skips it).
  std::error_code ec;
  bool any = false;
  for (const auto& entry : std::filesystem::directory_iterator(PostListDir(data_dir), ec)) {
    any = any || entry.path().extension() == ".csv";
  }
  if (!any) return std::vector<std::string>{};
  auto list = ReadPostLists(PostListDir(data_dir));
  if (!list.ok()) return Error{"wechat_posts: " + list.error()};
  return list->Urls();
}

asio::awaitable<Result<Measurement>> WechatPostsExperiment::Run(const ExperimentContext& context,
                                                                const Json& input) const {
  if (!input.is_string()) co_return Error{"wechat_posts needs an article's URL as input"};
  const std::string url = input.get<std::string>();
  if (auto parsed = ParseUrl(url); !parsed.ok()) {
    co_return Error{"wechat_posts: '" + url + "': " + parsed.error()};
  }
  auto fingerprints = ReadNoticeFingerprints(NoticeFingerprintsPath(context.data_dir));
  if (!fingerprints.ok()) co_return Error{"wechat_posts: " + fingerprints.error()};

  auto executor = co_await asio::this_coro::executor;
  Measurement m = NewMeasurement(kWechatPostsName, kWechatPostsVersion, input);
  Trace trace;
  DnsObserver dns(executor, context.resolver, context.timeout);
  HttpOptions options = HttpOptionsFor(context);
  options.body_cap = kPostBodyCap;
  const HttpOutcome outcome = co_await FetchUrl(trace, dns, context, url, options);

  PostObservation o;
  o.url = url;
  o.failure = FetchFailure(url, outcome);
  if (!o.failure) {
    o.status_code = outcome.status_code;
    // The final response is the newest request's.
    const auto& requests = trace.keys().requests;
    const std::string body = requests.empty() ? "" : requests.front().response.body.bytes;
    o.page = ClassifyPostPage(outcome.status_code, body, *fingerprints);
  }
  FinishMeasurement(m, trace, WechatPostsTestKeys(o), context);
  co_await AddMessagingControl(context, m);
  co_return m;
}

RunSummary WechatPostsExperiment::Summarize(const Measurement& measurement) const {
  const std::string service =
      measurement.input.is_string() ? measurement.input.get<std::string>() : "";
  return WechatPostsSummary(service, measurement.test_keys.extra);
}

// How the registry makes one: experiments.def lists it.
std::unique_ptr<Experiment> MakeWechatPostsExperiment() {
  return std::make_unique<WechatPostsExperiment>();
}

}  // namespace vigil
