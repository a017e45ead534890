#include "vantage/upload/uploader.h"

#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "base/host_port.h"
#include "probe/http/url.h"
#include "vantage/base/gzip.h"

namespace vigil {
namespace {

using Json = nlohmann::ordered_json;

struct Answer {
  int status = 0;  // 0: no HTTP answer
  std::string body;
  std::string error;  // when status is 0
};

// Retry-After in its delta-seconds form; 0 when absent or an HTTP date.
std::chrono::seconds RetryAfter(const std::string& value) {
  if (value.empty() || value.size() > 9) return std::chrono::seconds(0);
  long long seconds = 0;
  for (char c : value) {
    if (c < '0' || c > '9') return std::chrono::seconds(0);
    seconds = seconds * 10 + (c - '0');
  }
  return std::chrono::seconds(seconds);
}

// The reason a collector gives ({"error": ...}) or the start of its body.
std::string ReasonOf(const Answer& a) {
  if (a.status == 0) return a.error;
  auto json = nlohmann::json::parse(a.body, nullptr, false);
  if (json.is_object() && json.contains("error") && json["error"].is_string()) {
    return "HTTP " + std::to_string(a.status) + ": " + json["error"].get<std::string>();
  }
  std::string start;  // the body's first bytes, as plain ASCII (it goes into JSON and logs)
  for (char c : a.body.substr(0, 200)) {
    const auto u = static_cast<unsigned char>(c);
    start.push_back(u >= 0x20 && u < 0x7f ? c : ' ');
  }
  return "HTTP " + std::to_string(a.status) + ": " + start;
}

bool Retryable(const Answer& a) {
  return a.status == 0 || a.status >= 500 || a.status == 408 || a.status == 429;
}

}  // namespace

struct Uploader::Impl {
  UploadOptions options;
  std::mt19937_64 rng{std::random_device{}()};

  struct Collector {
    std::string base;    // as configured
    std::string prefix;  // path prefix, no trailing '/'
    std::unique_ptr<httplib::Client> client;
    std::string setup_error;
    std::map<std::string, std::string> reports;  // kind of measurement -> open report id
  };
  std::vector<Collector> collectors;

  explicit Impl(UploadOptions o) : options(std::move(o)) {
    for (const auto& base : options.collectors) {
      Collector c;
      c.base = base;
      auto url = ParseUrl(base);
      if (!url.ok()) {
        c.setup_error = base + ": not a collector URL: " + url.error();
      } else {
        c.client =
            std::make_unique<httplib::Client>(FormatEndpointUrl(url->scheme, url->host, url->port));
        c.prefix = url->target.substr(0, url->target.find('?'));
        while (!c.prefix.empty() && c.prefix.back() == '/') c.prefix.pop_back();
        auto ms = [](std::chrono::milliseconds d) {
          return std::pair<time_t, time_t>{d.count() / 1000, (d.count() % 1000) * 1000};
        };
        auto [cs, cu] = ms(options.connect_timeout);
        auto [is, iu] = ms(options.io_timeout);
        c.client->set_connection_timeout(cs, cu);
        c.client->set_read_timeout(is, iu);
        c.client->set_write_timeout(is, iu);
        c.client->set_keep_alive(true);
        c.client->set_tcp_nodelay(true);  // head and body are two writes: no Nagle stall
        if (!options.ca_file.empty()) c.client->set_ca_cert_path(options.ca_file.c_str());
      }
      collectors.push_back(std::move(c));
    }
  }

  // A busy collector's Retry-After, for the next Wait.
  std::chrono::milliseconds asked_wait{0};

  void Wait(int attempt) {
    // Full jitter: a random wait up to the exponential bound, so probes that lost the
    // same collector at the same moment do not come back in step.
    auto bound = options.initial_backoff * (1 << std::min(attempt, 16));
    bound = std::min(bound, options.max_backoff);
    std::uniform_int_distribution<long long> pick(0, std::max<long long>(1, bound.count()));
    std::chrono::milliseconds wait{pick(rng)};
    // At least what a busy collector asked for (503/429 with Retry-After), up to the
    // longest backoff, so that one answer cannot park a probe for long.
    wait = std::max(wait, std::min(asked_wait, options.max_backoff));
    asked_wait = std::chrono::milliseconds(0);
    if (options.sleep) {
      options.sleep(wait);
    } else {
      std::this_thread::sleep_for(wait);
    }
  }

  Answer Post(Collector& c, const std::string& path, const std::string& body) {
    httplib::Headers headers{{"User-Agent", options.user_agent}};
    std::string sent = body;
    if (options.gzip && body.size() > 256) {
      sent = GzipCompress(body, 6);
      headers.emplace("Content-Encoding", "gzip");
    }
    auto res = c.client->Post((c.prefix + path).c_str(), headers, sent, "application/json");
    Answer a;
    if (!res) {
      a.error = c.base + ": " + httplib::to_string(res.error());
      return a;
    }
    a.status = res->status;
    a.body = res->body;
    if (a.status == 503 || a.status == 429) {
      asked_wait = RetryAfter(res->get_header_value("Retry-After"));
    }
    return a;
  }

