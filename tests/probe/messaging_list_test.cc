// The messaging lists (testlists/messaging/*.csv): one malformed row per rule with the
// exact "file:line: field: reason" a user sees, duplicates within and across files,
// the shipped list (its Telegram literals and WeChat hosts agree with the experiments
// and the lab), and `vigil lists check` linting messaging lists beside URL lists.
#include "probe/testlists/messaging_list.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "base/csv.h"
#include "base/host_port.h"
#include "probe/experiments/telegram/telegram.h"
#include "probe/experiments/wechat/wechat.h"
#include "probe/http/url.h"
#include "tests/support/child_process.h"
#include "tests/support/read_file.h"
#include "tests/support/temp_dir.h"
#include "tests/support_paths.h"

namespace vigil {
namespace {

using test_support::RunCommand;
using test_support::TempDir;

constexpr char kHeader[] = "service,endpoint,port,steps,expected_asn,notes\n";

std::string ErrorOf(const std::string& rows, const std::string& path = "m.csv") {
  auto list = ParseMessagingList(std::string(kHeader) + rows, path);
  return list.ok() ? std::string("(parsed)") : list.error();
}

TEST(MessagingListTest, ReadsRowsInStepOrder) {
  auto list = ParseMessagingList(std::string(kHeader) +
                                     "chat,chat.example.test,443,http|tls|dns|tcp,AS64496|AS64497,"
                                     "\"web, and API\"\n"
                                     "\n"
                                     "chat,192.0.2.7,5222,tcp,,\n"
                                     "other,2001:db8::1,443,tcp|tls,,\n"
                                     "chat,chat.example.test,8443,dns,,\n",
                                 "m.csv");
  ASSERT_TRUE(list.ok()) << list.error();
  ASSERT_EQ(list->rows.size(), 4u);
  const MessagingEndpoint& first = list->rows[0];
  EXPECT_EQ(first.service, "chat");
  EXPECT_EQ(first.endpoint, "chat.example.test");
  EXPECT_EQ(first.port, 443);
  EXPECT_EQ(first.steps, (std::vector<MessagingStep>{MessagingStep::kDns, MessagingStep::kTcp,
                                                     MessagingStep::kTls, MessagingStep::kHttp}));
  EXPECT_EQ(first.expected_asns, (std::vector<uint32_t>{64496, 64497}));
  EXPECT_EQ(first.notes, "web, and API");
  EXPECT_EQ(first.line, 2);
  EXPECT_EQ(list->rows[1].line, 4) << "the blank line is skipped, not renumbered";
  EXPECT_TRUE(list->rows[1].expected_asns.empty());
  EXPECT_FALSE(list->rows[1].Has(MessagingStep::kDns));
  EXPECT_EQ(list->Services(), (std::vector<std::string>{"chat", "other"}));
  EXPECT_EQ(list->RowsOf("chat").size(), 3u);
  EXPECT_TRUE(list->RowsOf("nothing").empty());
  EXPECT_EQ(list->files, std::vector<std::string>{"m.csv"});
}

struct BadRow {
  const char* what;
  std::string rows;
  std::string error;
};

TEST(MessagingListTest, EachMalformedRowGetsFileLineFieldAndReason) {
  const std::vector<BadRow> cases = {
      {"unknown step", "chat,a.example.test,443,dns|quic,,\n",
       "m.csv:2: steps: unknown step \"quic\" (known: dns, tcp, tls, http)"},
      {"step twice", "chat,a.example.test,443,tcp|tcp,,\n",
       "m.csv:2: steps: step \"tcp\" is listed twice"},
      {"no steps", "chat,a.example.test,443,,,\n",
       "m.csv:2: steps: empty (list some of dns|tcp|tls|http)"},
      {"dns on a literal", "chat,192.0.2.1,443,dns|tcp,,\n",
       "m.csv:2: steps: dns needs a host name, and \"192.0.2.1\" is an IP literal"},
      {"port 0", "chat,a.example.test,0,tcp,,\n",
       "m.csv:2: port: \"0\" is not a port number (1-65535)"},
      {"port too big", "chat,a.example.test,65536,tcp,,\n",
       "m.csv:2: port: \"65536\" is not a port number (1-65535)"},
      {"port not a number", "chat,a.example.test,https,tcp,,\n",
       "m.csv:2: port: \"https\" is not a port number (1-65535)"},
      {"port missing", "chat,a.example.test,,tcp,,\n",
       "m.csv:2: port: \"\" is not a port number (1-65535)"},
      {"port with a zero in front", "chat,a.example.test,0443,tcp,,\n",
       "m.csv:2: port: \"0443\" is not a port number (1-65535)"},
      {"ASN without AS", "chat,a.example.test,443,tcp,32934,\n",
       "m.csv:2: expected_asn: \"32934\" is not an AS number (write AS32934)"},
      {"ASN in lowercase", "chat,a.example.test,443,tcp,as32934,\n",
       "m.csv:2: expected_asn: \"as32934\" is not an AS number (write AS32934)"},
      {"AS0", "chat,a.example.test,443,tcp,AS0,\n",
       "m.csv:2: expected_asn: \"AS0\" is not an AS number (write AS32934)"},
      {"ASN beyond 32 bits", "chat,a.example.test,443,tcp,AS4294967296,\n",
       "m.csv:2: expected_asn: \"AS4294967296\" is not an AS number (write AS32934)"},
      {"empty ASN between bars", "chat,a.example.test,443,tcp,AS1||AS2,\n",
       "m.csv:2: expected_asn: \"\" is not an AS number (write AS32934)"},
      {"ASN twice", "chat,a.example.test,443,tcp,AS1|AS1,\n",
       "m.csv:2: expected_asn: \"AS1\" is listed twice"},
      {"five fields", "chat,a.example.test,443,tcp,\n", "m.csv:2: row: expected 6 fields, found 5"},
      {"seven fields", "chat,a.example.test,443,tcp,,notes,more\n",
       "m.csv:2: row: expected 6 fields, found 7"},
      {"duplicate row", "chat,a.example.test,443,tcp,,\nchat,a.example.test,443,tls,,\n",
       "m.csv:3: row: repeats the service, endpoint and port of line 2"},
      {"uppercase service", "Chat,a.example.test,443,tcp,,\n",
       "m.csv:2: service: \"Chat\" must start with a lowercase letter"},
      {"service with a space", "my chat,a.example.test,443,tcp,,\n",
       "m.csv:2: service: \"my chat\" may hold only lowercase letters, digits and _"},
      {"no service", ",a.example.test,443,tcp,,\n", "m.csv:2: service: empty"},
      {"uppercase host", "chat,A.example.test,443,tcp,,\n",
       "m.csv:2: endpoint: \"A.example.test\": write host names in lowercase"},
      {"bracketed IPv6", "chat,[2001:db8::1],443,tcp,,\n",
       "m.csv:2: endpoint: \"[2001:db8::1]\": write IPv6 literals without brackets"},
      {"single label", "chat,localhost,443,tcp,,\n",
       "m.csv:2: endpoint: \"localhost\" is not a fully qualified host name"},
      {"a URL", "chat,https://a.example.test/,443,tcp,,\n",
       "m.csv:2: endpoint: \"https://a.example.test/\" is neither a host name nor an IP literal"},
      {"empty label", "chat,a..example.test,443,tcp,,\n",
       "m.csv:2: endpoint: \"a..example.test\" has an empty or over-long label"},
      {"broken quoting", "chat,a.example.test,443,tcp,,\"unterminated\n", ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    const std::string error = ErrorOf(c.rows);
    if (c.error.empty()) {
      EXPECT_EQ(error.rfind("m.csv:2: csv: ", 0), 0u) << error;
    } else {
      EXPECT_EQ(error, c.error);
    }
  }
}

TEST(MessagingListTest, HeaderAndEmptyFile) {
  auto wrong = ParseMessagingList("service,endpoint,port,steps,notes\nchat,a.example.test,1,tcp,\n",
                                  "h.csv");
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error(),
            "h.csv:1: header: expected service,endpoint,port,steps,expected_asn,notes");
  auto empty = ParseMessagingList("", "e.csv");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error(), "e.csv:1: header: the file is empty");
  // Spreadsheets write a byte order mark and CRLF.
  auto excel = ParseMessagingList(
      "\xEF\xBB\xBFservice,endpoint,port,steps,expected_asn,notes\r\nchat,a.example.test,1,tcp,,"
      "\r\n",
      "x.csv");
  ASSERT_TRUE(excel.ok()) << excel.error();
  EXPECT_EQ(excel->rows.size(), 1u);
}

TEST(MessagingListTest, EveryProblemIsListedUpToTwenty) {
  std::string rows = "chat,a.example.test,0,quic,AS,\n";  // three problems in one row
  for (int i = 0; i < 30; ++i) rows += "chat,b.example.test,443,tcp,,\n";  // 29 duplicates
  const std::string error = ErrorOf(rows);
  std::vector<std::string> lines;
  std::istringstream in(error);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 21u) << error;
  EXPECT_EQ(lines[0], "m.csv:2: port: \"0\" is not a port number (1-65535)");
  EXPECT_EQ(lines[1], "m.csv:2: steps: unknown step \"quic\" (known: dns, tcp, tls, http)");
  EXPECT_EQ(lines[2], "m.csv:2: expected_asn: \"AS\" is not an AS number (write AS32934)");
  EXPECT_EQ(lines[3], "m.csv:4: row: repeats the service, endpoint and port of line 3");
  EXPECT_EQ(lines[20], "(12 more)");
}

