// Summary: read access to a measurement's summary keys (ExtractedMeasurement's
// summary_json: OONI's test_keys verdicts such as "blocking" or "telegram_tcp_blocking",
// and ours, x_*), parsed once per measurement. A missing key, a key of another type and
// an unparsable summary all read as absent. The parser is per thread; a Summary and the
// elements it hands out live no longer than the text it was made from and are used on
// the thread that made them.
#pragma once

#include <simdjson.h>

#include <optional>
#include <string>
#include <string_view>

namespace vigil::analysis {

class Summary {
 public:
  /// Parses `text` (a JSON object); anything else leaves the summary empty.
  explicit Summary(const std::string& text);

  /// True when the text was a JSON object.
  bool ok() const { return ok_; }

  /// The value of a top-level key.
  std::optional<simdjson::dom::element> Get(std::string_view key) const {
    if (!ok_) return std::nullopt;
    auto v = root_.get_object().value_unsafe()[key];
    if (v.error() != simdjson::SUCCESS) return std::nullopt;
    return v.value_unsafe();
  }
  bool Has(std::string_view key) const { return Get(key).has_value(); }
  bool IsNull(std::string_view key) const {
    auto v = Get(key);
    return v && v->is_null();
  }
  /// A top-level string, or nullopt (absent, null or not a string).
  std::optional<std::string_view> Str(std::string_view key) const { return StrOf(Get(key)); }
  /// A top-level boolean, or nullopt (absent, null or not a boolean).
  std::optional<bool> Bool(std::string_view key) const {
    auto v = Get(key);
    if (!v || !v->is_bool()) return std::nullopt;
    return v->get_bool().value_unsafe();
  }

  /// `v` as a string, or nullopt.
  static std::optional<std::string_view> StrOf(std::optional<simdjson::dom::element> v) {
    if (!v || !v->is_string()) return std::nullopt;
    return v->get_string().value_unsafe();
  }
  /// The field `key` of the object `v`, or nullopt.
  static std::optional<simdjson::dom::element> Field(std::optional<simdjson::dom::element> v,
                                                     std::string_view key) {
    if (!v || !v->is_object()) return std::nullopt;
    auto f = v->get_object().value_unsafe()[key];
    if (f.error() != simdjson::SUCCESS) return std::nullopt;
    return f.value_unsafe();
  }

 private:
  simdjson::dom::element root_;
  bool ok_ = false;
};

/// True for a boolean that is present and true.
inline bool IsTrue(std::optional<bool> b) { return b && *b; }
/// True for a string that is present and equals `want`.
inline bool IsStr(std::optional<std::string_view> s, std::string_view want) {
  return s && *s == want;
}

}  // namespace vigil::analysis
