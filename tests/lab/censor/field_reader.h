// FieldReader: reads a scenario's typed values (strings, booleans, bounded numbers,
// lists, durations, TTLs, IP IDs) out of YAML nodes and collects every error as
// "FILE:LINE: key: reason" rather than stopping at the first, so a scenario author
// fixes a file in one round. The scenario, phase, rule and match parsers all read
// through one. Not thread-safe: one per parse.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "tests/lab/censor/scenario.h"

namespace vigil::lab {

/// A number in decimal or 0x-prefixed hex, all of `s`; nullopt otherwise.
std::optional<uint64_t> ParseUint(const std::string& s);

/// How an error names a node's type: "a mapping", "a list", "nothing", "a scalar".
const char* YamlTypeName(const YAML::Node& n);

/// A scalar with the node it came from, so errors point at the item's own line.
using ScalarItem = std::pair<std::string, YAML::Node>;

class FieldReader {
 public:
  /// Errors name `file`; `base_dir` resolves relative paths inside it.
  FieldReader(std::string file, std::string base_dir)
      : file_(std::move(file)), base_dir_(std::move(base_dir)) {}

  std::vector<std::string>& errors() { return errors_; }
  size_t error_count() const { return errors_.size(); }
  const std::string& base_dir() const { return base_dir_; }

  /// Reports `reason` for `key` at the line of node `at`, or at `line`.
  void Fail(const YAML::Node& at, const std::string& key, const std::string& reason);
  void Fail(int line, const std::string& key, const std::string& reason);

  /// Calls fn(key, key_node, value_node) for each entry of `map`; fn returns false
  /// for a key it does not know, reported with `unknown_reason`. Reports non-scalar
  /// and duplicate keys itself.
  template <typename Fn>
  void ForEachKey(const YAML::Node& map, Fn fn, const std::string& unknown_reason = "unknown key") {
    std::set<std::string> seen;
    for (auto it = map.begin(); it != map.end(); ++it) {
      // Copies: yaml-cpp's iterator hands out a temporary proxy, so a reference to
      // it->first would dangle once this statement ends.
      const YAML::Node k = it->first;
      const YAML::Node v = it->second;
      if (!k.IsScalar()) {
        Fail(k, "key", "expected a scalar key");
        continue;
      }
      std::string key = k.Scalar();
      if (!seen.insert(key).second) {
        Fail(k, key, "duplicate key");
        continue;
      }
      if (!fn(key, k, v)) Fail(k, key, unknown_reason);
    }
  }

  // Each reader below takes the key's node `k` (for errors about a missing value),
  // the key's name and the value `v`. When it cannot set `*out` it reports why, and
  // one that returns bool returns false.

  /// Whether `v` is a scalar (there is no `*out`).
  bool Scalar(const YAML::Node& k, const std::string& key, const YAML::Node& v);
  /// Whether `v` is a mapping (there is no `*out`).
  bool Map(const YAML::Node& k, const std::string& key, const YAML::Node& v);
  /// Any scalar, as written.
  bool String(const YAML::Node& k, const std::string& key, const YAML::Node& v, std::string* out);
  /// true or false.
  bool Bool(const YAML::Node& k, const std::string& key, const YAML::Node& v, bool* out);
  /// A number in [lo, hi], decimal or 0x hex.
  bool Uint(const YAML::Node& k, const std::string& key, const YAML::Node& v, uint64_t lo,
            uint64_t hi, uint64_t* out);
  /// Uint, stored as T (the bounds must fit T).
  template <typename T>
  bool UintAs(const YAML::Node& k, const std::string& key, const YAML::Node& v, uint64_t lo,
              uint64_t hi, T* out) {
    uint64_t n = 0;
    if (!Uint(k, key, v, lo, hi, &n)) return false;
    *out = static_cast<T>(n);
    return true;
  }
  /// A scalar or a non-empty list of scalars.
  bool ScalarList(const YAML::Node& k, const std::string& key, const YAML::Node& v,
                  std::vector<ScalarItem>* out);
  /// A duration such as 500ms, 90s, 2m, in milliseconds.
  bool Duration(const YAML::Node& k, const std::string& key, const YAML::Node& v, int64_t* out);
  /// "random" or a fixed 0..65535.
  void IpId(const YAML::Node& k, const std::string& key, const YAML::Node& v, IpIdSpec* out);
  /// A fixed 1..255 or a random range such as 55-118.
  void Ttl(const YAML::Node& k, const std::string& key, const YAML::Node& v, TtlSpec* out);

  /// Whether `map` has the scalar key `key` (even with a bad value).
  static bool Has(const YAML::Node& map, const std::string& key);
  /// The value of `key` in `map` (its key node in `*key_node`), or an undefined node.
  static YAML::Node Find(const YAML::Node& map, const std::string& key, YAML::Node* key_node);

 private:
  std::string file_;
  std::string base_dir_;
  std::vector<std::string> errors_;
};

}  // namespace vigil::lab
