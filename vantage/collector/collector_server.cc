#include "vantage/collector/collector_server.h"

#include <asio/experimental/as_tuple.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <atomic>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "base/utc_time.h"
#include "probe/testlists/test_list.h"
#include "vantage/base/gzip.h"

namespace vigil {
namespace {

using Json = nlohmann::json;
constexpr auto kTuple = asio::experimental::as_tuple(asio::use_awaitable);

HttpReply JsonReply(int status, const Json& json) {
  return HttpReply{status, json.dump(-1, ' ', false, Json::error_handler_t::replace)};
}

struct ListedUrl {
  std::string url, category_code, country_code;
};

}  // namespace

struct CollectorServer::Impl {
  CollectorConfig config;
  std::unique_ptr<Archive> archive;
  std::unique_ptr<HttpServer> server;
  std::map<std::string, std::vector<ListedUrl>> urls_by_country;  // "XX": the global list
  std::atomic<uint64_t> rejected{0};

  Result<void> LoadTestLists() {
    if (config.testlists_dir.empty()) return {};
    auto paths = ExpandTestListPaths({config.testlists_dir});
    if (!paths.ok()) return Error{paths.error()};
    for (const std::string& path : *paths) {
      auto list = ReadTestList(path);
      if (!list.ok()) return Error{list.error()};
      std::string name = path.substr(path.rfind('/') + 1);
      name = name.substr(0, name.find('.'));
      std::string cc;
      for (char c : name)
        cc.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
      if (name == "global") cc = "XX";
      for (const auto& e : list->entries)
        urls_by_country[cc].push_back({e.url, e.category_code, cc});
    }
    return {};
  }

  // Waits for the archive to have the submission; the reply says what happened.
  asio::awaitable<HttpReply> Store(Submission s) {
    auto executor = co_await asio::this_coro::executor;
    auto timer =
        std::make_shared<asio::steady_timer>(executor, asio::steady_timer::time_point::max());
    struct Outcome {
      StoreOutcome outcome = StoreOutcome::kFailed;
      std::string error;
    };
    auto result = std::make_shared<Outcome>();
    const std::string uid = s.measurement_uid;
    archive->Submit({uid, s.test_name, s.probe_cc, std::move(s.content)},
                    [executor, timer, result](StoreOutcome outcome, const std::string& error) {
                      result->outcome = outcome;
                      result->error = error;
                      asio::post(executor, [timer] { timer->cancel(); });
                    });
    co_await timer->async_wait(kTuple);
    if (result->outcome == StoreOutcome::kFailed) {
      // Not stored: the probe keeps it and sends it again later.
      co_return JsonError(507, "not stored, send again later: " + result->error);
    }
    Json reply{{"measurement_uid", uid}};
    if (result->outcome == StoreOutcome::kDuplicate) reply["x_duplicate"] = true;
    co_return JsonReply(200, reply);
  }

  HttpReply Bad(int status, const std::string& reason) {
    rejected.fetch_add(1);
    return JsonError(status, reason);
  }

  HttpReply OpenReport(std::string_view body) {
    auto opening = ParseReportOpening(body);
    if (!opening.ok()) return Bad(400, "bad report: " + opening.error());
    return JsonReply(
        200, {{"backend_version", "vigil-collector 1"},
              {"report_id", NewReportId(std::time(nullptr), opening->test_name, opening->probe_cc,
                                        opening->probe_asn, config.collector_number)},
              {"supported_formats", {"json"}}});
  }

  HttpReply CheckIn(std::string_view body) {
    Json request = Json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (request.is_discarded() || !request.is_object()) {
      return Bad(400, "check-in: request body is not a JSON object");
    }
    std::string cc = "ZZ", asn = "AS0";
    if (auto it = request.find("probe_cc"); it != request.end()) {
      if (!it->is_string() || !IsCountryCode(it->get<std::string>())) {
        return Bad(400, "check-in: probe_cc: not a two-letter country code");
      }
      cc = it->get<std::string>();
    }
    if (auto it = request.find("probe_asn"); it != request.end()) {
      if (!it->is_string() || !IsAsn(it->get<std::string>())) {
        return Bad(400, "check-in: probe_asn: expected AS<number>");
      }
      asn = it->get<std::string>();
    }
    std::set<std::string> categories;
    if (auto wc = request.find("web_connectivity"); wc != request.end() && wc->is_object()) {
      if (auto codes = wc->find("category_codes"); codes != wc->end()) {
        if (!codes->is_array())
          return Bad(400, "check-in: web_connectivity.category_codes: not a list");
        for (const auto& code : *codes) {
          if (!code.is_string())
            return Bad(400, "check-in: web_connectivity.category_codes: not strings");
          categories.insert(code.get<std::string>());
        }
      }
    }
    Json urls = Json::array();
    for (const char* list : {cc.c_str(), "XX"}) {
      auto it = urls_by_country.find(list);
      if (it == urls_by_country.end()) continue;
      for (const auto& u : it->second) {
        if (urls.size() >= config.checkin_max_urls) break;
        if (!categories.empty() && categories.count(u.category_code) == 0) continue;
        urls.push_back(
            {{"url", u.url}, {"category_code", u.category_code}, {"country_code", u.country_code}});
      }
    }
    Json helpers = Json::array();
    for (const auto& address : config.test_helpers) {
      helpers.push_back(
          {{"address", address}, {"type", address.rfind("https", 0) == 0 ? "https" : "http"}});
    }
    Json conf{{"features", Json::object()}, {"test_helpers", {{"web-connectivity", helpers}}}};
    if (!config.relay.empty()) conf["x_relay"] = config.relay;
    return JsonReply(200, {{"v", 1},
                           {"probe_cc", cc},
                           {"probe_asn", asn},
                           {"utc_time", FormatUtcNow(kUtcIso8601)},
                           {"conf", conf},
                           {"tests",
                            {{"web_connectivity",
                              {{"report_id", NewReportId(std::time(nullptr), "web_connectivity",
                                                         cc.c_str(), asn, config.collector_number)},
                               {"urls", urls}}}}}});
  }

