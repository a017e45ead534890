// The bogon list (testlists/verdict/bogons.csv): what the shipped list marks, the
// errors a bad line gets, and that the verdict rules use whichever list the rules file
// names.
#include "analysis/verdict/bogons.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "analysis/verdict/rules.h"
#include "tests/support/temp_dir.h"
#include "tests/support_paths.h"

namespace vigil::analysis {
namespace {

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The "now" tests score at: after every start and upload time they use.
constexpr int64_t kNow = 1700003600;

std::string VerdictDir() { return vigil::test_support::SourceDir() + "/testlists/verdict"; }

std::string ParseError(const std::string& text) {
  auto list = BogonList::Parse(text, "b.csv");
  return list.ok() ? "" : list.error();
}

TEST(BogonsTest, ShippedListMarksSpecialPurposeAddressesOnly) {
  auto list = BogonList::Parse(Slurp(VerdictDir() + "/bogons.csv"), "bogons.csv");
  ASSERT_TRUE(list.ok()) << list.error();
  EXPECT_EQ(list->size(), 22u);
  for (const char* ip : {"0.1.2.3",        "10.10.34.35",     "100.64.0.1",   "127.0.0.1",
                         "169.254.1.1",    "172.31.255.255",  "192.0.0.8",    "192.0.2.1",
                         "192.168.1.1",    "198.19.255.255",  "198.51.100.7", "203.0.113.7",
                         "224.0.0.251",    "255.255.255.255", "::",           "::1",
                         "::ffff:8.8.8.8", "2001::1",         "2001:db8::1",  "fd00::1",
                         "fe80::1",        "ff02::1"}) {
    EXPECT_TRUE(list->Contains(ip)) << ip;
  }
  for (const char* ip :
       {"8.8.8.8", "100.63.255.255", "172.32.0.1", "198.20.0.1", "223.255.255.255", "::2",
        "2001:1::1", "2a00:1450:4001::1", "fec0::1", "not-an-address", ""}) {
    EXPECT_FALSE(list->Contains(ip)) << ip;
  }
}

TEST(BogonsTest, BadLinesNameTheFileLineAndField) {
  const std::string head = "# a comment\n\nprefix,name\n";  // the header is on line 3
  EXPECT_EQ(ParseError(head + "10.0.0.0/8,ok\n"), "");
  EXPECT_EQ(ParseError(head + "10.0.0.1/8,typo\n"),
            "b.csv:4:1: prefix: \"10.0.0.1/8\" has bits set past /8 (a typo in the address or the "
            "length?)");
  EXPECT_EQ(ParseError(head + "10.0.0.0,no length\n"),
            "b.csv:4:1: prefix: \"10.0.0.0\" has no /length");
  EXPECT_EQ(ParseError(head + "10.0.0.0/33,too long\n"),
            "b.csv:4:1: prefix: \"10.0.0.0/33\": the length must be 0 to 32");
  EXPECT_EQ(ParseError(head + "fc00::/x,bad length\n"),
            "b.csv:4:1: prefix: \"fc00::/x\": the length must be 0 to 128");
  EXPECT_EQ(ParseError(head + "10.0.0.0/8,ok\n# note\n10.0.0/8,short\n"),
            "b.csv:6:1: prefix: \"10.0.0\" is not an IPv4 or IPv6 address");
  EXPECT_EQ(ParseError(head + "10.0.0.0/8,\n"), "b.csv:4:2: name: empty");
  EXPECT_EQ(ParseError(head + "10.0.0.0/8,a,b\n"),
            "b.csv:4:3: expected 2 fields (prefix,name), found 3");
  EXPECT_EQ(ParseError("range,name\n10.0.0.0/8,x\n"),
            "b.csv:1:1: header is \"range,name\", expected \"prefix,name\"");
  EXPECT_EQ(ParseError("# only a comment\n"), "b.csv:1:1: no header: expected \"prefix,name\"");
  // Every bad line is reported, not only the first.
  EXPECT_EQ(ParseError(head + "1/8,a\n2/8,b\n"),
            "b.csv:4:1: prefix: \"1\" is not an IPv4 or IPv6 address\n"
            "b.csv:5:1: prefix: \"2\" is not an IPv4 or IPv6 address");
}

// A messaging measurement whose only answer is 203.0.113.7 (a documentation
// address), without a control.
ExtractedMeasurement AnswerInDocumentationRange() {
  ExtractedMeasurement m;
  m.measurement.measurement_uid = "uid-bogon";
  m.measurement.report_id = "20240101T000000Z_messaging_IT_30722_n1_x";
  m.measurement.probe_cc = "IT";
  m.measurement.probe_asn = 30722;
  m.measurement.start_time = 1700000000;
  m.measurement.upload_time = 1700000100;
  m.measurement.test_name = "messaging";
  ObservationRow o;
  o.hostname = "a.example";
  o.dns_measured = true;
  o.dns_answers = {"203.0.113.7"};
  m.observations.push_back(o);
  return m;
}

TEST(BogonsTest, TheRulesUseTheListTheirFileNames) {
  auto shipped = VerdictEngine::Load(VerdictDir() + "/rules.json",
                                     vigil::test_support::SourceDir() + "/testlists/fingerprints");
  ASSERT_TRUE(shipped.ok()) << shipped.error();
  EXPECT_EQ(shipped->Score(AnswerInDocumentationRange(), kNow).layers[0].rule_id, "dns.bogon");

  vigil::test_support::TempDir dir("vigil-bogons-");
  nlohmann::json rules = nlohmann::json::parse(Slurp(VerdictDir() + "/rules.json"));
  rules["bogons"] = "private-only.csv";
  std::string error;
  ASSERT_TRUE(dir.WriteFile("rules.json", rules.dump(), &error)) << error;
  ASSERT_TRUE(dir.WriteFile("private-only.csv", "prefix,name\n10.0.0.0/8,Private-Use\n", &error))
      << error;
  auto narrow = VerdictEngine::Load(dir.Join("rules.json"),
                                    vigil::test_support::SourceDir() + "/testlists/fingerprints");
  ASSERT_TRUE(narrow.ok()) << narrow.error();
  EXPECT_EQ(narrow->Score(AnswerInDocumentationRange(), kNow).layers[0].rule_id, "dns.ok");

  rules["bogons"] = "missing.csv";
  ASSERT_TRUE(dir.WriteFile("rules.json", rules.dump(), &error)) << error;
  auto missing = VerdictEngine::Load(dir.Join("rules.json"),
                                     vigil::test_support::SourceDir() + "/testlists/fingerprints");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error(),
            dir.Join("rules.json") + ": bogons: cannot read " + dir.Join("missing.csv"));

  ASSERT_TRUE(dir.WriteFile("private-only.csv", "prefix,name\n10.0.0.0/88,Private-Use\n", &error))
      << error;
  rules["bogons"] = "private-only.csv";
  ASSERT_TRUE(dir.WriteFile("rules.json", rules.dump(), &error)) << error;
  auto bad = VerdictEngine::Load(dir.Join("rules.json"),
                                 vigil::test_support::SourceDir() + "/testlists/fingerprints");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error(), dir.Join("private-only.csv") +
                             ":2:1: prefix: \"10.0.0.0/88\": the length must be 0 to 32");
}

}  // namespace
}  // namespace vigil::analysis
