#include "vantage/runner/informed_consent.h"

#include <sys/stat.h>

#include <chrono>
#include <ctime>

#include "base/utc_time.h"

namespace vigil {
namespace {

struct Question {
  const char* text;
  bool answer;
  const char* why;
};

const Question kQuiz[] = {
    {"If I run vigil, anyone monitoring my internet activity (my ISP, my government, my "
     "employer) will be able to see that I am running it.",
     true,
     "vigil's tests are visible on the network: an observer can see which sites and apps are "
     "tested and can tell that a measurement tool is running."},
    {"The measurements vigil uploads are published openly and include my network (ASN), my "
     "country and the time of each test, but not my IP address.",
     true,
     "uploaded measurements are open data; they carry the network and country, and vigil "
     "replaces your IP address before anything is written or sent."},
};

// "true"/"false"/"t"/"f"/"yes"/"no"/"y"/"n"; nullopt for anything else.
std::optional<bool> ParseAnswer(std::string line) {
  for (auto& c : line) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.pop_back();
  while (!line.empty() && std::isspace(static_cast<unsigned char>(line.front()))) line.erase(0, 1);
  if (line == "true" || line == "t" || line == "yes" || line == "y") return true;
  if (line == "false" || line == "f" || line == "no" || line == "n") return false;
  return std::nullopt;
}

}  // namespace

const std::string& ConsentText() {
  static const std::string kText =
      "Before you run vigil, please read this.\n"
      "\n"
      "What vigil does. It tests whether websites and messaging apps (WhatsApp, Telegram,\n"
      "Signal, Facebook Messenger, WeChat and others) are reachable from your network, and\n"
      "how they are blocked when they are not.\n"
      "\n"
      "Who can see it. Anyone who watches your internet traffic - your internet provider,\n"
      "your government, your employer - can see that you connect to these services and may\n"
      "be able to tell that you are running a measurement tool.\n"
      "\n"
      "What is tested. The test lists include sites and words that are sensitive, and\n"
      "some that may be illegal where you are (political, religious, LGBTQ+, news, ...).\n"
      "\n"
      "What is published. If you turn uploading on, your measurements are sent to a\n"
      "collector and published as open data. They include your country, your network\n"
      "(ASN and its name), your resolver's network and the time of each test. vigil\n"
      "replaces your IP address wherever it appears before anything is stored or sent.\n"
      "\n"
      "The risk is yours to weigh. In some countries running a tool like this may be\n"
      "risky or illegal. If you are unsure, ask someone you trust before you go on. You\n"
      "can turn uploading off at any time (`vigil onboard --no-upload`), and measurements\n"
      "stay on this machine until they are uploaded.\n";
  return kText;
}

const std::string& DeliveryConsentText() {
  static const std::string kText =
      "The delivery tests are off unless you turn them on.\n"
      "\n"
      "They send messages through a messaging server or vigil's relay and check whether\n"
      "each one arrives. Most of the messages carry words that censors filter: names of\n"
      "banned movements, dates of suppressed events, political slogans (the list is in\n"
      "testlists/keywords/). Anyone who watches this network can see those words cross it\n"
      "when the transport is not encrypted (relay-tcp, relay-http, MQTT without TLS), and\n"
      "the server that carries them sees them always. That is what lets vigil tell whether\n"
      "a censor drops messages for their words; it is also a risk of its own, beyond\n"
      "visiting sites, because sending such words may be watched or punished where you are.\n"
      "Turn the tests off again at any time with `vigil onboard --no-delivery`.\n";
  return kText;
}

Result<void> RequireConsent(const VantageConfig& config, const std::string& path) {
  if (!config.consent.informed) {
    return Error{"no informed consent recorded in " + path +
                 ": run `vigil onboard` first (`vigil onboard --yes` for unattended installs)"};
  }
  if (config.consent.text_version < kConsentTextVersion) {
    return Error{"the consent text changed since you accepted it (version " +
                 std::to_string(config.consent.text_version) + ", now " +
                 std::to_string(kConsentTextVersion) + "): run `vigil onboard` again"};
  }
  return {};
}

int RunOnboard(const OnboardOptions& options, std::istream& in, std::ostream& out,
               std::ostream& err) {
  VantageConfig config;
  struct stat st {};
  if (::stat(options.config_path.c_str(), &st) == 0) {
    auto existing = LoadConfig(options.config_path);
    if (!existing.ok()) {
      err << "vigil onboard: " << existing.error() << " (fix or remove it; it was not changed)\n";
      return 2;
    }
    config = *existing;
  }
  bool upload = options.upload.value_or(config.upload);
  if (options.yes) {
    out << "vigil onboard --yes: accepting the informed consent (text version "
        << kConsentTextVersion << ") on the volunteer's behalf:\n"
        << "  an observer of this network can see that vigil runs and what it tests, including\n"
        << "  sensitive and possibly illegal sites; uploaded results are published with this\n"
        << "  network's country and ASN (never its IP address).\n"
        << "  uploading: " << (upload ? "on" : "off")
        << (options.upload.has_value() || upload ? "" : " (the default; --upload turns it on)")
        << "\n";
  } else {
    out << ConsentText() << "\nA short quiz, to check the above is clear (answer true or false).\n";
    int number = 0;
    for (const Question& q : kQuiz) {
      ++number;
      bool right = false;
      for (int attempt = 0; attempt < 3 && !right; ++attempt) {
        out << "\n" << number << ". " << q.text << "\n   true or false? " << std::flush;
        std::string line;
        if (!std::getline(in, line)) {
          err << "vigil onboard: no answer (end of input): nothing was recorded\n";
          return 2;
        }
        auto answer = ParseAnswer(line);
        if (!answer) {
          out << "   Please answer true or false.\n";
          continue;
        }
        right = *answer == q.answer;
        if (!right) out << "   Not quite: " << q.why << "\n";
      }
      if (!right) {
        err << "vigil onboard: the quiz was not passed: nothing was recorded; read the text again "
               "and rerun `vigil onboard`\n";
        return 2;
      }
    }
    if (!options.upload.has_value()) {
      for (;;) {
        out << "\nUpload your measurements to "
            << (config.collectors.empty() ? "a collector" : config.collectors[0])
            << " so they are published? [y/n] " << std::flush;
        std::string line;
        if (!std::getline(in, line)) {
          err << "vigil onboard: no answer (end of input): nothing was recorded\n";
          return 2;
        }
        auto answer = ParseAnswer(line);
        if (answer) {
          upload = *answer;
          break;
        }
      }
    }
  }
  if (options.delivery.has_value() && *options.delivery) {
    out << "\n" << DeliveryConsentText();
    if (options.yes) {
      out << "vigil onboard --yes --delivery: enabling the delivery tests on the volunteer's "
             "behalf.\n";
    } else {
      out << "\nType \"" << kDeliveryAcknowledgement
          << "\" to enable them (anything else leaves them off): " << std::flush;
      std::string line;
      if (!std::getline(in, line)) {
        err << "vigil onboard: no answer (end of input): nothing was recorded\n";
        return 2;
      }
      if (line != kDeliveryAcknowledgement) {
        err << "vigil onboard: the delivery tests stay off: nothing was recorded\n";
        return 2;
      }
    }
    config.delivery.enabled = true;
    config.delivery.acknowledged_at = FormatUtcNow(kUtcIso8601);
  } else if (options.delivery.has_value()) {
    config.delivery.enabled = false;
  }
  config.consent.informed = true;
  config.consent.text_version = kConsentTextVersion;
  config.consent.accepted_at = FormatUtcNow(kUtcIso8601);
  config.consent.unattended = options.yes;
  config.upload = upload;
  if (!options.collectors.empty()) config.collectors = options.collectors;
  // The collectors given must be valid: render and parse back before saving.
  auto checked = ParseConfig(RenderConfig(config), options.config_path);
  if (!checked.ok()) {
    err << "vigil onboard: " << checked.error() << "\n";
    return 2;
  }
  auto saved = SaveConfig(options.config_path, config);
  if (!saved.ok()) {
    err << "vigil onboard: " << saved.error() << "\n";
    return 1;
  }
  out << "\nConsent recorded in " << options.config_path << "; uploading is "
      << (upload ? "on" : "off") << "; delivery tests are "
      << (config.delivery.enabled ? "on" : "off") << ".\n";
  if (upload && config.collectors.empty()) {
    out << "No collector is configured yet: add one with `vigil onboard --collector URL` "
           "or the config's \"collectors\".\n";
  }
  return 0;
}

}  // namespace vigil