  asio::awaitable<HttpReply> Handle(const ServerRequest& request) {
    const std::string_view path = request.path;
    if (path == "/health") {
      co_return JsonReply(200, {{"status", "ok"},
                                {"stored", archive->stored()},
                                {"known_measurements", archive->known_uids()},
                                {"rejected", rejected.load()}});
    }
    if (path == "/report" || path == "/api/v1/check-in") {
      // Small JSON requests, gzip'd by some clients: inflate them (boundedly) here.
      std::string inflated;
      std::string_view body = request.body;
      if (LooksGzipped(body)) {
        auto out = InflateBounded(body, size_t{1} << 20);
        if (!out.ok())
          co_return Bad(out.error().find("more than") != std::string::npos ? 413 : 400,
                        "gzip body: " + out.error());
        inflated = std::move(*out);
        body = inflated;
      }
      co_return path == "/report" ? OpenReport(body) : CheckIn(body);
    }
    std::string report_id;
    constexpr std::string_view kReport = "/report/", kSubmit = "/api/v1/submit_measurement";
    if (path.rfind(kReport, 0) == 0) {
      std::string_view rest = path.substr(kReport.size());
      const bool close = rest.size() > 6 && rest.substr(rest.size() - 6) == "/close";
      if (close) rest.remove_suffix(6);
      auto parts = ParseReportId(rest);
      if (!parts.ok()) co_return Bad(404, "no such report: " + parts.error());
      if (close) co_return JsonReply(200, {{"status", "success"}});
      report_id = std::string(rest);
    } else if (path.rfind(kSubmit, 0) == 0) {
      std::string_view rest = path.substr(kSubmit.size());
      if (!rest.empty()) {
        if (rest[0] != '/') co_return Bad(404, "no such endpoint");
        report_id = std::string(rest.substr(1));
        auto parts = ParseReportId(report_id);
        if (!parts.ok()) co_return Bad(404, "no such report: " + parts.error());
      }
    } else {
      co_return Bad(404, "no such endpoint");
    }
    auto submission = ParseSubmission(request.body, report_id, config.limits);
    if (!submission.ok()) {
      const bool too_big = submission.error().find("more than") != std::string::npos ||
                           submission.error().find(" over ") != std::string::npos;
      co_return Bad(too_big ? 413 : 400, "bad measurement: " + submission.error());
    }
    co_return co_await Store(std::move(*submission));
  }

  std::optional<HttpReply> Admit(const RequestHead& head, std::string_view path) {
    if (path == "/health") {
      if (head.method != "GET") return Bad(405, "method not allowed: GET /health");
      return std::nullopt;
    }
    const bool known = path == "/report" || path == "/api/v1/check-in" ||
                       path.rfind("/report/", 0) == 0 ||
                       path.rfind("/api/v1/submit_measurement", 0) == 0;
    if (!known) return Bad(404, "no such endpoint");
    if (head.method != "POST") {
      HttpReply r = Bad(405, "method not allowed: the collector's endpoints take POST");
      r.extra_headers = "Allow: POST\r\n";
      return r;
    }
    if (auto encoding = head.Field("Content-Encoding");
        encoding && *encoding != "identity" && *encoding != "gzip") {
      return Bad(415, "request bodies may be gzip or identity only");
    }
    return std::nullopt;
  }
};

CollectorServer::CollectorServer() : impl_(std::make_unique<Impl>()) {}
CollectorServer::~CollectorServer() {
  if (impl_->server) impl_->server->Stop();
  // The archive first: its last completions post to event loops that no longer run
  // (and are dropped with them), instead of to destroyed ones.
  impl_->archive.reset();
  impl_->server.reset();
}

Result<std::unique_ptr<CollectorServer>> CollectorServer::Create(CollectorConfig config,
                                                                 RecoveryReport* recovery) {
  std::unique_ptr<CollectorServer> server(new CollectorServer());
  Impl& impl = *server->impl_;
  impl.config = std::move(config);
  if (impl.config.http.name == "vigil") impl.config.http.name = "vigil collector";
  impl.config.http.max_request_bytes = impl.config.max_body_bytes;
  auto lists = impl.LoadTestLists();
  if (!lists.ok()) return Error{lists.error()};
  auto archive = Archive::Open(impl.config.archive, recovery);
  if (!archive.ok()) return Error{archive.error()};
  impl.archive = std::move(*archive);
  impl.server = std::make_unique<HttpServer>(
      impl.config.http,
      [&impl](const RequestHead& head, std::string_view path) { return impl.Admit(head, path); },
      [&impl](const ServerRequest& request) { return impl.Handle(request); });
  return server;
}

Result<uint16_t> CollectorServer::Bind() { return impl_->server->Bind(); }
void CollectorServer::Serve() { impl_->server->Serve(); }
void CollectorServer::Stop() { impl_->server->Stop(); }
Archive& CollectorServer::archive() { return *impl_->archive; }

}  // namespace vigil
