#include "probe/http/url.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <optional>

#include "base/host_port.h"

namespace vigil {
namespace {

// DNS names are at most 253 bytes; a little slack keeps the message about the
// host rather than about some later DNS failure.
constexpr size_t kMaxHostBytes = 255;

bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
char ToLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string Lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = ToLower(c);
  return out;
}

uint16_t DefaultPort(std::string_view scheme) { return scheme == "https" ? 443 : 80; }

// The components of a URI reference (RFC 3986 Appendix B), fragment dropped.
struct ReferenceParts {
  std::optional<std::string_view> scheme;
  std::optional<std::string_view> authority;
  std::string_view path;
  std::optional<std::string_view> query;
};

ReferenceParts SplitReference(std::string_view ref) {
  ReferenceParts parts;
  if (size_t hash = ref.find('#'); hash != std::string_view::npos) ref = ref.substr(0, hash);
  if (size_t end = ref.find_first_of(":/?");
      end != std::string_view::npos && end > 0 && ref[end] == ':') {
    parts.scheme = ref.substr(0, end);
    ref.remove_prefix(end + 1);
  }
  if (ref.starts_with("//")) {
    ref.remove_prefix(2);
    size_t end = ref.find_first_of("/?");
    parts.authority = ref.substr(0, end);
    ref = end == std::string_view::npos ? std::string_view() : ref.substr(end);
  }
  if (size_t q = ref.find('?'); q != std::string_view::npos) {
    parts.query = ref.substr(q + 1);
    ref = ref.substr(0, q);
  }
  parts.path = ref;
  return parts;
}

// Everything from a URL lands in a request line or a Host header, where a space,
// CR, LF or other control byte would end or split it.
std::optional<Error> CheckBytes(std::string_view text, std::string_view what) {
  if (text.size() > kMaxUrlBytes) {
    return Error{std::string(what) + " longer than " + std::to_string(kMaxUrlBytes) + " bytes"};
  }
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (u == ' ') return Error{std::string(what) + " contains a space"};
    if (u < 0x20 || u == 0x7f) return Error{std::string(what) + " contains a control character"};
  }
  return std::nullopt;
}

// Returns the lowercase scheme, or an error unless it is http or https.
Result<std::string> CheckScheme(std::string_view scheme) {
  bool valid = IsAlpha(scheme[0]);
  for (char c : scheme) {
    valid = valid && (IsAlpha(c) || IsDigit(c) || c == '+' || c == '-' || c == '.');
  }
  if (!valid) return Error{"invalid URL scheme"};
  std::string lower = Lowercase(scheme);
  if (lower != "http" && lower != "https") {
    if (lower.size() > 32) lower = lower.substr(0, 32) + "...";
    return Error{"unsupported URL scheme \"" + lower + "\" (only http and https)"};
  }
  return lower;
}

// Fills host, port and port_explicit of `url` (whose scheme is set) from an authority.
std::optional<Error> ParseAuthority(std::string_view authority, Url* url) {
  if (authority.find('@') != std::string_view::npos) {
    return Error{"URL userinfo (user@host) is not supported"};
  }
  std::string_view host;
  std::string_view rest;  // ":port" or empty
  if (authority.starts_with('[')) {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return Error{"unterminated IPv6 literal in URL"};
    host = authority.substr(1, close - 1);
    rest = authority.substr(close + 1);
    if (!rest.empty() && rest[0] != ':') return Error{"unexpected bytes after IPv6 literal in URL"};
    // inet_pton also rejects zone identifiers, which mean nothing off the local link.
    std::string literal(host);
    in6_addr addr;
    if (inet_pton(AF_INET6, literal.c_str(), &addr) != 1) {
      return Error{"invalid IPv6 literal in URL"};
    }
  } else {
    size_t colon = authority.find(':');
    host = authority.substr(0, colon);
    rest = colon == std::string_view::npos ? std::string_view() : authority.substr(colon);
    // Hosts are looked up in the DNS, so only hostname bytes are meaningful;
    // percent-encoding and sub-delims in a host are how redirect tricks are built.
    for (char c : host) {
      if (static_cast<unsigned char>(c) >= 0x80) {
        return Error{"non-ASCII host in URL (IDNA is not supported)"};
      }
      if (!IsAlpha(c) && !IsDigit(c) && c != '-' && c != '.' && c != '_') {
        return Error{"invalid character in URL host"};
      }
    }
  }
  if (host.empty()) return Error{"empty host in URL"};
  if (host.size() > kMaxHostBytes) {
    return Error{"URL host longer than " + std::to_string(kMaxHostBytes) + " bytes"};
  }
  url->host = Lowercase(host);
  url->port = DefaultPort(url->scheme);
  url->port_explicit = false;
  if (rest.size() > 1) {  // ":" alone means the default port (RFC 3986 §3.2.3)
    std::string_view digits = rest.substr(1);
    uint32_t port = 0;
    bool valid = digits.size() <= 5;
    for (char c : digits) {
      valid = valid && IsDigit(c);
      if (valid) port = port * 10 + static_cast<uint32_t>(c - '0');
    }
    if (!valid || port == 0 || port > 65535) {
      if (digits.size() > 16) digits = digits.substr(0, 16);
      return Error{"invalid port \"" + std::string(digits) + "\" in URL"};
    }
    url->port = static_cast<uint16_t>(port);
    url->port_explicit = true;
  }
  return std::nullopt;
}

