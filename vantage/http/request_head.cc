#include "vantage/http/request_head.h"

#include <strings.h>

#include <charconv>

namespace vigil {

namespace {

bool IsTokenChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!IsTokenChar(c)) return false;
  }
  return true;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

// Whether a comma-separated field value lists `token` (Connection: keep-alive, Upgrade).
bool ListsToken(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    const size_t comma = value.find(',');
    if (EqualsIgnoreCase(Trim(value.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace

std::optional<std::string_view> RequestHead::Field(std::string_view name) const {
  for (const auto& [n, v] : fields) {
    if (EqualsIgnoreCase(n, name)) return std::string_view(v);
  }
  return std::nullopt;
}

bool RequestHead::KeepAlive() const {
  const auto connection = Field("Connection");
  if (version_minor == 0) return connection && ListsToken(*connection, "keep-alive");
  return !connection || !ListsToken(*connection, "close");
}

std::optional<size_t> FindHeadEnd(std::string_view bytes) {
  for (size_t i = bytes.find('\n'); i != std::string_view::npos; i = bytes.find('\n', i + 1)) {
    if (i + 1 < bytes.size() && bytes[i + 1] == '\n') return i + 2;
    if (i + 2 < bytes.size() && bytes[i + 1] == '\r' && bytes[i + 2] == '\n') return i + 3;
  }
  return std::nullopt;
}

Result<RequestHead> ParseRequestHead(std::string_view head) {
  RequestHead out;
  // Clients may send empty lines before the request line (RFC 9112 §2.2).
  while (head.starts_with("\r\n") || head.starts_with("\n")) {
    head.remove_prefix(head[0] == '\r' ? 2 : 1);
  }
  bool first = true;
  while (!head.empty()) {
    size_t eol = head.find('\n');
    if (eol == std::string_view::npos)
      return Error{"the request head does not end in a blank line"};
    std::string_view line = head.substr(0, eol);
    head.remove_prefix(eol + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find('\r') != std::string_view::npos || line.find('\0') != std::string_view::npos) {
      return Error{"a stray CR or NUL in the request head"};
    }
    if (first) {
      first = false;
      const size_t sp1 = line.find(' ');
      const size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
      if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
        return Error{"the request line is not METHOD TARGET HTTP/1.x"};
      }
      const std::string_view method = line.substr(0, sp1);
      const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
      const std::string_view version = line.substr(sp2 + 1);
      if (!IsToken(method)) return Error{"the request method is not a token"};
      if (target.empty()) return Error{"the request target is empty"};
      for (unsigned char c : target) {
        if (c <= ' ' || c >= 0x7f)
          return Error{"the request target has a control or non-ASCII byte"};
      }
      if (version != "HTTP/1.1" && version != "HTTP/1.0") {
        return Error{"the request is not HTTP/1.0 or HTTP/1.1"};
      }
      out.method = method;
      out.target = target;
      out.version_minor = version.back() - '0';
      continue;
    }
    if (line.empty()) {
      if (!head.empty()) return Error{"bytes after the request head's blank line"};
      return out;
    }
    if (line.front() == ' ' || line.front() == '\t') {
      return Error{"an obsolete folded header line"};
    }
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) return Error{"a header line without a colon"};
    const std::string_view name = line.substr(0, colon);
    if (!IsToken(name)) return Error{"a header field name that is not a token"};
    out.fields.emplace_back(std::string(name), std::string(Trim(line.substr(colon + 1))));
  }
  return Error{first ? "an empty request" : "the request head does not end in a blank line"};
}

Result<size_t> RequestBodyLength(const RequestHead& head) {
  if (head.Field("Transfer-Encoding")) {
    return Error{"Transfer-Encoding request bodies are not accepted; send Content-Length"};
  }
  std::optional<size_t> length;
  for (const auto& [name, value] : head.fields) {
    if (!EqualsIgnoreCase(name, "Content-Length")) continue;
    size_t n = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
    if (ec != std::errc() || end != value.data() + value.size() || value.empty()) {
      return Error{"Content-Length is not a number"};
    }
    if (length && *length != n) return Error{"two different Content-Length values"};
    length = n;
  }
  return length.value_or(0);
}

}  // namespace vigil
