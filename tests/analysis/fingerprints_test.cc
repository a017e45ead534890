// FingerprintSet over the shipped CSVs and over real block pages from OONI measurements.
#include "analysis/verdict/fingerprints.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/support/read_file.h"
#include "tests/support_paths.h"

namespace vigil::analysis {
namespace {

std::string ShippedDir() { return vigil::test_support::SourceDir() + "/testlists/fingerprints"; }

const FingerprintSet& Shipped() {
  static const FingerprintSet set = [] {
    auto loaded = FingerprintSet::LoadDir(ShippedDir());
    EXPECT_TRUE(loaded.ok()) << loaded.error();
    return loaded.ok() ? std::move(loaded).value() : FingerprintSet();
  }();
  return set;
}

std::vector<std::string> Names(const FingerprintSet& set, const std::vector<uint32_t>& ids) {
  std::vector<std::string> names;
  for (uint32_t id : ids) names.push_back(set.all()[id].name);
  return names;
}

// OONI writes a body that is not UTF-8 as {"format": "base64", "data": ...}.
std::string BodyOf(const nlohmann::json& body) {
  if (body.is_string()) return body.get<std::string>();
  if (!body.is_object() || body.value("format", "") != "base64") return "";
  const std::string data = body.value("data", "");
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char ch : data) {
    int v;
    if (ch >= 'A' && ch <= 'Z')
      v = ch - 'A';
    else if (ch >= 'a' && ch <= 'z')
      v = ch - 'a' + 26;
    else if (ch >= '0' && ch <= '9')
      v = ch - '0' + 52;
    else if (ch == '+')
      v = 62;
    else if (ch == '/')
      v = 63;
    else
      continue;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return out;
}

// One line of a reference JSONL file, parsed.
nlohmann::json ReferenceLine(const std::string& file, int line) {
  std::ifstream in(vigil::test_support::ReferenceDir() + "/ooni-measurements/" + file);
  std::string text;
  for (int i = 0; i < line && std::getline(in, text); ++i) {
  }
  return nlohmann::json::parse(text);
}

TEST(FingerprintsTest, ShippedFilesLoadWithEveryRecordAndRegexp) {
  const FingerprintSet& set = Shipped();
  ASSERT_EQ(set.size(), 226u + 1729u);
  size_t dns = 0;
  for (const Fingerprint& fp : set.all()) dns += fp.location == FingerprintLocation::kDns;
  EXPECT_EQ(dns, 226u);
  auto compiled = set.CompileAllRegexps();
  ASSERT_TRUE(compiled.ok()) << compiled.error();
  EXPECT_EQ(*compiled, 14u);
}

TEST(FingerprintsTest, ShippedFilesAreVerbatimCopiesOfTheReference) {
  const std::string ref = vigil::test_support::ReferenceDir() + "/fingerprints";
  if (!std::filesystem::exists(ref)) GTEST_SKIP() << "no reference data at " << ref;
  for (const char* name : {"fingerprints_dns.csv", "fingerprints_http.csv"}) {
    EXPECT_EQ(vigil::test_support::ReadFileOrFail(ShippedDir() + "/" + name),
              vigil::test_support::ReadFileOrFail(ref + "/" + name))
        << name;
  }
}

TEST(FingerprintsTest, IranianDnsAnswerConfirmsAnywhereItIsNational) {
  const FingerprintSet& set = Shipped();
  std::vector<uint32_t> ids;
  set.MatchDns("10.10.34.36", &ids);
  ASSERT_EQ(Names(set, ids), std::vector<std::string>{"ooni.ir_10dot10_ipv4_1"});
  const Fingerprint* best = set.Best(ids, "IR");
  ASSERT_NE(best, nullptr);
  EXPECT_EQ(best->scope, "nat");
  EXPECT_TRUE(best->Confirms("IR"));
  ids.clear();
  set.MatchDns("10.10.34.37", &ids);
  EXPECT_TRUE(ids.empty());
}

TEST(FingerprintsTest, RussianBlockPageFromARealMeasurementConfirms) {
  if (!std::filesystem::exists(vigil::test_support::ReferenceDir() + "/ooni-measurements")) {
    GTEST_SKIP() << "no reference data at " << vigil::test_support::ReferenceDir();
  }
  // web_connectivity L4: rutor.org from RU AS42668, redirected to the ISP's block page.
  const nlohmann::json m = ReferenceLine("web_connectivity.jsonl", 4);
  const FingerprintSet& set = Shipped();
  std::vector<uint32_t> body_ids, header_ids;
  for (const auto& r : m["test_keys"]["requests"]) {
    const auto& response = r["response"];
    set.MatchBody(BodyOf(response["body"]), &body_ids);
    for (auto it = response["headers"].begin(); it != response["headers"].end(); ++it) {
      if (it->is_string()) set.MatchHeader(it.key(), it->get<std::string>(), &header_ids);
    }
  }
  const std::vector<std::string> body = Names(set, body_ids);
  EXPECT_NE(std::find(body.begin(), body.end(), "ooni.ru_5"), body.end());
  EXPECT_NE(std::find(body.begin(), body.end(), "cp.b_nat_ru_12_satellite"), body.end());
  const Fingerprint* best = set.Best(body_ids, "RU");
  ASSERT_NE(best, nullptr);
  EXPECT_TRUE(best->Confirms("RU"));
  EXPECT_EQ(Names(set, header_ids), std::vector<std::string>{"cl.isp_ru_nevalink_forward"});
}

TEST(FingerprintsTest, CountryMismatchDoesNotConfirm) {
  const FingerprintSet& set = Shipped();
  // A product's block page (scope prod) confirms only in the countries it is known in.
  const Fingerprint* prod = nullptr;
  for (const Fingerprint& fp : set.all()) {
    if (fp.scope == "prod" && fp.location == FingerprintLocation::kBody &&
        fp.pattern_type == PatternType::kContains && !fp.expected_countries.empty()) {
      prod = &fp;
      break;
    }
  }
  ASSERT_NE(prod, nullptr);
  std::vector<uint32_t> ids;
  set.MatchBody("<html><body>" + prod->pattern + "</body></html>", &ids);
  ASSERT_FALSE(ids.empty());
  const std::string home = prod->expected_countries.front();
  EXPECT_TRUE(set.all()[ids.front()].Confirms(home)) << prod->name;
  const std::string elsewhere = home == "AQ" ? "BV" : "AQ";
  for (uint32_t id : ids) {
    if (set.all()[id].scope != "isp" && set.all()[id].scope != "nat") {
      EXPECT_FALSE(set.all()[id].Confirms(elsewhere)) << set.all()[id].name;
    }
  }
  EXPECT_FALSE(set.all()[ids.front()].Confirms("ZZ"));
}

TEST(FingerprintsTest, RegexpPrefixAndHeaderPatterns) {
  auto set = FingerprintSet::Parse(
      {{"t.csv", std::string(kFingerprintHeader) +
                     "\n"
                     "re,nat,,body,regexp,Sorry.*blocked \\(by law\\),5,XX,,,\n"
                     "pre,isp,,header.location,prefix,http://block.example/,5,XX,,,\n"
                     "full,isp,,header.server,full,Censor/1.0,5,XX,,,\n"
                     "brace,isp,,body,regexp,\"{\"\"msg\"\":.*\"\"id\"\":\",5,XX,,,\n"}});
  ASSERT_TRUE(set.ok()) << set.error();
  std::vector<uint32_t> ids;
  set->MatchBody("<p>Sorry, this page is blocked (by law)</p>", &ids);
  EXPECT_EQ(Names(*set, ids), std::vector<std::string>{"re"});
  ids.clear();
  set->MatchBody("<p>Sorry, this page is blocked by law</p>", &ids);
  EXPECT_TRUE(ids.empty());
  ids.clear();
  set->MatchBody("{\"msg\": \"no\", \"id\": 3}", &ids);
  EXPECT_EQ(Names(*set, ids), std::vector<std::string>{"brace"});
  ids.clear();
  set->MatchHeader("Location", "http://block.example/?u=x", &ids);
  set->MatchHeader("Location", "http://block.exampl", &ids);
  set->MatchHeader("Server", "Censor/1.0", &ids);
  set->MatchHeader("Server", "Censor/1.0 extra", &ids);
  EXPECT_EQ(Names(*set, ids), (std::vector<std::string>{"pre", "full"}));
}

TEST(FingerprintsTest, BadRowsAreReportedWithFileLineAndColumn) {
  const std::string header(kFingerprintHeader);
  auto bad = FingerprintSet::Parse(
      {{"fp.csv", header + "\r\n" + "ok,nat,,dns,full,1.2.3.4,5,IR,,,\r\n" +
                      "x,nat,,dns,glob,1.2.3.4,5,IR,,,\r\n" + "y,nat,,cookie,full,a,5,IR,,,\r\n" +
                      "z,nat,,dns,full,1.2.3.4,11,IR,,,\r\n" +
                      "w,nat,,dns,full,1.2.3.4,5,Iran,,,\r\n" + "short,nat,,dns\r\n" +
                      "q,nat,,dns,full,\"unclosed,5,IR,,,\r\n"}});
  ASSERT_FALSE(bad.ok());
  const std::string& e = bad.error();
  EXPECT_NE(e.find("fp.csv:3:5: pattern_type: \"glob\""), std::string::npos) << e;
  EXPECT_NE(e.find("fp.csv:4:4: location_found: \"cookie\""), std::string::npos) << e;
  EXPECT_NE(e.find("fp.csv:5:7: confidence_no_fp: \"11\""), std::string::npos) << e;
  EXPECT_NE(e.find("fp.csv:6:8: expected_countries: \"Iran\""), std::string::npos) << e;
  EXPECT_NE(e.find("fp.csv:7:4: expected 11 fields, found 4"), std::string::npos) << e;
  EXPECT_NE(e.find("fp.csv:8:6: quoted field is not closed"), std::string::npos) << e;

  auto header_bad = FingerprintSet::Parse({{"h.csv", "name,scope\nx,y\n"}});
  ASSERT_FALSE(header_bad.ok());
  EXPECT_NE(header_bad.error().find("h.csv:1:1: header is \"name,scope\""), std::string::npos)
      << header_bad.error();
  auto missing = FingerprintSet::LoadDir("/nonexistent-dir");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().find(
                "/nonexistent-dir/fingerprints_dns.csv: cannot open: No such file or directory"),
            std::string::npos)
      << missing.error();
}

// Matching a page against all 1,729 HTTP fingerprints must cost about as much as reading
// it a few times, not 1,729 substring searches.
// A large ordinary page matches no block page (except the one fingerprint that is a
// lone replacement character), and a block page's text buried deep inside it is still
// found: the index scans the whole body, not a prefix. (Its speed is measured by
// bench/vigil_ingest_bench, not here.)
TEST(FingerprintsTest, BodyMatchingScansTheWholePage) {
  const FingerprintSet& set = Shipped();
  std::string page = "<!DOCTYPE html><html><head><title>An ordinary page</title></head><body>";
  while (page.size() < 64 * 1024) {
    page +=
        "<div class=\"content\"><p>Lorem ipsum dolor sit amet, consectetur adipiscing elit, "
        "sed do eiusmod tempor incididunt ut labore et dolore magna aliqua.</p>"
        "<a href=\"/articles/2024/item.html\">read more</a></div>\n";
  }
  std::vector<uint32_t> ids;
  set.MatchBody(page, &ids);
  EXPECT_TRUE(Names(set, ids).empty() ||
              Names(set, ids) == std::vector<std::string>{"cp.fp_x_\xEF\xBF\xBD"});
  std::vector<uint32_t> deep;
  set.MatchBody(page + "http://eais.rkn.gov.ru/" + page, &deep);
  EXPECT_GT(deep.size(), ids.size()) << "a fingerprint 64 KiB into the body was missed";
}

}  // namespace
}  // namespace vigil::analysis