TEST(MessagingListTest, GarbageNeverCrashes) {
  for (const std::string& text :
       {std::string("\0\0\0", 3), std::string("service"), std::string(kHeader) + ",,,,,\n",
        std::string(kHeader) + "a,b,c\n\"\"\"\n,,,,,,,,,,,,\n",
        std::string(kHeader) + "x," + std::string(300, 'a') +
            ".test,99999999999999999999,|,"
            "AS99999999999999999999,\n"}) {
    auto list = ParseMessagingList(text, "g.csv");
    EXPECT_FALSE(list.ok());
    EXPECT_EQ(list.error().rfind("g.csv:", 0), 0u) << list.error();
  }
}

TEST(MessagingListTest, FilesOfADirectoryAreOneList) {
  TempDir dir("messaging_list_");
  std::string error;
  ASSERT_TRUE(
      dir.WriteFile("a.csv", std::string(kHeader) + "chat,a.example.test,443,tcp,,\n", &error))
      << error;
  ASSERT_TRUE(
      dir.WriteFile("b.csv", std::string(kHeader) + "mail,m.example.test,25,tcp,,\n", &error))
      << error;
  ASSERT_TRUE(dir.WriteFile("README.md", "not a list\n", &error)) << error;
  auto list = ReadMessagingLists(dir.path());
  ASSERT_TRUE(list.ok()) << list.error();
  EXPECT_EQ(list->Services(), (std::vector<std::string>{"chat", "mail"}));
  EXPECT_EQ(list->files, (std::vector<std::string>{dir.Join("a.csv"), dir.Join("b.csv")}));

  ASSERT_TRUE(
      dir.WriteFile("c.csv", std::string(kHeader) + "chat,a.example.test,443,tls,,\n", &error))
      << error;
  list = ReadMessagingLists(dir.path());
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.error(), dir.Join("c.csv") +
                              ":2: row: repeats the service, endpoint and port of " +
                              dir.Join("a.csv") + ":2");

  auto missing = ReadMessagingLists(dir.Join("nothing"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error(), dir.Join("nothing") + ": no such directory");
  TempDir bare("messaging_list_bare_");
  auto none = ReadMessagingLists(bare.path());
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error(), bare.path() + ": no messaging lists (*.csv)");
  EXPECT_EQ(MessagingListDir("/d"), "/d/messaging");
  EXPECT_EQ(MessagingListDir(""), "testlists/messaging");
}

