#include "vantage/collector/submission.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <random>

#include "base/json_depth.h"
#include "base/utc_time.h"
#include "vantage/base/gzip.h"

namespace vigil {
namespace {

using Json = nlohmann::ordered_json;

std::string WithoutUnderscores(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c != '_') out.push_back(c);
  }
  return out;
}

}  // namespace

bool IsCountryCode(std::string_view s) {
  return s.size() == 2 && std::isupper(static_cast<unsigned char>(s[0])) &&
         std::isupper(static_cast<unsigned char>(s[1]));
}

// ^AS[0-9]{1,10}$
bool IsAsn(std::string_view s) {
  if (s.size() < 3 || s.size() > 12 || s.substr(0, 2) != "AS") return false;
  for (char c : s.substr(2)) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

namespace {

// Starting with a letter: the report id carries the name without underscores, and a
// name of underscores only would leave it no test part to parse back.
bool IsTestName(std::string_view s) {
  if (s.empty() || s.size() > 64 || !std::islower(static_cast<unsigned char>(s[0]))) return false;
  for (char c : s) {
    if (!(std::islower(static_cast<unsigned char>(c)) ||
          std::isdigit(static_cast<unsigned char>(c)) || c == '_')) {
      return false;
    }
  }
  return true;
}

// "YYYY-MM-DD hh:mm:ss" (UTC) as seconds since the epoch, or -1.
std::time_t ParseUtc(std::string_view s) {
  if (s.size() != 19 || s[4] != '-' || s[7] != '-' || s[10] != ' ' || s[13] != ':' ||
      s[16] != ':') {
    return -1;
  }
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18}) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return -1;
  }
  auto num = [&](size_t at, size_t n) { return std::stoi(std::string(s.substr(at, n))); };
  std::tm tm{};
  tm.tm_year = num(0, 4) - 1900;
  tm.tm_mon = num(5, 2) - 1;
  tm.tm_mday = num(8, 2);
  tm.tm_hour = num(11, 2);
  tm.tm_min = num(14, 2);
  tm.tm_sec = num(17, 2);
  if (tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
      tm.tm_sec > 60) {
    return -1;
  }
  return timegm(&tm);
}

Result<std::string> StringField(const Json& object, const char* key, const std::string& where) {
  auto it = object.find(key);
  if (it == object.end()) return Error{where + key + ": missing"};
  if (!it->is_string()) return Error{where + key + ": not a string"};
  return it->get<std::string>();
}

std::string Hex(const unsigned char* bytes, size_t n) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out.push_back(kDigits[bytes[i] >> 4]);
    out.push_back(kDigits[bytes[i] & 15]);
  }
  return out;
}

constexpr size_t kMaxNesting = 128;

}  // namespace

std::string NewReportId(std::time_t now, std::string_view test_name, std::string_view probe_cc,
                        std::string_view probe_asn, int collector_number) {
  const std::string when = FormatUtc(now, kUtcCompact);
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::string random;
  for (int i = 0; i < 50; ++i) random.push_back(kAlphabet[rng() % 62]);
  std::string asn(probe_asn.substr(probe_asn.substr(0, 2) == "AS" ? 2 : 0));
  return when + "_" + WithoutUnderscores(test_name) + "_" + std::string(probe_cc) + "_" + asn +
         "_n" + std::to_string(collector_number) + "_" + random;
}

Result<ReportIdParts> ParseReportId(std::string_view id) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (size_t i = 0; i <= id.size(); ++i) {
    if (i == id.size() || id[i] == '_') {
      parts.push_back(id.substr(start, i - start));
      start = i + 1;
    }
  }
  // Quoted back only as far as it is plain ASCII (a reply must be valid UTF-8).
  std::string shown;
  for (char c : id.substr(0, 120)) shown.push_back(static_cast<unsigned char>(c) < 0x80 ? c : '?');
  const std::string bad = "report id '" + shown + "': ";
  if (parts.size() != 6) {
    return Error{bad + "expected YYYYmmddTHHMMSSZ_<test>_<CC>_<ASN>_n<collector>_<random>"};
  }
  const std::string_view when = parts[0];
  if (when.size() != 16 || when[8] != 'T' || when[15] != 'Z') return Error{bad + "bad time"};
  if (!IsTestName(parts[1]) || parts[1].empty()) return Error{bad + "bad test name"};
  if (!IsCountryCode(parts[2])) return Error{bad + "bad country code"};
  if (!IsAsn("AS" + std::string(parts[3]))) return Error{bad + "bad ASN"};
  if (parts[4].size() < 2 || parts[4][0] != 'n') return Error{bad + "bad collector number"};
  if (parts[5].empty() || parts[5].size() > 100) return Error{bad + "bad random part"};
  for (char c : parts[5]) {
    if (!std::isalnum(static_cast<unsigned char>(c))) return Error{bad + "bad random part"};
  }
  return ReportIdParts{std::string(parts[1]), std::string(parts[2]), "AS" + std::string(parts[3])};
}

Result<ReportOpening> ParseReportOpening(std::string_view body) {
  Json json = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return Error{"request body is not JSON"};
  if (!json.is_object()) return Error{"request body is not a JSON object"};
  ReportOpening r;
  for (auto [key, field] : {std::pair{"test_name", &r.test_name},
                            {"probe_cc", &r.probe_cc},
                            {"probe_asn", &r.probe_asn},
                            {"software_name", &r.software_name},
                            {"software_version", &r.software_version},
                            {"test_version", &r.test_version}}) {
    auto value = StringField(json, key, "");
    if (!value.ok()) return Error{value.error()};
    *field = *value;
  }
  if (auto format = json.find("format"); format != json.end() && *format != "json") {
    return Error{"format: only \"json\" is supported"};
  }
  if (!IsTestName(r.test_name)) return Error{"test_name: not a test name"};
  if (!IsCountryCode(r.probe_cc)) return Error{"probe_cc: not a two-letter country code"};
  if (!IsAsn(r.probe_asn)) return Error{"probe_asn: expected AS<number>"};
  return r;
}

