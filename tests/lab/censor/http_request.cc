#include "tests/lab/censor/http_request.h"

#include <string_view>

#include "tests/lab/censor/name_pattern.h"

namespace vigil::lab {
namespace {

constexpr size_t kMaxHeaderBytes = 8 * 1024;

bool IsToken(std::string_view s) {
  if (s.empty() || s.size() > 16) return false;
  for (char c : s) {
    if (c < 'A' || c > 'Z') return false;
  }
  return true;
}

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

}  // namespace

HttpRequestInfo ParseHttpRequest(std::span<const uint8_t> stream) {
  HttpRequestInfo info;
  std::string_view text(reinterpret_cast<const char*>(stream.data()),
                        std::min(stream.size(), kMaxHeaderBytes));
  // The method decides early whether this is HTTP at all, so a TLS or binary stream
  // is classified on its first bytes.
  size_t sp = text.find(' ');
  std::string_view method = text.substr(0, sp == std::string_view::npos ? text.size() : sp);
  if (sp == std::string_view::npos) {
    if (method.size() > 16) return info;
    for (char c : method) {
      if (c < 'A' || c > 'Z') return info;
    }
    info.status = HttpStatus::kNeedMore;
    return info;
  }
  if (!IsToken(method)) return info;
  info.method = std::string(method);
  size_t eol = text.find('\n');
  if (eol == std::string_view::npos) {
    info.status = text.size() >= kMaxHeaderBytes ? HttpStatus::kNotHttp : HttpStatus::kNeedMore;
    return info;
  }
  std::string_view line = Trim(text.substr(sp + 1, eol - sp - 1));
  size_t sp2 = line.rfind(' ');
  if (sp2 == std::string_view::npos || !line.substr(sp2 + 1).starts_with("HTTP/")) return info;
  info.path = std::string(line.substr(0, sp2));
  size_t pos = eol + 1;
  while (true) {
    size_t next = text.find('\n', pos);
    if (next == std::string_view::npos) {
      // Headers cut at our bound count as complete: decide with what was seen.
      info.status = text.size() >= kMaxHeaderBytes ? HttpStatus::kFound : HttpStatus::kNeedMore;
      return info;
    }
    std::string_view header = Trim(text.substr(pos, next - pos));
    pos = next + 1;
    if (header.empty()) break;
    size_t colon = header.find(':');
    if (colon == std::string_view::npos) continue;
    if (info.host.empty() && IEquals(Trim(header.substr(0, colon)), "host")) {
      std::string_view host = Trim(header.substr(colon + 1));
      if (!host.empty() && host.front() == '[') {
        size_t close = host.find(']');
        host = host.substr(0, close == std::string_view::npos ? host.size() : close + 1);
      } else {
        host = host.substr(0, host.find(':'));
      }
      info.host = NormalizeDomain(host);
    }
  }
  info.status = HttpStatus::kFound;
  return info;
}

}  // namespace vigil::lab
