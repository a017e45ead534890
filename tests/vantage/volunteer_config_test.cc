// The volunteer's config file and informed consent: every key read and written back,
// unknown keys and bad values refused with the key and a reason, the default path from
// the environment; onboarding through its quiz (right, wrong, then right; three wrong;
// end of input), --yes saying what it accepted, existing keys kept, a malformed config
// never overwritten, and RequireConsent.
#include "vantage/runner/volunteer_config.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <sstream>

#include "tests/support/temp_dir.h"
#include "vantage/runner/informed_consent.h"

namespace vigil {
namespace {

TEST(VolunteerConfig, EveryKeyRoundTrips) {
  VantageConfig c;
  c.consent = {true, 1, "2026-12-03T10:00:00Z", true};
  c.upload = true;
  c.collectors = {"https://collector.example.org/", "http://127.0.0.1:8080"};
  c.helper = "http://127.0.0.1:8090";
  c.relay = "relay.example.org:5999";
  c.test_lists = {"/srv/lists/extra.csv"};
  c.categories = {"COMT", "NEWS"};
  c.max_runtime_seconds = 600;
  c.parallel = 16;
  c.per_host = 3;
  c.asn_db = "/var/lib/GeoLite2-ASN.mmdb";
  c.country_db = "/var/lib/GeoLite2-Country.mmdb";
  c.spool_dir = "/var/spool/vigil";
  c.results_db = "/var/lib/vigil/results.sqlite";
  c.delivery.enabled = true;
  c.delivery.acknowledged_at = "2026-12-03T10:00:01Z";
  c.delivery.transport = "xmpp";
  c.delivery.keywords = "/srv/keywords";
  c.delivery.mqtt_broker = "mqtts://mqtt.example.org:8883";
  c.delivery.xmpp_server = "chat.example.org";
  c.delivery.xmpp_sender = "a@chat.example.org";
  c.delivery.xmpp_sender_password = "pa";
  c.delivery.xmpp_receiver = "b@chat.example.org";
  c.delivery.xmpp_receiver_password = "pb";
  c.delivery.wait_seconds = 5;
  c.delivery.stateful_wait_seconds = 30;
  auto back = ParseConfig(RenderConfig(c), "config.json");
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(RenderConfig(*back), RenderConfig(c));
  EXPECT_EQ(back->collectors, c.collectors);
  EXPECT_EQ(back->parallel, 16);
  EXPECT_TRUE(back->consent.unattended);
  EXPECT_EQ(back->delivery.transport, "xmpp");
  EXPECT_EQ(back->delivery.stateful_wait_seconds, 30);
}

TEST(VolunteerConfig, MissingKeysTakeSafeDefaults) {
  auto c = ParseConfig("{}", "config.json");
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_FALSE(c->consent.informed);
  EXPECT_FALSE(c->upload);
  EXPECT_EQ(c->parallel, 4);
  EXPECT_EQ(c->per_host, 2);
  EXPECT_EQ(c->max_runtime_seconds, 0);
  EXPECT_FALSE(c->delivery.enabled) << "sensitive words are sent only when enabled";
}

TEST(VolunteerConfig, BadKeysAndValuesAreNamedWithAReason) {
  struct Case {
    const char* json;
    const char* message;
  };
  const Case cases[] = {
      {R"({"colectors": []})",
       "config.json: key 'colectors': unknown key (did you mean 'collectors'?)"},
      {R"({"consent": {"informd": true}})",
       "key 'consent.informd': unknown key (did you mean 'consent.informed'?)"},
      {R"({"frobnicate": 1})", "key 'frobnicate': unknown key"},
      {R"({"upload": "yes"})", "key 'upload': expected true or false"},
      {R"({"parallel": 0})", "key 'parallel': 0 is out of range (1..1024)"},
      {R"({"parallel": 2.5})", "key 'parallel': expected a whole number"},
      {R"({"collectors": ["ftp://x"]})",
       "key 'collectors[0]': 'ftp://x' is not an http:// or https:// URL"},
      {R"({"collectors": ["http://ok", 3]})", "key 'collectors[1]': expected a string"},
      {R"({"helper": "nonsense"})", "key 'helper': 'nonsense' is not an http"},
      {R"({"categories": ["comt"]})", "key 'categories[0]': 'comt' is not a category code"},
      {R"({"relay": "nohost"})", "key 'relay': expected https://HOST:PORT"},
      {R"({"relay": "host:abc"})", "key 'relay': expected https://HOST:PORT"},
      {R"({"relay": "ftp://host:1"})", "key 'relay': 'ftp://host:1' is not an http"},
      {R"({"delivery": {"enabled": true}})",
       "key 'delivery.enabled': needs delivery.acknowledged_at: run `vigil onboard --delivery`"},
      {R"({"delivery": {"transport": "smtp"}})",
       "key 'delivery.transport': 'smtp' is not a transport"},
      {R"({"delivery": {"wait_seconds": 0}})", "key 'delivery.wait_seconds': 0 is out of range"},
      {R"({"delivery": {"xmpp_sendr": ""}})", "key 'delivery.xmpp_sendr': unknown key"},
      {R"({"config_version": 2})", "key 'config_version': written by a newer vigil"},
      {R"({"consent": []})", "key 'consent': expected an object"},
      {"[1]", "config.json: expected a JSON object"},
      {"{\n  \"upload\": true,\n  \"parallel\": 4,,\n}",
       "config.json:3:17: malformed JSON: syntax error while parsing object key"},
  };
  for (const auto& c : cases) {
    auto parsed = ParseConfig(c.json, "config.json");
    ASSERT_FALSE(parsed.ok()) << c.json;
    EXPECT_NE(parsed.error().find(c.message), std::string::npos)
        << c.json << "\n  got: " << parsed.error();
  }
}

TEST(VolunteerConfig, TheDefaultPathFollowsTheEnvironment) {
  const char* saved_vigil = std::getenv("VIGIL_CONFIG");
  const std::string keep_vigil = saved_vigil ? saved_vigil : "";
  unsetenv("VIGIL_CONFIG");
  setenv("XDG_CONFIG_HOME", "/tmp/xdg-test", 1);
  EXPECT_EQ(DefaultConfigPath(), "/tmp/xdg-test/vigil/config.json");
  unsetenv("XDG_CONFIG_HOME");
  setenv("HOME", "/home/volunteer", 1);
  EXPECT_EQ(DefaultConfigPath(), "/home/volunteer/.config/vigil/config.json");
  setenv("VIGIL_CONFIG", "/etc/vigil.json", 1);
  EXPECT_EQ(DefaultConfigPath(), "/etc/vigil.json");
  if (!keep_vigil.empty())
    setenv("VIGIL_CONFIG", keep_vigil.c_str(), 1);
  else
    unsetenv("VIGIL_CONFIG");
}

TEST(VolunteerConfig, SavedPrivatelyAndReadBack) {
  test_support::TempDir dir("config");
  const std::string path = dir.Join("a/b/config.json");
  VantageConfig c;
  c.upload = true;
  ASSERT_TRUE(SaveConfig(path, c).ok());
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto back = LoadConfig(path);
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_TRUE(back->upload);
  auto missing = LoadConfig(dir.Join("none.json"));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().find("vigil onboard"), std::string::npos) << missing.error();
}

struct Onboarded {
  int status;
  std::string out, err;
};

Onboarded Onboard(const OnboardOptions& options, const std::string& answers) {
  std::istringstream in(answers);
  std::ostringstream out, err;
  const int status = RunOnboard(options, in, out, err);
  return {status, out.str(), err.str()};
}

TEST(InformedConsent, TheQuizRecordsConsentAndTheUploadChoice) {
  test_support::TempDir dir("consent");
  OnboardOptions options;
  options.config_path = dir.Join("config.json");
  auto r = Onboard(options, "true\nyes\ny\n");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("Who can see it"), std::string::npos);
  auto c = LoadConfig(options.config_path);
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_TRUE(c->consent.informed);
  EXPECT_EQ(c->consent.text_version, kConsentTextVersion);
  EXPECT_FALSE(c->consent.unattended);
  EXPECT_EQ(c->consent.accepted_at.size(), 20u) << c->consent.accepted_at;
  EXPECT_TRUE(c->upload);
  EXPECT_TRUE(RequireConsent(*c, options.config_path).ok());
}

TEST(InformedConsent, AWrongAnswerIsExplainedAndAskedAgain) {
  test_support::TempDir dir("consent");
  OnboardOptions options;
  options.config_path = dir.Join("config.json");
  auto r = Onboard(options, "false\nmaybe\ntrue\ntrue\nn\n");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("Not quite"), std::string::npos);
  EXPECT_NE(r.out.find("Please answer true or false"), std::string::npos);
  auto c = LoadConfig(options.config_path);
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->upload);
}