  UploadResult Upload(std::string_view measurement_json) {
    UploadResult result;
    Json m = Json::parse(measurement_json, nullptr, false);
    if (m.is_discarded() || !m.is_object()) {
      result.permanent = true;
      result.error = "not a JSON measurement";
      return result;
    }
    auto text = [&](const char* key) {
      auto it = m.find(key);
      return it != m.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    const Json opening{{"data_format_version", text("data_format_version")},
                       {"format", "json"},
                       {"probe_asn", text("probe_asn")},
                       {"probe_cc", text("probe_cc")},
                       {"software_name", text("software_name")},
                       {"software_version", text("software_version")},
                       {"test_name", text("test_name")},
                       {"test_start_time", text("test_start_time")},
                       {"test_version", text("test_version")}};
    const std::string kind = text("test_name") + "|" + text("probe_cc") + "|" + text("probe_asn") +
                             "|" + text("software_name") + "|" + text("software_version") + "|" +
                             text("test_version");
    std::string reasons;
    if (collectors.empty()) result.error = "no collector configured";
    for (Collector& c : collectors) {
      result.collector = c.base;
      if (!c.client) {
        reasons += (reasons.empty() ? "" : "; ") + c.setup_error;
        continue;
      }
      std::string last;
      asked_wait = std::chrono::milliseconds(0);  // another collector's wish
      for (int attempt = 0; attempt < options.attempts_per_collector; ++attempt) {
        if (attempt > 0) Wait(attempt - 1);
        ++result.attempts;
        // The report: reused while this collector accepts it.
        auto report = c.reports.find(kind);
        if (report == c.reports.end()) {
          Answer opened = Post(c, "/report", opening.dump());
          if (opened.status != 200) {
            last = "opening a report: " + ReasonOf(opened);
            // A collector that will not open any report (a wrong URL: 404, 405; 401,
            // 403) is this collector's problem: try the next one. Another 4xx refuses
            // this measurement's fields, which no collector will take either.
            if (opened.status == 401 || opened.status == 403 || opened.status == 404 ||
                opened.status == 405) {
              break;
            }
            if (!Retryable(opened)) {
              result.permanent = true;
              result.error = c.base + ": " + last;
              return result;
            }
            continue;
          }
          auto json = nlohmann::json::parse(opened.body, nullptr, false);
          if (!json.is_object() || !json.contains("report_id") || !json["report_id"].is_string()) {
            last = "opening a report: no report_id in the answer";
            continue;
          }
          report = c.reports.emplace(kind, json["report_id"].get<std::string>()).first;
        }
        m["report_id"] = report->second;
        const Json envelope{{"format", "json"}, {"content", m}};
        Answer submitted = Post(c, "/report/" + report->second, envelope.dump());
        if (submitted.status == 200) {
          // Only a collector's answer counts: a portal's or proxy's 200 page is not an
          // acknowledgement, and the measurement must stay pending.
          auto json = nlohmann::json::parse(submitted.body, nullptr, false);
          if (json.is_object() && json.contains("measurement_uid") &&
              json["measurement_uid"].is_string() &&
              !json["measurement_uid"].get<std::string>().empty()) {
            result.ok = true;
            result.report_id = report->second;
            result.measurement_uid = json["measurement_uid"].get<std::string>();
            result.error.clear();
            return result;
          }
          last = "submitting: HTTP 200 without a measurement_uid (not a collector's answer)";
          continue;
        }
        last = "submitting: " + ReasonOf(submitted);
        if (submitted.status == 404) {
          c.reports.erase(report);  // the collector does not know the report: open another
          continue;
        }
        if (submitted.status == 401 || submitted.status == 403 || submitted.status == 405) break;
        if (!Retryable(submitted)) {
          result.permanent = true;
          result.report_id = report->second;
          result.error = c.base + ": " + last;
          return result;
        }
        // A 5xx or a lost connection: the next attempt may go through another report.
      }
      reasons += (reasons.empty() ? "" : "; ") + c.base + ": " + last;
    }
    if (!reasons.empty()) result.error = reasons;
    return result;
  }

  void CloseReports() {
    for (Collector& c : collectors) {
      if (!c.client) continue;
      for (const auto& [kind, id] : c.reports) Post(c, "/report/" + id + "/close", "{}");
      c.reports.clear();
    }
  }
};

Uploader::Uploader(UploadOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Uploader::~Uploader() = default;
UploadResult Uploader::Upload(std::string_view measurement_json) {
  return impl_->Upload(measurement_json);
}
void Uploader::CloseReports() { impl_->CloseReports(); }

}  // namespace vigil
