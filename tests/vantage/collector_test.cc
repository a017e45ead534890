// `vigil collector` in-process on loopback, driven by the probe's own Uploader and by
// raw requests: the OONI protocol end to end (open, submit, close; submit_measurement;
// check-in), the archive's OONI layout and its contents, deduplication of measurements
// sent again (also under another report and after a restart), recovery of a batch torn
// by a crash, bad input refused with a 4xx and a reason while the server keeps
// serving, a cap on requests in flight answered 503 with Retry-After (which the uploader
// waits), retries after the collector was down and fallback to a second collector,
// and every real OONI measurement we have posted through the protocol.
#include <arpa/inet.h>
#include <dirent.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/support/read_file.h"
#include "tests/support/running_collector.h"
#include "tests/support/temp_dir.h"
#include "tests/support_paths.h"
#include "vantage/base/gzip.h"
#include "vantage/collector/collector_server.h"
#include "vantage/upload/uploader.h"

namespace vigil {
namespace {

using Json = nlohmann::ordered_json;
namespace fs = std::filesystem;

Json Measurement(const std::string& test = "whatsapp", const std::string& cc = "IT",
                 const std::string& asn = "AS30722", int n = 0) {
  return Json{{"annotations", {{"engine_name", "vigil"}}},
              {"data_format_version", "0.2.0"},
              {"input", nullptr},
              {"measurement_start_time", "2026-12-01 10:00:0" + std::to_string(n % 10)},
              {"probe_asn", asn},
              {"probe_cc", cc},
              {"probe_ip", "127.0.0.1"},
              {"report_id", ""},
              {"software_name", "vigil"},
              {"software_version", "0.1.0"},
              {"test_keys", {{"n", n}, {"registration_server_status", "ok"}}},
              {"test_name", test},
              {"test_runtime", 1.5},
              {"test_start_time", "2026-12-01 10:00:00"},
              {"test_version", "0.2.0"}};
}

// A collector serving on a thread of its own for the life of the object, with the test
// lists, helpers, relay and limits these tests check.
struct RunningCollector : test_support::RunningCollector {
  static CollectorConfig Config(const std::string& archive, uint16_t port) {
    CollectorConfig config = DefaultConfig(archive, port);
    config.testlists_dir = test_support::SourceDir() + "/testlists/lists";
    config.test_helpers = {"http://127.0.0.1:8090"};
    config.relay = "127.0.0.1:5999";
    config.max_body_bytes = 1 << 20;
    config.limits.max_measurement_bytes = 4 << 20;
    return config;
  }
  explicit RunningCollector(const std::string& archive, uint16_t port = 0,
                            RecoveryReport* recovery = nullptr)
      : test_support::RunningCollector(Config(archive, port), recovery) {}
};

// Every line of every .jsonl.gz under `root`, with the path relative to it.
std::vector<std::pair<std::string, std::string>> ArchivedLines(const std::string& root) {
  std::vector<std::pair<std::string, std::string>> lines;
  if (!fs::exists(root)) return lines;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    const std::string path = entry.path().string();
    if (!entry.is_regular_file() || path.size() < 9 || path.substr(path.size() - 9) != ".jsonl.gz")
      continue;
    auto text = InflateBounded(test_support::ReadFileOrFail(path), size_t{1} << 30);
    EXPECT_TRUE(text.ok()) << path << ": " << text.error();
    if (!text.ok()) continue;
    for (size_t start = 0; start < text->size();) {
      size_t end = text->find('\n', start);
      if (end == std::string::npos) end = text->size();
      if (end > start)
        lines.emplace_back(fs::relative(path, root).string(), text->substr(start, end - start));
      start = end + 1;
    }
  }
  return lines;
}

UploadOptions Quick(std::vector<std::string> collectors) {
  UploadOptions o;
  o.collectors = std::move(collectors);
  o.sleep = [](std::chrono::milliseconds) {};
  o.connect_timeout = std::chrono::milliseconds(2000);
  o.io_timeout = std::chrono::milliseconds(5000);
  return o;
}

struct Raw {
  int status = 0;
  std::string body;
};

Raw Post(uint16_t port, const std::string& path, const std::string& body,
         const httplib::Headers& headers = {}) {
  httplib::Client client("127.0.0.1", port);
  auto res = client.Post(path.c_str(), headers, body, "application/json");
  if (!res) return {};
  return {res->status, res->body};
}

std::string OpenReport(uint16_t port, const std::string& test = "whatsapp",
                       const std::string& cc = "IT", const std::string& asn = "AS30722") {
  auto r = Post(port, "/report",
                Json{{"data_format_version", "0.2.0"},
                     {"format", "json"},
                     {"probe_asn", asn},
                     {"probe_cc", cc},
                     {"software_name", "vigil"},
                     {"software_version", "0.1.0"},
                     {"test_name", test},
                     {"test_start_time", "2026-12-01 10:00:00"},
                     {"test_version", "0.2.0"}}
                    .dump());
  EXPECT_EQ(r.status, 200) << r.body;
  auto json = Json::parse(r.body, nullptr, false);
  return json.is_object() && json.contains("report_id") ? json["report_id"].get<std::string>() : "";
}

TEST(Collector, OpensSubmitsAndClosesAReportAndArchivesInOoniLayout) {
  test_support::TempDir dir("collector");
  RunningCollector collector(dir.Join("archive"));
  ASSERT_TRUE(collector.error().empty()) << collector.error();

  const std::string report_id = OpenReport(collector.port());
  ASSERT_FALSE(report_id.empty());
  EXPECT_NE(report_id.find("_whatsapp_IT_30722_n1_"), std::string::npos) << report_id;

  Json m = Measurement();
  auto r = Post(collector.port(), "/report/" + report_id,
                Json{{"format", "json"}, {"content", m}}.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  const auto answer = Json::parse(r.body);
  const std::string uid = answer["measurement_uid"];
  EXPECT_EQ(uid.rfind("20261201100000_IT_whatsapp_", 0), 0u) << uid;

  auto closed = Post(collector.port(), "/report/" + report_id + "/close", "{}");
  EXPECT_EQ(closed.status, 200);
  EXPECT_EQ(Json::parse(closed.body)["status"], "success");

  const auto lines = ArchivedLines(dir.Join("archive"));
  ASSERT_EQ(lines.size(), 1u);
  // <YYYYMMDD>/<HH>/IT/whatsapp/<file>.jsonl.gz, the day and hour of arrival.
  const fs::path rel(lines[0].first);
  std::vector<std::string> parts(rel.begin(), rel.end());
  ASSERT_EQ(parts.size(), 5u) << lines[0].first;
  EXPECT_EQ(parts[0].size(), 8u);
  EXPECT_EQ(parts[1].size(), 2u);
  EXPECT_EQ(parts[2], "IT");
  EXPECT_EQ(parts[3], "whatsapp");
  // The content as sent, with the report's id filled in.
  m["report_id"] = report_id;
  EXPECT_EQ(Json::parse(lines[0].second), m);
}

TEST(Collector, SubmitMeasurementTakesTheReportFromTheContentAndGzipBodies) {
  test_support::TempDir dir("collector");
  RunningCollector collector(dir.Join("archive"));
  ASSERT_TRUE(collector.error().empty()) << collector.error();
  const std::string report_id = OpenReport(collector.port(), "telegram", "RU", "AS12389");
  Json m = Measurement("telegram", "RU", "AS12389");
  m["report_id"] = report_id;
  const std::string body = Json{{"format", "json"}, {"content", m}}.dump();
  auto plain = Post(collector.port(), "/api/v1/submit_measurement", body);
  EXPECT_EQ(plain.status, 200) << plain.body;
  m["test_keys"]["n"] = 7;
  auto zipped = Post(collector.port(), "/api/v1/submit_measurement",
                     GzipCompress(Json{{"format", "json"}, {"content", m}}.dump()),
                     {{"Content-Encoding", "gzip"}});
  EXPECT_EQ(zipped.status, 200) << zipped.body;
  EXPECT_EQ(ArchivedLines(dir.Join("archive")).size(), 2u);
  // Without a report id in the content there is nothing to check it against.
  m.erase("report_id");
  auto orphan = Post(collector.port(), "/api/v1/submit_measurement",
                     Json{{"format", "json"}, {"content", m}}.dump());
  EXPECT_EQ(orphan.status, 400);
  EXPECT_NE(orphan.body.find("report_id: missing"), std::string::npos) << orphan.body;
}

TEST(Collector, AMeasurementSentAgainIsStoredOnceUnderItsFirstUid) {
  test_support::TempDir dir("collector");
  std::string first_uid;
  {
    RunningCollector collector(dir.Join("archive"));
    ASSERT_TRUE(collector.error().empty()) << collector.error();
    const std::string m = Measurement("signal", "IR", "AS58224").dump();
    Uploader a(Quick({collector.url()}));
    auto one = a.Upload(m);
    ASSERT_TRUE(one.ok) << one.error;
    first_uid = one.measurement_uid;
    auto again = a.Upload(m);  // same report
    ASSERT_TRUE(again.ok) << again.error;
    EXPECT_EQ(again.measurement_uid, first_uid);
    Uploader b(Quick({collector.url()}));  // another report for the same measurement
    auto other = b.Upload(m);
    ASSERT_TRUE(other.ok) << other.error;
    EXPECT_NE(other.report_id, one.report_id);
    EXPECT_EQ(other.measurement_uid, first_uid);
    EXPECT_EQ(collector.server().archive().stored(), 1u);
  }
  // After a restart the archive still knows it.
  RecoveryReport recovery;
  RunningCollector restarted(dir.Join("archive"), 0, &recovery);
  ASSERT_TRUE(restarted.error().empty()) << restarted.error();
  EXPECT_EQ(recovery.measurements, 1u);
  Uploader c(Quick({restarted.url()}));
  auto after = c.Upload(Measurement("signal", "IR", "AS58224").dump());
  ASSERT_TRUE(after.ok) << after.error;
  EXPECT_EQ(after.measurement_uid, first_uid);
  EXPECT_EQ(ArchivedLines(dir.Join("archive")).size(), 1u);
}

TEST(Collector, SimultaneousCopiesOfOneMeasurementAreStoredOnce) {
  test_support::TempDir dir("collector");
  RunningCollector collector(dir.Join("archive"));
  ASSERT_TRUE(collector.error().empty()) << collector.error();
  const std::string m = Measurement("wechat", "CN", "AS4134").dump();
  std::vector<std::thread> threads;
  std::vector<UploadResult> results(8);
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      Uploader u(Quick({collector.url()}));
      results[static_cast<size_t>(i)] = u.Upload(m);
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& r : results) {
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.measurement_uid, results[0].measurement_uid);
  }
  EXPECT_EQ(ArchivedLines(dir.Join("archive")).size(), 1u);
}