TEST(InformedConsent, ThreeWrongAnswersOrNoAnswerRecordNothing) {
  test_support::TempDir dir("consent");
  OnboardOptions options;
  options.config_path = dir.Join("config.json");
  auto wrong = Onboard(options, "false\nfalse\nfalse\n");
  EXPECT_EQ(wrong.status, 2);
  EXPECT_NE(wrong.err.find("quiz was not passed"), std::string::npos) << wrong.err;
  struct stat st {};
  EXPECT_NE(stat(options.config_path.c_str(), &st), 0) << "nothing may be written";
  auto eof = Onboard(options, "true\n");
  EXPECT_EQ(eof.status, 2);
  EXPECT_NE(eof.err.find("end of input"), std::string::npos) << eof.err;
  EXPECT_NE(stat(options.config_path.c_str(), &st), 0);
}

TEST(InformedConsent, YesSaysWhatItAcceptedAndLeavesUploadsOff) {
  test_support::TempDir dir("consent");
  OnboardOptions options;
  options.config_path = dir.Join("config.json");
  options.yes = true;
  auto r = Onboard(options, "");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("on the volunteer's behalf"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("uploading: off (the default"), std::string::npos) << r.out;
  auto c = LoadConfig(options.config_path);
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->consent.unattended);
  EXPECT_FALSE(c->upload);
}