// The names of the lab's endpoints file, which serves the real names in the lab.
std::set<std::string> LabNames() {
  const std::string text =
      test_support::ReadFileOrFail(test_support::SourceDir() + "/tests/lab/endpoints.csv");
  std::set<std::string> names;
  for (const auto& record : ParseCsv(text).records) {
    if (!record.fields.empty()) names.insert(record.fields[0]);
  }
  return names;
}

TEST(MessagingListTest, TheShippedListIsCleanAndAgreesWithTheExperiments) {
  auto list = ReadMessagingLists(test_support::SourceDir() + "/testlists/messaging");
  ASSERT_TRUE(list.ok()) << list.error();
  const std::vector<std::string> services = list->Services();
  for (const char* service : {"whatsapp", "telegram", "signal", "facebook_messenger", "wechat"}) {
    EXPECT_NE(std::find(services.begin(), services.end(), service), services.end()) << service;
  }
  const std::set<std::string> lab = LabNames();
  std::set<std::string> literals;
  for (const auto& row : list->rows) {
    EXPECT_FALSE(row.notes.empty()) << row.file << ":" << row.line << ": say where it comes from";
    if (IsIpLiteral(row.endpoint)) literals.insert(row.endpoint);
    // The lab serves every name of the services it stands in for.
    if (row.service == "wechat" || row.service == "telegram" || row.service == "whatsapp") {
      if (!IsIpLiteral(row.endpoint)) {
        EXPECT_TRUE(lab.contains(row.endpoint)) << row.endpoint;
      }
    }
  }
  // The only literals are the data centres the telegram experiment measures: tests and
  // the lab map exactly those, so nothing else can leave a test machine.
  const auto& dcs = TelegramOoniDcs();
  EXPECT_EQ(literals, std::set<std::string>(dcs.begin(), dcs.end()));

  // The wechat experiment's hosts are in the list and in the lab.
  std::set<std::string> wechat;
  for (const auto& row : list->RowsOf("wechat")) wechat.insert(row.endpoint);
  std::vector<std::string> hosts = WechatLonglinkHosts();
  hosts.push_back(kWechatShortlinkHost);
  hosts.push_back(ParseUrl(kWechatHttpDnsUrl)->host);
  for (const auto& url : WechatWebUrls()) hosts.push_back(ParseUrl(url)->host);
  for (const auto& host : hosts) {
    EXPECT_TRUE(wechat.contains(host)) << host;
    EXPECT_TRUE(lab.contains(host)) << host;
  }
}