TEST(Collector, BadInputGetsA4xxWithAReasonAndTheServerKeepsServing) {
  test_support::TempDir dir("collector");
  RunningCollector collector(dir.Join("archive"));
  ASSERT_TRUE(collector.error().empty()) << collector.error();
  const uint16_t port = collector.port();
  const std::string report_id = OpenReport(port);
  auto submit = [&](const Json& content) {
    return Post(port, "/report/" + report_id,
                Json{{"format", "json"}, {"content", content}}.dump());
  };
  struct Case {
    const char* what;
    Raw reply;
    int status;
    const char* reason;
  };
  Json wrong_cc = Measurement();
  wrong_cc["probe_cc"] = "DE";
  Json wrong_test = Measurement();
  wrong_test["test_name"] = "telegram";
  Json wrong_asn = Measurement();
  wrong_asn["probe_asn"] = "AS1";
  Json other_report = Measurement();
  other_report["report_id"] = "20261201T100000Z_whatsapp_IT_30722_n1_abcdef";
  Json bad_time = Measurement();
  bad_time["measurement_start_time"] = "2026-12-01T10:00:00Z";
  Json future = Measurement();
  future["measurement_start_time"] = "2099-01-01 00:00:00";
  Json no_keys = Measurement();
  no_keys.erase("test_keys");
  Json huge = Measurement();
  huge["test_keys"]["body"] = std::string(3 << 20, 'a');  // under the body limit once zipped
  const std::string bomb = GzipCompress(Json{{"format", "json"}, {"content", huge}}.dump() +
                                        std::string(size_t{64} << 20, ' '));
  ASSERT_LT(bomb.size(), size_t{1} << 20);

  const std::string deep = "{\"format\":\"json\",\"content\":{\"x\":" + std::string(200000, '[') +
                           std::string(200000, ']') + "}}";
  std::vector<Case> cases = {
      {"nested a million deep",
       Post(port, "/report/" + report_id, GzipCompress(deep), {{"Content-Encoding", "gzip"}}), 400,
       "nested deeper"},
      {"not JSON", Post(port, "/report/" + report_id, "{not json"), 400, "not JSON"},
      {"not gzip", Post(port, "/report/" + report_id, std::string("\x1f\x8b garbage", 10)), 400,
       "gzip"},
      {"no format", Post(port, "/report/" + report_id, Json{{"content", Measurement()}}.dump()),
       400, "format"},
      {"country", submit(wrong_cc), 400, "probe_cc"},
      {"test", submit(wrong_test), 400, "test_name"},
      {"network", submit(wrong_asn), 400, "probe_asn"},
      {"report", submit(other_report), 400, "report_id"},
      {"time format", submit(bad_time), 400, "measurement_start_time"},
      {"future", submit(future), 400, "in the future"},
      {"no test_keys", submit(no_keys), 400, "test_keys"},
      {"bad report id",
       Post(port, "/report/nonsense", Json{{"format", "json"}, {"content", Measurement()}}.dump()),
       404, "report"},
      {"unknown path", Post(port, "/nowhere", "{}"), 404, "no such endpoint"},
      {"oversized", Post(port, "/report/" + report_id, std::string(2 << 20, ' ')), 413, "over"},
      {"gzip bomb", Post(port, "/report/" + report_id, bomb, {{"Content-Encoding", "gzip"}}), 413,
       "more than"},
      {"encoding", Post(port, "/report/" + report_id, "{}", {{"Content-Encoding", "br"}}), 415,
       "gzip"},
      {"bad opening", Post(port, "/report", Json{{"probe_cc", "IT"}}.dump()), 400, "test_name"},
      // Its report id would have no test part to check submissions against.
      {"test name of underscores",
       Post(port, "/report",
            Json{{"test_name", "__"},
                 {"probe_cc", "IT"},
                 {"probe_asn", "AS30722"},
                 {"software_name", "vigil"},
                 {"software_version", "0.1.0"},
                 {"test_version", "0.4.3"}}
                .dump()),
       400, "test_name"},
      {"bad check-in", Post(port, "/api/v1/check-in", "[1]"), 400, "check-in"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(c.reply.status, c.status) << c.what << ": " << c.reply.body;
    EXPECT_NE(c.reply.body.find(c.reason), std::string::npos) << c.what << ": " << c.reply.body;
    EXPECT_NE(c.reply.body.find("\"error\""), std::string::npos) << c.what;
  }
  httplib::Client client("127.0.0.1", port);
  auto get = client.Get("/report");
  ASSERT_TRUE(get);
  EXPECT_EQ(get->status, 405);
  // Nothing bad was stored, and the server still takes good measurements.
  EXPECT_TRUE(ArchivedLines(dir.Join("archive")).empty());
  EXPECT_EQ(submit(Measurement()).status, 200);
  auto health = client.Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(Json::parse(health->body)["stored"], 1);
}

TEST(Collector, CheckInGivesTheCountrysUrlsAndTheHelpers) {
  test_support::TempDir dir("collector");
  RunningCollector collector(dir.Join("archive"));
  ASSERT_TRUE(collector.error().empty()) << collector.error();
  auto r = Post(collector.port(), "/api/v1/check-in",
                Json{{"probe_cc", "CN"},
                     {"probe_asn", "AS4134"},
                     {"platform", "linux"},
                     {"run_type", "timed"},
                     {"software_name", "vigil"},
                     {"software_version", "0.1.0"},
                     {"web_connectivity", {{"category_codes", Json::array()}}}}
                    .dump());
  ASSERT_EQ(r.status, 200) << r.body;
  const auto json = Json::parse(r.body);
  EXPECT_EQ(json["probe_cc"], "CN");
  EXPECT_EQ(json["conf"]["test_helpers"]["web-connectivity"][0]["address"],
            "http://127.0.0.1:8090");
  EXPECT_EQ(json["conf"]["x_relay"], "127.0.0.1:5999");
  const auto& wc = json["tests"]["web_connectivity"];
  EXPECT_TRUE(ParseReportId(wc["report_id"].get<std::string>()).ok());
  ASSERT_FALSE(wc["urls"].empty());
  std::set<std::string> countries;
  for (const auto& u : wc["urls"]) countries.insert(u["country_code"].get<std::string>());
  EXPECT_TRUE(countries.count("CN")) << "the cn list comes first";
  // A category filter keeps only that category.
  auto filtered =
      Post(collector.port(), "/api/v1/check-in",
           Json{{"probe_cc", "CN"}, {"web_connectivity", {{"category_codes", {"COMT"}}}}}.dump());
  ASSERT_EQ(filtered.status, 200);
  const auto filtered_json = Json::parse(filtered.body);  // alive for the loop below
  const auto& filtered_urls = filtered_json["tests"]["web_connectivity"]["urls"];
  ASSERT_FALSE(filtered_urls.empty());
  for (const auto& u : filtered_urls) EXPECT_EQ(u["category_code"], "COMT");
}

TEST(Collector, ATornBatchIsCutOffAtRestartAndTheRestKept) {
  test_support::TempDir dir("collector");
  {
    RunningCollector collector(dir.Join("archive"));
    ASSERT_TRUE(collector.error().empty()) << collector.error();
    Uploader u(Quick({collector.url()}));
    for (int i = 0; i < 3; ++i)
      ASSERT_TRUE(u.Upload(Measurement("whatsapp", "IT", "AS30722", i).dump()).ok);
  }
  auto lines = ArchivedLines(dir.Join("archive"));
  ASSERT_EQ(lines.size(), 3u);
  // What a crash in the middle of a write leaves: half a gzip member at the end.
  const std::string file = dir.Join("archive") + "/" + lines[0].first;
  const std::string torn = GzipCompress(Measurement("whatsapp", "IT", "AS30722", 9).dump() + "\n");
  {
    std::ofstream out(file, std::ios::binary | std::ios::app);
    out.write(torn.data(), static_cast<std::streamsize>(torn.size() / 2));
  }
  RecoveryReport recovery;
  RunningCollector restarted(dir.Join("archive"), 0, &recovery);
  ASSERT_TRUE(restarted.error().empty()) << restarted.error();
  EXPECT_EQ(recovery.torn_files, 1u);
  EXPECT_EQ(recovery.torn_bytes, torn.size() / 2);
  EXPECT_EQ(recovery.measurements, 3u);
  EXPECT_EQ(ArchivedLines(dir.Join("archive")).size(), 3u);  // readable again, nothing lost
}

TEST(Uploader, RetriesUntilTheCollectorIsBackAndFallsBackToTheNextOne) {
  test_support::TempDir dir("collector");
  // A port nothing listens on yet.
  uint16_t port = 0;
  {
    RunningCollector probe_port(dir.Join("unused"));
    port = probe_port.port();
  }
  std::unique_ptr<RunningCollector> late;
  UploadOptions options = Quick({"http://127.0.0.1:" + std::to_string(port)});
  int waits = 0;
  options.sleep = [&](std::chrono::milliseconds) {
    if (++waits == 1) late = std::make_unique<RunningCollector>(dir.Join("archive"), port);
  };
  Uploader u(options);
  auto result = u.Upload(Measurement().dump());
  ASSERT_TRUE(late && late->error().empty());
  EXPECT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.attempts, 2);
  EXPECT_EQ(waits, 1);

  // The first collector gone for good: the second one takes it.
  RunningCollector second(dir.Join("second"));
  late.reset();
  Uploader fallback(Quick({"http://127.0.0.1:" + std::to_string(port), second.url()}));
  auto moved = fallback.Upload(Measurement("telegram").dump());
  EXPECT_TRUE(moved.ok) << moved.error;
  EXPECT_EQ(moved.collector, second.url());
  EXPECT_EQ(moved.attempts, 4);  // three on the first, one on the second
  EXPECT_EQ(ArchivedLines(dir.Join("second")).size(), 1u);

  // Nobody listening: a failure that names each collector, quickly.
  second.server().Stop();
  Uploader none(Quick({"http://127.0.0.1:" + std::to_string(port)}));
  auto failed = none.Upload(Measurement().dump());
  EXPECT_FALSE(failed.ok);
  EXPECT_FALSE(failed.permanent);
  EXPECT_NE(failed.error.find("127.0.0.1:" + std::to_string(port)), std::string::npos)
      << failed.error;
  // A measurement the collector refuses is not retried.
  RunningCollector strict(dir.Join("strict"));
  Json bad = Measurement();
  bad["probe_cc"] = "italy";
  Uploader refused(Quick({strict.url()}));
  auto no = refused.Upload(bad.dump());
  EXPECT_FALSE(no.ok);
  EXPECT_TRUE(no.permanent);
  EXPECT_EQ(no.attempts, 1);
  EXPECT_NE(no.error.find("probe_cc"), std::string::npos) << no.error;
}