std::string MeasurementUid(std::string_view content, std::string_view report_id,
                           std::string_view start_time, std::string_view probe_cc,
                           std::string_view test_name) {
  // The hash leaves the report id out, so the same measurement re-sent under a new
  // report (the first acknowledgement was lost) has the same uid.
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  size_t at = 0;
  while (!report_id.empty()) {
    const size_t hit = content.find(report_id, at);
    if (hit == std::string_view::npos) break;
    EVP_DigestUpdate(ctx, content.data() + at, hit - at);
    at = hit + report_id.size();
  }
  EVP_DigestUpdate(ctx, content.data() + at, content.size() - at);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(ctx, digest, &length);
  EVP_MD_CTX_free(ctx);
  std::string when;
  for (char c : start_time) {
    if (std::isdigit(static_cast<unsigned char>(c))) when.push_back(c);
  }
  return when + "_" + std::string(probe_cc) + "_" + WithoutUnderscores(test_name) + "_" +
         Hex(digest, 8);
}

Result<Submission> ParseSubmission(std::string_view body, std::string_view url_report_id,
                                   const SubmissionLimits& limits) {
  std::string inflated;
  if (LooksGzipped(body)) {
    auto out = InflateBounded(body, limits.max_measurement_bytes + 4096);
    if (!out.ok()) return Error{"gzip body: " + out.error()};
    inflated = std::move(*out);
    body = inflated;
  }
  if (body.size() > limits.max_measurement_bytes + 4096) {
    return Error{"measurement over " + std::to_string(limits.max_measurement_bytes) + " bytes"};
  }
  if (JsonNestedDeeperThan(body, kMaxNesting)) {
    return Error{"measurement nested deeper than " + std::to_string(kMaxNesting) + " levels"};
  }
  Json json = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return Error{"request body is not JSON"};
  if (!json.is_object()) return Error{"request body is not a JSON object"};
  if (auto format = json.find("format"); format == json.end() || *format != "json") {
    return Error{"format: must be \"json\""};
  }
  auto content_it = json.find("content");
  if (content_it == json.end()) return Error{"content: missing"};
  Json& content = *content_it;
  if (!content.is_object()) return Error{"content: not a JSON object"};

  Submission s;
  const std::string where = "content.";
  for (auto [key, field] : {std::pair{"test_name", &s.test_name},
                            {"probe_cc", &s.probe_cc},
                            {"probe_asn", &s.probe_asn},
                            {"measurement_start_time", &s.measurement_start_time}}) {
    auto value = StringField(content, key, where);
    if (!value.ok()) return Error{value.error()};
    *field = *value;
  }
  for (const char* key : {"data_format_version", "software_name", "software_version",
                          "test_version", "test_start_time"}) {
    auto value = StringField(content, key, where);
    if (!value.ok()) return Error{value.error()};
  }
  // null happens in real OONI data (a measurement that could not run): kept as sent.
  if (auto keys = content.find("test_keys");
      keys == content.end() || !(keys->is_object() || keys->is_null())) {
    return Error{where + "test_keys: missing, or neither an object nor null"};
  }
  if (!IsTestName(s.test_name)) return Error{where + "test_name: not a test name"};
  if (!IsCountryCode(s.probe_cc)) return Error{where + "probe_cc: not a two-letter country code"};
  if (!IsAsn(s.probe_asn)) return Error{where + "probe_asn: expected AS<number>"};
  const std::time_t now = limits.now != 0 ? limits.now : std::time(nullptr);
  for (const char* key : {"measurement_start_time", "test_start_time"}) {
    const std::string value = content[key].get<std::string>();
    const std::time_t t = ParseUtc(value);
    if (t < 0) return Error{where + key + ": expected \"YYYY-MM-DD hh:mm:ss\" (UTC)"};
    if (t < 1325376000) return Error{where + key + ": before 2012"};
    if (t > now + limits.max_future_seconds) return Error{where + key + ": in the future"};
  }

  std::string content_report_id;
  if (auto it = content.find("report_id"); it != content.end() && !it->is_null()) {
    if (!it->is_string()) return Error{where + "report_id: not a string"};
    content_report_id = it->get<std::string>();
  }
  if (!url_report_id.empty()) {
    if (!content_report_id.empty() && content_report_id != url_report_id) {
      return Error{where + "report_id: differs from the report it is submitted to"};
    }
    s.report_id = std::string(url_report_id);
    content["report_id"] = s.report_id;
  } else {
    if (content_report_id.empty()) return Error{where + "report_id: missing"};
    s.report_id = content_report_id;
  }
  auto parts = ParseReportId(s.report_id);
  if (!parts.ok()) return Error{parts.error()};
  if (parts->test != WithoutUnderscores(s.test_name)) {
    return Error{where + "test_name: '" + s.test_name + "' is not the report's test"};
  }
  if (parts->probe_cc != s.probe_cc) {
    return Error{where + "probe_cc: '" + s.probe_cc + "' is not the report's country"};
  }
  if (parts->probe_asn != s.probe_asn) {
    return Error{where + "probe_asn: '" + s.probe_asn + "' is not the report's network"};
  }
  // One line, keys in the order sent; dump() escapes control characters, so no
  // newline can split the line.
  s.content = content.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  s.measurement_uid =
      MeasurementUid(s.content, s.report_id, s.measurement_start_time, s.probe_cc, s.test_name);
  return s;
}

}  // namespace vigil
