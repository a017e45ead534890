#include "vantage/relay/relay_http_api.h"

#include <asio/post.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>

#include "base/base64.h"
#include "base/utf8.h"
#include "probe/experiments/delivery/relay_protocol.h"

namespace vigil::relay {

namespace {

using nlohmann::json;

HttpReply JsonReply(int status, const json& body) {
  return HttpReply{status, body.dump(-1, ' ', false, json::error_handler_t::replace)};
}

HttpReply StatusReply(RelayStatus status) {
  HttpReply reply = JsonError(HttpStatusOf(status), std::string(ReasonOf(status)));
  if (status == RelayStatus::kBusy) reply.extra_headers = "Retry-After: 1\r\n";
  if (status == RelayStatus::kUnauthorized) reply.extra_headers = "WWW-Authenticate: Bearer\r\n";
  return reply;
}

bool IsHex(std::string_view text) {
  return !text.empty() && text.size() <= 64 &&
         text.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

// What a path names: the info, the sessions, one session, or its messages.
struct Route {
  enum Kind { kNone, kInfo, kSessions, kSession, kMessages } kind = kNone;
  std::string_view id;
};

Route RouteOf(std::string_view path) {
  if (path == kInfoPath) return {Route::kInfo, {}};
  if (path == kSessionsPath) return {Route::kSessions, {}};
  if (!path.starts_with(kSessionsPath) || path.size() <= kSessionsPath.size() ||
      path[kSessionsPath.size()] != '/') {
    return {};
  }
  std::string_view rest = path.substr(kSessionsPath.size() + 1);
  const size_t slash = rest.find('/');
  const std::string_view id = rest.substr(0, slash);
  if (!IsHex(id)) return {};
  if (slash == std::string_view::npos) return {Route::kSession, id};
  if (rest.substr(slash) == "/messages") return {Route::kMessages, id};
  return {};
}

// The methods each route takes, for 405's Allow.
std::string_view AllowedMethods(Route::Kind kind) {
  switch (kind) {
    case Route::kInfo:
      return "GET";
    case Route::kSessions:
      return "POST";
    case Route::kSession:
      return "DELETE";
    case Route::kMessages:
      return "GET, POST";
    case Route::kNone:
      break;
  }
  return "";
}

std::string_view BearerToken(const RequestHead& head) {
  auto field = head.Field("Authorization");
  if (!field) return {};
  std::string_view value = *field;
  constexpr std::string_view kScheme = "bearer ";
  if (value.size() <= kScheme.size()) return {};
  for (size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(value[i])) != kScheme[i]) return {};
  }
  value.remove_prefix(kScheme.size());
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  return value;
}

// The value of `key` in a query string ("a=1&b=2"), if present.
std::optional<std::string_view> QueryValue(std::string_view query, std::string_view key) {
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const size_t eq = pair.find('=');
    if (pair.substr(0, eq) == key) {
      return eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

std::optional<uint64_t> ParseCount(std::string_view text) {
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

// Seconds as a decimal ("2", "0.5"), at least 0.
std::optional<double> ParseSeconds(std::string_view text) {
  if (text.empty() || text.size() > 32 ||
      text.find_first_not_of("0123456789.") != std::string_view::npos) {
    return std::nullopt;
  }
  const std::string copy(text);
  char* end = nullptr;
  const double value = std::strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size() || !std::isfinite(value)) return std::nullopt;
  return value;
}

json MessagesJson(const std::vector<StoredMessage>& messages, uint64_t next) {
  json list = json::array();
  for (const auto& m : messages) {
    if (IsValidUtf8(m.body)) {
      list.push_back({{"seq", m.seq}, {"body", m.body}});
    } else {
      list.push_back({{"seq", m.seq}, {"body_base64", Base64Encode(m.body)}});
    }
  }
  return json{{"messages", std::move(list)}, {"next", next}};
}

// A long poll's timer, which a sender's wake-up cancels on the poll's own loop.
struct Poll {
  explicit Poll(const asio::any_io_executor& executor) : timer(executor) {}
  asio::steady_timer timer;
  bool woken = false;
};

// Takes back the wake-up however the poll ends (its loop may be stopped mid-wait).
struct Watching {
  SessionStore& store;
  std::string id;
  uint64_t watch;
  ~Watching() {
    if (watch != 0) store.Unwatch(id, watch);
  }
};

}  // namespace

std::optional<HttpReply> RelayHttpApi::Admit(const RequestHead& head, std::string_view path) const {
  const Route route = RouteOf(path);
  if (route.kind == Route::kNone) return JsonError(404, "no such endpoint");
  const std::string_view allowed = AllowedMethods(route.kind);
  bool ok = false;
  for (std::string_view rest = allowed; !rest.empty();) {
    const size_t comma = rest.find(", ");
    if (rest.substr(0, comma) == head.method) ok = true;
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 2);
  }
  if (!ok) {
    HttpReply reply = JsonError(405, "method not allowed: " + std::string(allowed));
    reply.extra_headers = "Allow: " + std::string(allowed) + "\r\n";
    return reply;
  }
  if (auto encoding = head.Field("Content-Encoding"); encoding && *encoding != "identity") {
    return JsonError(415, "request bodies must not be encoded");
  }
  // A message over the limit is refused with the reason the line protocol gives it.
  if (auto length = RequestBodyLength(head);
      length.ok() && *length > store_.limits().max_message_bytes) {
    return StatusReply(RelayStatus::kTooLong);
  }
  return std::nullopt;
}

asio::awaitable<HttpReply> RelayHttpApi::Handle(const ServerRequest& request) {
  const Route route = RouteOf(request.path);
  const RelayLimits& limits = store_.limits();
  if (route.kind == Route::kInfo) {
    auto port = [](std::optional<uint16_t> p) { return p ? json(*p) : json(nullptr); };
    co_return JsonReply(200, json{{"version", kProtocolVersion},
                                  {"tcp_port", port(info_.tcp_port)},
                                  {"http_port", port(info_.http_port)},
                                  {"https_port", port(info_.https_port)},
                                  {"max_message_bytes", limits.max_message_bytes},
                                  {"session_ttl_s", limits.session_ttl.count()}});
  }
  if (route.kind == Route::kSessions) {
    NewSession session;
    const RelayStatus status = store_.Create(&session);
    if (status != RelayStatus::kOk) co_return StatusReply(status);
    co_return JsonReply(201, json{{"session", session.id},
                                  {"send_token", session.send_token},
                                  {"receive_token", session.receive_token},
                                  {"expires_in", limits.session_ttl.count()}});
  }
  const std::string_view token = BearerToken(request.head);
  if (token.empty()) co_return StatusReply(RelayStatus::kUnauthorized);
  const std::string id(route.id);
  if (route.kind == Route::kSession) {
    const RelayStatus status = store_.Delete(id, token);
    if (status != RelayStatus::kOk) co_return StatusReply(status);
    co_return HttpReply{204, ""};
  }
  if (request.head.method == "POST") {
    uint64_t seq = 0;
    const RelayStatus status = store_.Send(id, token, request.body, &seq);
    if (status != RelayStatus::kOk) co_return StatusReply(status);
    co_return JsonReply(201, json{{"seq", seq}});
  }

  // GET messages: ?after=N&wait=S.
  uint64_t after = 0;
  if (auto text = QueryValue(request.query, "after")) {
    auto value = ParseCount(*text);
    if (!value) co_return JsonError(400, "after: not a message number");
    after = *value;
  }
  double wait = 0;
  if (auto text = QueryValue(request.query, "wait")) {
    auto value = ParseSeconds(*text);
    if (!value) co_return JsonError(400, "wait: not a number of seconds");
    wait = std::min<double>(*value, kMaxWaitSeconds);
  }
  if (wait <= 0) {
    ReadResult read = store_.Read(id, token, after);
    if (read.status != RelayStatus::kOk) co_return StatusReply(read.status);
    co_return JsonReply(200, MessagesJson(read.messages, read.next));
  }
  auto executor = co_await asio::this_coro::executor;
  auto poll = std::make_shared<Poll>(executor);
  poll->timer.expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(wait)));
  // The wake-up runs on the sender's thread: it posts to this loop, where the timer
  // lives, and holds the poll weakly so that the poll's loop alone destroys it.
  std::weak_ptr<Poll> weak = poll;
  ReadResult read = store_.Read(id, token, after, [executor, weak] {
    asio::post(executor, [weak] {
      if (auto p = weak.lock()) {
        p->woken = true;
        p->timer.cancel();
      }
    });
  });
  if (read.status != RelayStatus::kOk) co_return StatusReply(read.status);
  if (read.watch != 0) {
    Watching watching{store_, id, read.watch};
    // The wake-up cannot run between Read and this wait: it is posted to this loop,
    // which runs one thread, and runs only once this coroutine is suspended.
    if (!poll->woken) {
      std::error_code ignored;
      co_await poll->timer.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    }
    read = store_.Read(id, token, after);
    if (read.status != RelayStatus::kOk) co_return StatusReply(read.status);
  }
  co_return JsonReply(200, MessagesJson(read.messages, read.next));
}

std::string RelayHttpApi::LogPath(std::string_view path) {
  const Route route = RouteOf(path);
  if (route.kind == Route::kSession) return std::string(kSessionsPath) + "/-";
  if (route.kind == Route::kMessages) return std::string(kSessionsPath) + "/-/messages";
  return std::string(path);
}

}  // namespace vigil::relay
