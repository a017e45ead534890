// Fuzz target for ParseUrl and ResolveReference, which read URLs from test lists
// and Location headers from hostile responses. Besides crashes and sanitizer
// reports, it traps when an accepted URL could break a request line or does not
// read back as itself.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "probe/http/url.h"

namespace vigil {
namespace {

void Check(bool condition) {
  if (!condition) __builtin_trap();
}

void CheckAccepted(const Url& url) {
  Check(url.scheme == "http" || url.scheme == "https");
  Check(!url.host.empty() && url.host.size() <= 255);
  Check(url.port != 0);
  Check(!url.target.empty() && url.target.front() == '/');
  const std::string text = url.ToString();
  // Printable ASCII only: nothing can end or split a request line or a Host header.
  for (char c : text) Check(c > ' ' && c < 0x7f);
  for (char c : url.HostHeader()) Check(c > ' ' && c < 0x7f);
  Result<Url> again = ParseUrl(text);
  Check(again.ok() && *again == url);
}

}  // namespace
}  // namespace vigil

// The input is a URL, or "base\nreference" to resolve one against the other.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  vigil::Result<vigil::Url> url = vigil::ParseUrl(input);
  if (url.ok()) vigil::CheckAccepted(*url);
  vigil::Check(url.ok() || (!url.error().empty() && url.error().find('\n') == std::string::npos));

  std::string_view base_text = "http://a/b/c/d;p?q";
  std::string_view reference = input;
  if (size_t newline = input.find('\n'); newline != std::string_view::npos) {
    base_text = input.substr(0, newline);
    reference = input.substr(newline + 1);
  }
  vigil::Result<vigil::Url> base = vigil::ParseUrl(base_text);
  if (!base.ok()) return 0;
  vigil::Result<vigil::Url> resolved = vigil::ResolveReference(*base, reference);
  if (resolved.ok()) {
    vigil::CheckAccepted(*resolved);
  } else {
    vigil::Check(!resolved.error().empty() && resolved.error().find('\n') == std::string::npos);
  }
  return 0;
}
