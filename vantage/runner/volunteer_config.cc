#include "vantage/runner/volunteer_config.h"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "base/host_port.h"
#include "base/whole_file.h"
#include "probe/http/url.h"
#include "vantage/base/durable_file.h"

namespace vigil {
namespace {

using Json = nlohmann::ordered_json;

std::string FromHome(const char* xdg, const char* fallback) {
  if (const char* v = std::getenv(xdg); v && *v) return std::string(v) + "/vigil";
  if (const char* home = std::getenv("HOME"); home && *home)
    return std::string(home) + fallback + "/vigil";
  return ".vigil";
}

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

// Reads one object's keys into fields, refusing what it does not know.
class Reader {
 public:
  Reader(const Json& object, std::string path, std::string prefix)
      : object_(object), path_(std::move(path)), prefix_(std::move(prefix)) {}

  Result<void> CheckKeys(const std::vector<std::string>& known) const {
    for (const auto& [key, value] : object_.items()) {
      if (std::find(known.begin(), known.end(), key) != known.end()) continue;
      std::string best;
      size_t best_distance = 3;
      for (const auto& k : known) {
        const size_t d = EditDistance(key, k);
        if (d < best_distance) {
          best_distance = d;
          best = k;
        }
      }
      std::string message = Where(key) + "unknown key";
      if (!best.empty()) message += " (did you mean '" + prefix_ + best + "'?)";
      return Error{message};
    }
    return {};
  }

  std::string Where(const std::string& key) const {
    return path_ + ": key '" + prefix_ + key + "': ";
  }

  Result<void> Bool(const char* key, bool* out) const {
    auto it = object_.find(key);
    if (it == object_.end()) return {};
    if (!it->is_boolean()) return Error{Where(key) + "expected true or false"};
    *out = it->get<bool>();
    return {};
  }
  Result<void> Int(const char* key, int* out, int min, int max) const {
    auto it = object_.find(key);
    if (it == object_.end()) return {};
    if (!it->is_number_integer()) return Error{Where(key) + "expected a whole number"};
    const auto v = it->get<int64_t>();
    if (v < min || v > max) {
      return Error{Where(key) + std::to_string(v) + " is out of range (" + std::to_string(min) +
                   ".." + std::to_string(max) + ")"};
    }
    *out = static_cast<int>(v);
    return {};
  }
  Result<void> String(const char* key, std::string* out) const {
    auto it = object_.find(key);
    if (it == object_.end()) return {};
    if (!it->is_string()) return Error{Where(key) + "expected a string"};
    *out = it->get<std::string>();
    return {};
  }
  Result<void> Strings(const char* key, std::vector<std::string>* out) const {
    auto it = object_.find(key);
    if (it == object_.end()) return {};
    if (!it->is_array()) return Error{Where(key) + "expected a list of strings"};
    out->clear();
    for (size_t i = 0; i < it->size(); ++i) {
      if (!(*it)[i].is_string()) {
        return Error{path_ + ": key '" + prefix_ + key + "[" + std::to_string(i) +
                     "]': expected a string"};
      }
      out->push_back((*it)[i].get<std::string>());
    }
    return {};
  }