// path + "?" + query, with "/" for an empty path. Non-ASCII bytes are
// percent-encoded as browsers do, so the request line stays ASCII.
std::string BuildTarget(std::string_view path, std::optional<std::string_view> query) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string target;
  auto append = [&target](std::string_view part) {
    for (char c : part) {
      auto u = static_cast<unsigned char>(c);
      if (u >= 0x80) {
        target += '%';
        target += kHex[u >> 4];
        target += kHex[u & 0xf];
      } else {
        target += c;
      }
    }
  };
  if (path.empty()) target = "/";
  append(path);
  if (query) {
    target += '?';
    append(*query);
  }
  return target;
}

// RFC 3986 §5.2.4. Removing a segment only ever truncates `out`, so the whole
// walk is linear in the input.
std::string RemoveDotSegments(std::string_view in) {
  std::string out;
  auto drop_last_segment = [&out]() {
    size_t slash = out.rfind('/');
    out.resize(slash == std::string::npos ? 0 : slash);
  };
  while (!in.empty()) {
    if (in.starts_with("../")) {
      in.remove_prefix(3);
    } else if (in.starts_with("./")) {
      in.remove_prefix(2);
    } else if (in.starts_with("/./")) {
      in.remove_prefix(2);
    } else if (in == "/.") {
      out += '/';
      in = {};
    } else if (in.starts_with("/../")) {
      in.remove_prefix(3);
      drop_last_segment();
    } else if (in == "/..") {
      drop_last_segment();
      out += '/';
      in = {};
    } else if (in == "." || in == "..") {
      in = {};
    } else {
      size_t next = in.find('/', 1);
      out += in.substr(0, next);
      in = next == std::string_view::npos ? std::string_view() : in.substr(next);
    }
  }
  // A URL with an authority needs an absolute path.
  if (!out.starts_with('/')) out.insert(0, 1, '/');
  return out;
}

// Percent-encoding can triple a URL and resolution joins two, so the limit is
// checked again on the result: what is accepted must also read back.
Result<Url> Bounded(Url url) {
  if (url.ToString().size() > kMaxUrlBytes) {
    return Error{"URL longer than " + std::to_string(kMaxUrlBytes) + " bytes once normalised"};
  }
  return url;
}

Result<Url> FromAuthority(std::string scheme, std::string_view authority, std::string_view path,
                          std::optional<std::string_view> query) {
  Url url;
  url.scheme = std::move(scheme);
  if (std::optional<Error> error = ParseAuthority(authority, &url)) return *error;
  url.target = BuildTarget(path, query);
  return Bounded(std::move(url));
}

}  // namespace

std::string Url::ToString() const {
  return scheme + "://" + (port_explicit ? JoinHostPort(host, port) : BracketedHost(host)) + target;
}

std::string Url::HostHeader() const {
  return port != DefaultPort(scheme) ? JoinHostPort(host, port) : BracketedHost(host);
}

Result<Url> ParseUrl(std::string_view text) {
  if (std::optional<Error> error = CheckBytes(text, "URL")) return *error;
  if (text.empty()) return Error{"empty URL"};
  ReferenceParts parts = SplitReference(text);
  if (!parts.scheme) return Error{"URL has no scheme"};
  Result<std::string> scheme = CheckScheme(*parts.scheme);
  if (!scheme) return Error{scheme.error()};
  if (!parts.authority) return Error{"URL has no \"//host\" after the scheme"};
  return FromAuthority(std::move(*scheme), *parts.authority, parts.path, parts.query);
}

Result<Url> ResolveReference(const Url& base, std::string_view location) {
  if (std::optional<Error> error = CheckBytes(location, "redirect location")) return *error;
  ReferenceParts parts = SplitReference(location);
  if (parts.scheme) {
    Result<std::string> scheme = CheckScheme(*parts.scheme);
    if (!scheme) return Error{scheme.error()};
    if (parts.authority) {
      return FromAuthority(std::move(*scheme), *parts.authority, RemoveDotSegments(parts.path),
                           parts.query);
    }
    if (*scheme != base.scheme) return Error{"URL has no \"//host\" after the scheme"};
    parts.scheme.reset();
  }
  if (parts.authority) {
    return FromAuthority(base.scheme, *parts.authority, RemoveDotSegments(parts.path), parts.query);
  }

  // Same authority as the base: only the target changes.
  std::string_view base_target = base.target;
  std::optional<std::string_view> base_query;
  if (size_t q = base_target.find('?'); q != std::string_view::npos) {
    base_query = base_target.substr(q + 1);
    base_target = base_target.substr(0, q);
  }
  std::string_view base_path = base_target.starts_with('/') ? base_target : "/";

  Url url = base;
  if (parts.path.empty()) {
    url.target = BuildTarget(base_path, parts.query ? parts.query : base_query);
  } else if (parts.path.starts_with('/')) {
    url.target = BuildTarget(RemoveDotSegments(parts.path), parts.query);
  } else {
    // §5.2.3: everything up to the base's last "/", then the reference.
    std::string merged(base_path.substr(0, base_path.rfind('/') + 1));
    merged += parts.path;
    url.target = BuildTarget(RemoveDotSegments(merged), parts.query);
  }
  return Bounded(std::move(url));
}

}  // namespace vigil