// Servers that answer like a captive portal (200 with a page) or like a web server
// that is not a collector (404 everywhere).
class FakeServer {
 public:
  FakeServer(int status, std::string body, std::string extra_headers = "") {
    HttpServerConfig config;
    config.log_requests = false;
    config.threads = 1;
    server_ = std::make_unique<HttpServer>(
        config, [](const RequestHead&, std::string_view) { return std::optional<HttpReply>(); },
        [status, body, extra_headers](const ServerRequest&) -> asio::awaitable<HttpReply> {
          HttpReply r(status, body);
          r.content_type = "text/html";
          r.extra_headers = extra_headers;
          co_return r;
        });
    port_ = *server_->Bind();
    thread_ = std::thread([this] { server_->Serve(); });
  }
  ~FakeServer() {
    server_->Stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  std::unique_ptr<HttpServer> server_;
  uint16_t port_ = 0;
  std::thread thread_;
};

TEST(Uploader, APortalsPageIsNotAnAcknowledgementAndAWrongServerIsSkipped) {
  FakeServer portal(200, "<html>Please log in to the hotel Wi-Fi</html>");
  Uploader u(Quick({portal.url()}));
  auto r = u.Upload(Measurement().dump());
  EXPECT_FALSE(r.ok) << "a 200 without a measurement_uid must leave the measurement pending";
  EXPECT_FALSE(r.permanent);

  test_support::TempDir dir("collector");
  RunningCollector collector(dir.Join("archive"));
  FakeServer not_a_collector(404, "<html>Not Found</html>");
  Uploader next(Quick({not_a_collector.url(), collector.url()}));
  auto moved = next.Upload(Measurement().dump());
  EXPECT_TRUE(moved.ok) << moved.error;
  EXPECT_EQ(moved.collector, collector.url());
  EXPECT_EQ(moved.attempts, 2) << "one try at the wrong server, one at the collector";
}

TEST(Collector, EveryRealOoniMeasurementGoesThroughTheProtocol) {
  const std::string dir = test_support::ReferenceDir() + "/ooni-measurements";
  if (!fs::exists(dir)) GTEST_SKIP() << "no reference data at " << dir << " (../shared/reference)";
  test_support::TempDir tmp("collector");
  RunningCollector collector(tmp.Join("archive"));
  ASSERT_TRUE(collector.error().empty()) << collector.error();
  Uploader u(Quick({collector.url()}));
  size_t sent = 0;
  std::set<std::string> uids;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".jsonl") continue;
    std::ifstream in(entry.path());
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      Json m = Json::parse(line, nullptr, false);
      ASSERT_TRUE(m.is_object()) << entry.path();
      // Real measurements are years old: the collector checks times, not age.
      auto r = u.Upload(line);
      EXPECT_TRUE(r.ok) << entry.path().filename() << " " << m.value("test_name", "") << ": "
                        << r.error;
      if (r.ok) uids.insert(r.measurement_uid);
      ++sent;
    }
  }
  ASSERT_GT(sent, 10u);
  EXPECT_EQ(uids.size(), sent) << "distinct measurements get distinct uids";
  EXPECT_EQ(ArchivedLines(tmp.Join("archive")).size(), sent);
}