 private:
  const Json& object_;
  std::string path_, prefix_;
};

Result<void> CheckHttpUrl(const std::string& path, const std::string& key,
                          const std::string& value) {
  auto url = ParseUrl(value);
  if (!url.ok() || url->host.empty()) {
    return Error{path + ": key '" + key + "': '" + value +
                 "' is not an http:// or https:// URL with a host"};
  }
  return {};
}

std::string LineColumn(std::string_view text, size_t offset) {
  size_t line = 1, column = 1;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return std::to_string(line) + ":" + std::to_string(column);
}

#define VIGIL_TRY(expr)                                                 \
  do {                                                                  \
    auto vigil_try_result = (expr);                                     \
    if (!vigil_try_result.ok()) return Error{vigil_try_result.error()}; \
  } while (0)

}  // namespace

std::string DefaultConfigPath() {
  if (const char* v = std::getenv("VIGIL_CONFIG"); v && *v) return v;
  return FromHome("XDG_CONFIG_HOME", "/.config") + "/config.json";
}

std::string DefaultDataHome() { return FromHome("XDG_DATA_HOME", "/.local/share"); }

Result<VantageConfig> ParseConfig(std::string_view text, const std::string& path) {
  Json json;
  try {
    json = Json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    // nlohmann's message: "[json.exception.parse_error.101] parse error at line 3,
    // column 17: syntax error while parsing ...": keep what follows the position.
    const std::string what = e.what();
    const size_t reason = what.find(": ", what.find("column"));
    return Error{path + ":" + LineColumn(text, e.byte > 0 ? e.byte - 1 : 0) + ": malformed JSON" +
                 (reason != std::string::npos ? what.substr(reason) : "")};
  }
  if (!json.is_object()) return Error{path + ": expected a JSON object"};
  VantageConfig c;
  Reader top(json, path, "");
  VIGIL_TRY(top.CheckKeys({"config_version", "consent", "upload", "collectors", "helper", "relay",
                           "resolver_whoami", "test_lists", "categories", "max_runtime_seconds",
                           "parallel", "per_host", "asn_db", "country_db", "spool_dir",
                           "results_db", "delivery"}));
  if (auto v = json.find("config_version");
      v != json.end() && v->is_number_integer() && v->get<int64_t>() > 1) {
    return Error{top.Where("config_version") + "written by a newer vigil (version " +
                 std::to_string(v->get<int64_t>()) + "); upgrade vigil to read it"};
  }
  VIGIL_TRY(top.Int("config_version", &c.config_version, 1, 1));
  if (auto it = json.find("consent"); it != json.end()) {
    if (!it->is_object()) return Error{top.Where("consent") + "expected an object"};
    Reader consent(*it, path, "consent.");
    VIGIL_TRY(consent.CheckKeys({"informed", "text_version", "accepted_at", "unattended"}));
    VIGIL_TRY(consent.Bool("informed", &c.consent.informed));
    VIGIL_TRY(consent.Int("text_version", &c.consent.text_version, 0, 1000));
    VIGIL_TRY(consent.String("accepted_at", &c.consent.accepted_at));
    VIGIL_TRY(consent.Bool("unattended", &c.consent.unattended));
  }
  VIGIL_TRY(top.Bool("upload", &c.upload));
  VIGIL_TRY(top.Strings("collectors", &c.collectors));
  for (size_t i = 0; i < c.collectors.size(); ++i) {
    VIGIL_TRY(CheckHttpUrl(path, "collectors[" + std::to_string(i) + "]", c.collectors[i]));
  }
  VIGIL_TRY(top.String("helper", &c.helper));
  if (!c.helper.empty()) VIGIL_TRY(CheckHttpUrl(path, "helper", c.helper));
  VIGIL_TRY(top.String("relay", &c.relay));
  VIGIL_TRY(top.String("resolver_whoami", &c.resolver_whoami));
  if (!c.relay.empty()) {
    if (c.relay.find("://") != std::string::npos) {
      VIGIL_TRY(CheckHttpUrl(path, "relay", c.relay));
    } else {
      auto relay = ParseHostPort(c.relay);
      if (!relay.ok() || relay->port == 0) {
        return Error{top.Where("relay") +
                     "expected https://HOST:PORT, http://HOST:PORT or HOST:PORT"};
      }
    }
  }
  if (auto it = json.find("delivery"); it != json.end()) {
    if (!it->is_object()) return Error{top.Where("delivery") + "expected an object"};
    Reader d(*it, path, "delivery.");
    auto& o = c.delivery;
    VIGIL_TRY(d.CheckKeys({"enabled", "acknowledged_at", "transport", "keywords", "mqtt_broker",
                           "xmpp_server", "xmpp_sender", "xmpp_sender_password", "xmpp_receiver",
                           "xmpp_receiver_password", "wait_seconds", "stateful_wait_seconds"}));
    VIGIL_TRY(d.Bool("enabled", &o.enabled));
    VIGIL_TRY(d.String("acknowledged_at", &o.acknowledged_at));
    VIGIL_TRY(d.String("transport", &o.transport));
    VIGIL_TRY(d.String("keywords", &o.keywords));
    VIGIL_TRY(d.String("mqtt_broker", &o.mqtt_broker));
    VIGIL_TRY(d.String("xmpp_server", &o.xmpp_server));
    VIGIL_TRY(d.String("xmpp_sender", &o.xmpp_sender));
    VIGIL_TRY(d.String("xmpp_sender_password", &o.xmpp_sender_password));
    VIGIL_TRY(d.String("xmpp_receiver", &o.xmpp_receiver));
    VIGIL_TRY(d.String("xmpp_receiver_password", &o.xmpp_receiver_password));
    VIGIL_TRY(d.Int("wait_seconds", &o.wait_seconds, 1, 600));
    VIGIL_TRY(d.Int("stateful_wait_seconds", &o.stateful_wait_seconds, 0, 3600));
    bool known = false;
    for (const char* t : kDeliveryTransports) known = known || o.transport == t;
    if (!known) {
      return Error{d.Where("transport") + "'" + o.transport +
                   "' is not a transport (relay-tcp, relay-http, relay-https, xmpp, mqtt)"};
    }
    if (o.enabled && o.acknowledged_at.empty()) {
      return Error{d.Where("enabled") +
                   "needs delivery.acknowledged_at: run `vigil onboard --delivery`, which "
                   "explains what the delivery tests send"};
    }
  }
  VIGIL_TRY(top.Strings("test_lists", &c.test_lists));
  VIGIL_TRY(top.Strings("categories", &c.categories));
  for (size_t i = 0; i < c.categories.size(); ++i) {
    const std::string& code = c.categories[i];
    const bool good = code.size() >= 2 && code.size() <= 8 &&
                      std::all_of(code.begin(), code.end(), [](unsigned char ch) {
                        return std::isupper(ch) || std::isdigit(ch);
                      });
    if (!good) {
      return Error{path + ": key 'categories[" + std::to_string(i) + "]': '" + code +
                   "' is not a category code (2-8 capital letters or digits, e.g. COMT)"};
    }
  }
  VIGIL_TRY(top.Int("max_runtime_seconds", &c.max_runtime_seconds, 0, 7 * 24 * 3600));
  VIGIL_TRY(top.Int("parallel", &c.parallel, 1, 1024));
  VIGIL_TRY(top.Int("per_host", &c.per_host, 1, 64));
  VIGIL_TRY(top.String("asn_db", &c.asn_db));
  VIGIL_TRY(top.String("country_db", &c.country_db));
  VIGIL_TRY(top.String("spool_dir", &c.spool_dir));
  VIGIL_TRY(top.String("results_db", &c.results_db));
  return c;
}

std::string RelayUrl(const std::string& relay) {
  if (relay.empty() || relay.find("://") != std::string::npos) return relay;
  return "https://" + relay;
}

Result<VantageConfig> LoadConfig(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return Error{path + ": no config yet: `vigil onboard` creates it"};
    return Error{path + ": " + std::strerror(errno)};
  }
  auto text = ReadWholeFile(path);
  if (!text.ok()) return Error{text.error()};
  return ParseConfig(*text, path);
}