std::vector<std::string> Vigil(std::vector<std::string> args) {
  args.insert(args.begin(), test_support::VigilBinary());
  return args;
}

TEST(MessagingListTest, ListsCheckLintsMessagingLists) {
  TempDir dir("messaging_lint_");
  std::string error;
  ASSERT_TRUE(dir.WriteFile("messaging/good.csv",
                            std::string(kHeader) + "chat,a.example.test,443,tcp,,\n", &error))
      << error;
  // No legend needed: there is no URL list.
  auto r = RunCommand(Vigil({"lists", "check", dir.Join("messaging")}));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("1 file(s), no problems"), std::string::npos) << r.output;

  ASSERT_TRUE(dir.WriteFile("messaging/bad.csv",
                            std::string(kHeader) + "chat,b.example.test,443,tcp|udp,,\n", &error))
      << error;
  r = RunCommand(Vigil({"lists", "check", dir.Join("messaging")}));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find(dir.Join("messaging/bad.csv") +
                          ":2:4: steps: unknown step \"udp\" (known: dns, tcp, tls, http)\n"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("1 problem(s) in 1 of 2 file(s)"), std::string::npos) << r.output;

  // From the repository, the default checks the shipped URL and messaging lists.
  r = RunCommand({"/bin/sh", "-c",
                  "cd '" + test_support::SourceDir() + "' && exec '" + test_support::VigilBinary() +
                      "' lists check"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("no problems"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace vigil