TEST(InformedConsent, DeliveryTestsNeedTheirOwnAcknowledgementAndCanBeTurnedOff) {
  test_support::TempDir dir("consent");
  OnboardOptions options;
  options.config_path = dir.Join("config.json");
  options.delivery = true;
  // Anything but the words leaves them off, and nothing is recorded.
  auto refused = Onboard(options, "true\ntrue\nn\nyes\n");
  EXPECT_EQ(refused.status, 2);
  EXPECT_NE(refused.out.find("politi"), std::string::npos) << refused.out;
  EXPECT_NE(refused.err.find("stay off"), std::string::npos) << refused.err;
  EXPECT_FALSE(LoadConfig(options.config_path).ok());

  auto accepted =
      Onboard(options, std::string("true\ntrue\nn\n") + kDeliveryAcknowledgement + "\n");
  ASSERT_EQ(accepted.status, 0) << accepted.err;
  auto c = LoadConfig(options.config_path);
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_TRUE(c->delivery.enabled);
  EXPECT_EQ(c->delivery.acknowledged_at.size(), 20u) << c->delivery.acknowledged_at;

  options.delivery = false;
  ASSERT_EQ(Onboard(options, "true\ntrue\nn\n").status, 0);
  c = LoadConfig(options.config_path);
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_FALSE(c->delivery.enabled);
}

TEST(InformedConsent, OtherKeysAreKeptAndAMalformedConfigIsNotOverwritten) {
  test_support::TempDir dir("consent");
  const std::string path = dir.Join("config.json");
  std::string error;
  ASSERT_TRUE(dir.WriteFile("config.json", R"({"parallel": 9, "helper": "http://127.0.0.1:8090"})",
                            &error));
  OnboardOptions options;
  options.config_path = path;
  options.yes = true;
  options.upload = true;
  options.collectors = {"http://127.0.0.1:8080"};
  ASSERT_EQ(Onboard(options, "").status, 0);
  auto c = LoadConfig(path);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->parallel, 9);
  EXPECT_EQ(c->helper, "http://127.0.0.1:8090");
  EXPECT_TRUE(c->upload);
  EXPECT_EQ(c->collectors, std::vector<std::string>{"http://127.0.0.1:8080"});

  ASSERT_TRUE(dir.WriteFile("config.json", R"({"parallel": 9,,})", &error));
  auto bad = Onboard(options, "");
  EXPECT_EQ(bad.status, 2);
  EXPECT_NE(bad.err.find("was not changed"), std::string::npos) << bad.err;
  EXPECT_EQ(test_support::ReadFileOrEmpty(path), R"({"parallel": 9,,})");

  options.collectors = {"gopher://nope"};
  ASSERT_TRUE(dir.WriteFile("config.json", "{}", &error));
  auto bad_url = Onboard(options, "");
  EXPECT_EQ(bad_url.status, 2);
  EXPECT_NE(bad_url.err.find("collectors[0]"), std::string::npos) << bad_url.err;
}

TEST(InformedConsent, RequireConsentNamesTheFixAndAnOutdatedText) {
  VantageConfig c;
  auto none = RequireConsent(c, "/x/config.json");
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().find("/x/config.json: run `vigil onboard` first"), std::string::npos)
      << none.error();
  c.consent.informed = true;
  c.consent.text_version = 0;
  auto old = RequireConsent(c, "/x/config.json");
  ASSERT_FALSE(old.ok());
  EXPECT_NE(old.error().find("consent text changed"), std::string::npos) << old.error();
}

}  // namespace
}  // namespace vigil