std::string RenderConfig(const VantageConfig& c) {
  Json json{{"config_version", c.config_version},
            {"consent",
             {{"informed", c.consent.informed},
              {"text_version", c.consent.text_version},
              {"accepted_at", c.consent.accepted_at},
              {"unattended", c.consent.unattended}}},
            {"upload", c.upload},
            {"collectors", c.collectors},
            {"helper", c.helper},
            {"relay", c.relay},
            {"resolver_whoami", c.resolver_whoami},
            {"test_lists", c.test_lists},
            {"categories", c.categories},
            {"max_runtime_seconds", c.max_runtime_seconds},
            {"parallel", c.parallel},
            {"per_host", c.per_host},
            {"asn_db", c.asn_db},
            {"country_db", c.country_db},
            {"spool_dir", c.spool_dir},
            {"results_db", c.results_db},
            {"delivery",
             {{"enabled", c.delivery.enabled},
              {"acknowledged_at", c.delivery.acknowledged_at},
              {"transport", c.delivery.transport},
              {"keywords", c.delivery.keywords},
              {"mqtt_broker", c.delivery.mqtt_broker},
              {"xmpp_server", c.delivery.xmpp_server},
              {"xmpp_sender", c.delivery.xmpp_sender},
              {"xmpp_sender_password", c.delivery.xmpp_sender_password},
              {"xmpp_receiver", c.delivery.xmpp_receiver},
              {"xmpp_receiver_password", c.delivery.xmpp_receiver_password},
              {"wait_seconds", c.delivery.wait_seconds},
              {"stateful_wait_seconds", c.delivery.stateful_wait_seconds}}}};
  // A path that is not UTF-8 is written with U+FFFD rather than refused with an exception.
  return json.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

Result<void> SaveConfig(const std::string& path, const VantageConfig& config) {
  return WriteFileDurably(path, RenderConfig(config));
}

}  // namespace vigil
