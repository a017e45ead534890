// The volunteer's config file: JSON at $VIGIL_CONFIG, else
// $XDG_CONFIG_HOME/vigil/config.json, else ~/.config/vigil/config.json. It records the
// informed consent (`vigil onboard`), the upload choice, where measurements go
// (collectors tried in order), the helper and relay, what to test, and limits. Unknown
// keys and bad values are refused with the key and a reason (a misspelt key that was
// silently ignored would leave a volunteer running with settings they did not choose).
// Plain values and pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace vigil {

struct VantageConfig {
  int config_version = 1;
  struct Consent {
    bool informed = false;
    int text_version = 0;     // the consent text's version that was accepted
    std::string accepted_at;  // UTC "2026-12-03T11:22:33Z"
    bool unattended = false;  // accepted with --yes
  } consent;
  bool upload = false;                  // opt-in
  std::vector<std::string> collectors;  // base URLs, tried in order
  std::string helper;                   // control helper URL (also tells the probe its address)
  std::string relay;                    // message relay: https://HOST:PORT (HOST:PORT = https)
  std::string resolver_whoami;          // a name in the helper's whoami zone
  std::vector<std::string> test_lists;  // extra URL lists (Citizen Lab CSV)
  std::vector<std::string> categories;  // category codes; empty: all
  int max_runtime_seconds = 0;          // 0: no limit
  int parallel = 4;                     // measurements in flight
  int per_host = 2;                     // per-host politeness
  std::string asn_db;                   // GeoLite2-ASN-style mmdb
  std::string country_db;               // GeoLite2-Country-style mmdb
  std::string spool_dir;                // empty: $XDG_DATA_HOME/vigil/spool
  std::string results_db;               // empty: $XDG_DATA_HOME/vigil/results.sqlite
  /// The delivery experiment: off until the volunteer acknowledges that it sends
  /// sensitive words across their network (`vigil onboard --delivery`).
  struct Delivery {
    bool enabled = false;
    std::string acknowledged_at;  // UTC, when the volunteer acknowledged it
    std::string transport = "relay-https";
    std::string keywords;     // a keyword list file or folder; empty: testlists/keywords
    std::string mqtt_broker;  // mqtt://HOST:PORT or mqtts://HOST:PORT
    std::string xmpp_server;  // HOST[:PORT]; empty: the accounts' domain
    std::string xmpp_sender, xmpp_sender_password, xmpp_receiver, xmpp_receiver_password;
    int wait_seconds = 8;             // how long a message may take to arrive
    int stateful_wait_seconds = 200;  // how long to wait for a channel a test broke
  } delivery;
};

/// The delivery transports a config may name.
inline constexpr const char* kDeliveryTransports[] = {"relay-tcp", "relay-http", "relay-https",
                                                      "xmpp", "mqtt"};

/// The relay's base URL from the config's "relay" (a URL, or HOST:PORT meaning https).
std::string RelayUrl(const std::string& relay);

/// Where the config is read from when no --config is given.
std::string DefaultConfigPath();

/// $XDG_DATA_HOME/vigil (else ~/.local/share/vigil): the spool and results live there.
std::string DefaultDataHome();

/// Parses a config's text; `path` only names it in messages ("path: key 'x': reason",
/// "path:line:column: malformed JSON: ...").
Result<VantageConfig> ParseConfig(std::string_view json, const std::string& path);

/// Reads and parses a file; a missing file says that `vigil onboard` creates it.
Result<VantageConfig> LoadConfig(const std::string& path);

/// Every key, pretty-printed.
std::string RenderConfig(const VantageConfig& config);

/// Writes durably (mode 0600), creating the directory.
Result<void> SaveConfig(const std::string& path, const VantageConfig& config);

}  // namespace vigil