// A connection that has sent a request head and holds its body back: the request is
// admitted and stays in flight until the connection closes.
class HeldRequest {
 public:
  explicit HeldRequest(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return;
    const std::string head = "POST /report/held HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n";
    sent_ =
        ::send(fd_, head.data(), head.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(head.size());
  }
  ~HeldRequest() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool sent() const { return sent_; }
  /// Still waiting: the server has neither answered nor closed the connection.
  bool waiting() const {
    char b[64];
    return ::recv(fd_, b, sizeof b, MSG_DONTWAIT | MSG_PEEK) < 0 && errno == EAGAIN;
  }

 private:
  int fd_ = -1;
  bool sent_ = false;
};

TEST(Collector, BeyondTheCapOnRequestsInFlightABusyCollectorSaysWhenToComeBack) {
  test_support::TempDir dir("collector");
  CollectorConfig config = RunningCollector::Config(dir.Join("archive"), 0);
  config.http.max_in_flight = 2;
  config.http.retry_after = std::chrono::seconds(3);
  test_support::RunningCollector collector(config);
  ASSERT_TRUE(collector.error().empty()) << collector.error();
  // Two requests held open (head sent, body not) fill the cap; a third is refused. The
  // server admits the held ones as it reads their heads, on its two threads, so a probe
  // can be admitted between them and push the second over the cap: then both go and the
  // attempt starts again (up to 20 s in all: a loaded machine under a sanitizer is slow).
  int status = 0;
  std::string retry_after, body;
  for (int attempt = 0; attempt < 20 && status != 503; ++attempt) {
    auto held =
        std::make_unique<std::pair<HeldRequest, HeldRequest>>(collector.port(), collector.port());
    ASSERT_TRUE(held->first.sent() && held->second.sent());
    for (int i = 0; i < 50 && status != 503; ++i) {
      httplib::Client client("127.0.0.1", collector.port());
      auto busy = client.Post("/report", "{}", "application/json");
      if (busy) {
        status = busy->status;
        retry_after = busy->get_header_value("Retry-After");
        body = busy->body;
      }
      if (status != 503) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (status == 503 && !(held->first.waiting() && held->second.waiting())) {
      status = 0;  // a held request was refused, not the probe's rival: again
    }
    held.reset();  // the held requests end with their connections
    if (status != 503) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(status, 503);
  EXPECT_EQ(retry_after, "3");
  EXPECT_NE(body.find("busy: 2 requests in flight"), std::string::npos) << body;
  // Below the cap again: uploads go through.
  bool uploaded = false;
  for (int i = 0; i < 100 && !uploaded; ++i) {
    Uploader u(Quick({collector.url()}));
    uploaded = u.Upload(Measurement().dump()).ok;
    if (!uploaded) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(uploaded);
  EXPECT_EQ(collector.stored(), 1u);
}

TEST(Uploader, ABusyCollectorsRetryAfterIsWaitedUpToTheLongestBackoff) {
  FakeServer busy(503, R"({"error": "busy"})", "Retry-After: 3\r\n");
  UploadOptions options = Quick({busy.url()});
  std::vector<std::chrono::milliseconds> waits;
  options.sleep = [&](std::chrono::milliseconds wait) { waits.push_back(wait); };
  Uploader u(options);
  auto result = u.Upload(Measurement().dump());
  EXPECT_FALSE(result.ok);
  EXPECT_FALSE(result.permanent);  // a busy collector is retried, later
  EXPECT_EQ(result.attempts, 3);
  ASSERT_EQ(waits.size(), 2u);
  for (auto w : waits) EXPECT_GE(w, std::chrono::milliseconds(3000));

  FakeServer very_busy(503, R"({"error": "busy"})", "Retry-After: 86400\r\n");
  options.collectors = {very_busy.url()};
  waits.clear();
  Uploader v(options);
  EXPECT_FALSE(v.Upload(Measurement().dump()).ok);
  ASSERT_EQ(waits.size(), 2u);
  for (auto w : waits) EXPECT_EQ(w, options.max_backoff);
}

}  // namespace
}  // namespace vigil
