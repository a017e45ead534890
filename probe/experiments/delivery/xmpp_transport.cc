// The XMPP transport over libstrophe.
//
// Why a thread per connection: libstrophe owns its event loop (xmpp_run_once selects on
// its sockets and runs our callbacks inside), blocks in it for a whole TLS handshake,
// and is not thread-safe. So each connection (the sender's, the receiver's) has a
// libstrophe context and a thread of its own, the only one that calls libstrophe for
// it. Coroutines hand it commands through a mutex-guarded queue and read its progress
// (phase, answered pings, arrived messages) under the same mutex every few milliseconds
// on a steady_timer, so the executor never blocks on it. Every wait is bounded on the
// coroutine side: when a call's deadline passes it records generic_timeout_error and
// shuts the socket down, which ends whatever libstrophe was blocked in. The threads block
// SIGPIPE, so that a write to a connection the server dropped fails with EPIPE instead
// of ending the process (libstrophe writes with send(..., 0)).
//
// What libstrophe does not tell, and how the transport learns it:
//  - which step failed and how: the thread keeps a duplicate of each socket (taken in
//    libstrophe's sockopt callback), watches the TCP connect on it itself (SO_ERROR),
//    asks the kernel what became of a lost connection (tcp_fate.h), tells the end of
//    TLS by xmpp_conn_is_secured, and reads three facts off the server's stanzas in
//    libstrophe's debug log ("RECV: <proceed", <stream:features> without <starttls>, a
//    SASL <failure>), since our stanza handlers see nothing before login;
//  - why a certificate failed: the certfail handler gets the verify error's text, which
//    maps back to its X509_V_ERR code.
// libstrophe loads the system store even when it is given a CA file, so with a CA file
// a server the system trusts is accepted too.
//
// A message counts as accepted when the server has answered a ping (XEP-0199, or the
// error a server without it sends) written after it on the same connection: the server
// read the message, and a reset the content provoked has had a round trip to arrive,
// so it is charged to this message (on_send).
#include "probe/experiments/delivery/xmpp_transport.h"

#include <fcntl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <pthread.h>
#include <strophe.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <cctype>
#include <cerrno>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <utility>

#include "base/host_port.h"
#include "probe/experiments/delivery/connection_log.h"
#include "probe/experiments/delivery/delivery_options.h"
#include "probe/experiments/delivery/server_endpoint.h"
#include "probe/experiments/experiment.h"
#include "probe/net/failure.h"
#include "probe/net/tcp_fate.h"
#include "probe/tls/tls_observer.h"

namespace vigil {
namespace {

using Clock = DeliveryClock;

// How often a coroutine looks at a connection thread's progress, and how long the
// thread waits in libstrophe's loop before it looks at its commands: a few milliseconds
// on each message's round trip, against the wakeups of an idle thread.
constexpr std::chrono::milliseconds kPollInterval{5};
constexpr unsigned long kRunOnceMillis = 10;
constexpr int kConnectPollMillis = 10;
constexpr std::chrono::milliseconds kIdleWait{50};

constexpr uint16_t kXmppClientPort = 5222;
constexpr char kPingNamespace[] = "urn:xmpp:ping";
constexpr char kStreamsNamespace[] = "urn:ietf:params:xml:ns:xmpp-streams";
constexpr std::string_view kLoginPingId = "vigil-login";
constexpr std::string_view kAckPingPrefix = "vigil-ack-";

void InitializeLibstropheOnce() {
  static std::once_flag once;
  std::call_once(once, [] { xmpp_initialize(); });
}

// The X509_V_ERR code whose text libstrophe's certfail handler was given: it passes
// X509_verify_cert_error_string(code), never the code.
long VerifyResultFromText(const char* text) {
  for (long code = 1; code < 256; ++code) {
    if (std::strcmp(X509_verify_cert_error_string(code), text) == 0) return code;
  }
  return X509_V_ERR_UNSPECIFIED;
}

std::string BareJid(const std::string& jid) { return jid.substr(0, jid.find('/')); }

std::string JidDomain(const std::string& jid) {
  const std::string bare = BareJid(jid);
  const size_t at = bare.find('@');
  return at == std::string::npos ? bare : bare.substr(at + 1);
}

// JIDs compare without regard to ASCII case (the domain always, the local part under
// every server's nodeprep this transport meets).
bool SameBareJid(const std::string& a, const std::string& b) {
  const std::string x = BareJid(a), y = BareJid(b);
  return x.size() == y.size() && std::equal(x.begin(), x.end(), y.begin(), [](char c, char d) {
           return std::tolower(static_cast<unsigned char>(c)) ==
                  std::tolower(static_cast<unsigned char>(d));
         });
}

bool IsAccountJid(const std::string& jid) {
  const std::string bare = BareJid(jid);
  const size_t at = bare.find('@');
  return at != std::string::npos && at > 0 && at + 1 < bare.size();
}

asio::awaitable<void> Sleep(std::chrono::milliseconds duration) {
  asio::steady_timer timer(co_await asio::this_coro::executor, duration);
  co_await timer.async_wait(asio::use_awaitable);
}

enum class Phase {
  kIdle,        // no connection (none yet, or closed)
  kConnecting,  // TCP connect
  kTls,         // the stream, STARTTLS and the handshake
  kLogin,       // SASL, the resource, presence, and a first ping
  kOnline,
  kClosing,
  kFailed,
};

struct LinkSettings {
  std::string end;  // "send" | "receive"
  std::string jid, password;
  // The other account's bare JID: where the sender's messages go, and the only sender
  // whose messages the receiver takes (a server may send its own, a welcome or a MOTD).
  std::string peer;
  std::string ca_file;
  bool receives = false;
};

class XmppLink;
// The link whose thread this is, for libstrophe's callbacks that carry no user data
// (sockopt, certfail). Set once on each link's own thread.
thread_local XmppLink* t_link = nullptr;

// One account's connection to the server, driven by a thread of its own. The public
// methods are called from the executor, one coroutine at a time; the private ones
// named "Worker..." and the callbacks run on the link's thread.
class XmppLink {
 public:
  XmppLink(LinkSettings settings, ConnectionLog& log) : settings_(std::move(settings)), log_(log) {
    logger_.handler = &XmppLink::OnLog;
    logger_.userdata = this;
    thread_ = std::thread([this] { WorkerLoop(); });
  }

  ~XmppLink() { Stop(); }

  XmppLink(const XmppLink&) = delete;
  XmppLink& operator=(const XmppLink&) = delete;

  bool online() const {
    std::lock_guard lock(mutex_);
    return phase_ == Phase::kOnline;
  }

  /// Starts a new connection to `server`, dropping the previous one.
  void StartConnect(const ServerEndpoint& server) {
    {
      std::lock_guard lock(mutex_);
      ++generation_;
      phase_ = Phase::kConnecting;
      failure_.reset();
      failure_reported_ = false;
      address_ = server.address;
      commands_.push_back({Command::kConnect, generation_, server.ip, server.port, {}, 0});
    }
    wake_.notify_one();
  }

  /// Waits until the connection StartConnect began is logged in (nullopt) or has failed
  /// (its failure); at `deadline`, a timeout of the step it was in.
  asio::awaitable<std::optional<std::string>> AwaitOnline(Clock::time_point deadline) {
    for (;;) {
      {
        std::lock_guard lock(mutex_);
        if (phase_ == Phase::kOnline) co_return std::nullopt;
        if (phase_ == Phase::kFailed) co_return failure_;
        if (phase_ == Phase::kIdle) co_return UnknownFailure("xmpp: connection closed");
      }
      if (Clock::now() >= deadline) co_return TimeOut();
      co_await Sleep(kPollInterval);
    }
  }

  struct Sent {
    std::optional<std::string> failure;
    bool on_send = false;
  };

  /// Sends `text` on the online connection and waits for the ping after it.
  asio::awaitable<Sent> SendMessage(std::string_view text, Clock::time_point deadline) {
    uint64_t id = 0;
    {
      std::lock_guard lock(mutex_);
      if (phase_ != Phase::kOnline) {
        co_return Sent{failure_.value_or(UnknownFailure("xmpp: not connected")), false};
      }
      id = ++last_message_id_;
      commands_.push_back({Command::kSend, generation_, {}, 0, std::string(text), id});
    }
    wake_.notify_one();
    for (;;) {
      {
        std::lock_guard lock(mutex_);
        if (acked_ >= id) co_return Sent{};
        if (phase_ == Phase::kFailed) co_return Sent{failure_, written_ >= id};
        if (phase_ != Phase::kOnline) co_return Sent{UnknownFailure("xmpp: connection closed")};
      }
      if (Clock::now() >= deadline) {
        std::string failure = TimeOut();
        std::lock_guard lock(mutex_);
        co_return Sent{failure, written_ >= id};
      }
      co_await Sleep(kPollInterval);
    }
  }

  /// The failure of the connection if it failed and no TakeFailure returned it yet.
  std::optional<std::string> TakeFailure() {
    std::lock_guard lock(mutex_);
    if (phase_ != Phase::kFailed || failure_reported_) return std::nullopt;
    failure_reported_ = true;
    return failure_;
  }

  /// Waits up to `deadline` for a message when none has arrived; returns what arrived.
  /// Stops early when the connection fails (then TakeFailure says how).
  asio::awaitable<std::vector<ReceivedMessage>> AwaitMessages(Clock::time_point deadline) {
    for (;;) {
      {
        std::lock_guard lock(mutex_);
        if (!inbox_.empty() || phase_ != Phase::kOnline || Clock::now() >= deadline) {
          co_return std::exchange(inbox_, {});
        }
      }
      co_await Sleep(kPollInterval);
    }
  }

  /// Ends the stream when the connection is up (recording "close"), then stops the thread.
  asio::awaitable<void> Close(Clock::time_point deadline) {
    bool closing = false;
    {
      std::lock_guard lock(mutex_);
      if (phase_ == Phase::kOnline) {
        phase_ = Phase::kClosing;
        commands_.push_back({Command::kClose, generation_, {}, 0, {}, 0});
        closing = true;
      }
    }
    wake_.notify_one();
    while (closing) {
      {
        std::lock_guard lock(mutex_);
        if (phase_ != Phase::kClosing) break;
      }
      if (Clock::now() >= deadline) {
        TimeOut();
        break;
      }
      co_await Sleep(kPollInterval);
    }
    Stop();
  }

 private:
  struct Command {
    enum Kind { kConnect, kSend, kClose } kind;
    uint64_t generation;
    std::string ip;
    uint16_t port;
    std::string text;
    uint64_t id;
  };

  static std::string_view Operation(Phase phase, std::string_view end) {
    switch (phase) {
      case Phase::kConnecting:
        return "connect";
      case Phase::kTls:
        return "tls_handshake";
      case Phase::kLogin:
        return "login";
      case Phase::kClosing:
        return "close";
      default:
        return end == "send" ? "send" : "receive";
    }
  }

  // Records the failure of connection `generation` in the step it was in, unless that
  // connection is gone or has already failed. Call with mutex_ held.
  bool FailLocked(uint64_t generation, const std::string& failure) {
    if (generation != generation_ || phase_ == Phase::kFailed || phase_ == Phase::kIdle) {
      return false;
    }
    log_.Record(settings_.end, Operation(phase_, settings_.end), address_, failure);
    phase_ = Phase::kFailed;
    failure_ = failure;
    return true;
  }

  // The coroutine side's deadline passed: the current step times out, and the thread
  // is told to drop the connection (the shutdown ends a handshake libstrophe blocks in).
  std::string TimeOut() {
    std::lock_guard lock(mutex_);
    if (FailLocked(generation_, std::string(kGenericTimeoutError))) {
      abort_ = true;
      if (socket_copy_ >= 0) shutdown(socket_copy_, SHUT_RDWR);
      wake_.notify_one();
    }
    return failure_.value_or(std::string(kGenericTimeoutError));
  }

  void Stop() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
      if (socket_copy_ >= 0) shutdown(socket_copy_, SHUT_RDWR);
    }
    wake_.notify_one();
    if (thread_.joinable()) thread_.join();
  }

  // --- the link's thread ---

  void WorkerLoop() {
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
    t_link = this;
    ctx_ = xmpp_ctx_new(nullptr, &logger_);
    for (;;) {
      std::deque<Command> commands;
      bool abort = false;
      {
        std::unique_lock lock(mutex_);
        if (conn_ == nullptr && commands_.empty() && !stop_) wake_.wait_for(lock, kIdleWait);
        if (stop_) break;
        commands.swap(commands_);
        abort = std::exchange(abort_, false);
      }
      if (abort) WorkerRelease();
      for (Command& command : commands) WorkerHandle(command);
      if (conn_ == nullptr) continue;
      if (CurrentPhase() == Phase::kConnecting) {
        WorkerWatchConnect();
      } else {
        xmpp_run_once(ctx_, kRunOnceMillis);
      }
      WorkerAfterRun();
    }
    WorkerRelease();
    xmpp_ctx_free(ctx_);
    ctx_ = nullptr;
  }

  Phase CurrentPhase() const {
    std::lock_guard lock(mutex_);
    return phase_;
  }

  void WorkerFail(const std::string& failure) {
    std::lock_guard lock(mutex_);
    FailLocked(conn_generation_, failure);
  }

  // Moves connection `conn_generation_` from step `from` to `to`, recording `from` as done.
  void WorkerAdvance(Phase from, Phase to) {
    std::lock_guard lock(mutex_);
    if (conn_generation_ != generation_ || phase_ != from) return;
    log_.Record(settings_.end, Operation(from, settings_.end), address_, std::nullopt);
    phase_ = to;
  }

  void WorkerHandle(const Command& command) {
    switch (command.kind) {
      case Command::kConnect:
        WorkerConnect(command);
        break;
      case Command::kSend:
        WorkerSend(command);
        break;
      case Command::kClose:
        if (conn_ != nullptr && command.generation == conn_generation_) xmpp_disconnect(conn_);
        break;
    }
  }

  void WorkerConnect(const Command& command) {
    WorkerRelease();
    conn_generation_ = command.generation;
    saw_proceed_ = saw_sasl_failure_ = starttls_missing_ = false;
    verify_error_ = 0;
    conn_ = xmpp_conn_new(ctx_);
    // Stream management would resend unacknowledged stanzas on a new connection and so
    // hide a drop; TLS is never optional.
    xmpp_conn_set_flags(conn_, XMPP_CONN_FLAG_MANDATORY_TLS | XMPP_CONN_FLAG_DISABLE_SM);
    xmpp_conn_set_jid(conn_, settings_.jid.c_str());
    xmpp_conn_set_pass(conn_, settings_.password.c_str());
    if (!settings_.ca_file.empty()) xmpp_conn_set_cafile(conn_, settings_.ca_file.c_str());
    xmpp_conn_set_certfail_handler(conn_, &XmppLink::OnCertFail);
    xmpp_conn_set_sockopt_callback(conn_, &XmppLink::OnSocket);
    if (settings_.receives) {
      xmpp_handler_add(conn_, &XmppLink::OnMessage, nullptr, "message", nullptr, this);
    }
    errno = 0;
    const int rc =
        xmpp_connect_client(conn_, command.ip.c_str(), command.port, &XmppLink::OnConnection, this);
    if (rc != XMPP_EOK) {
      // The connect failed at once (no route, refused on the spot): errno is still the
      // connect's, as libstrophe only closes the socket after it.
      const int error = errno;
      WorkerFail(error != 0 ? FailureFromErrno(error) : UnknownFailure("xmpp: cannot connect"));
      WorkerRelease();
    }
  }

  // The TCP connect is watched here rather than in xmpp_run_once, which would read and
  // clear the socket's error before saying only "disconnected".
  void WorkerWatchConnect() {
    int fd = -1;
    {
      std::lock_guard lock(mutex_);
      fd = socket_copy_;
    }
    if (fd < 0) {
      xmpp_run_once(ctx_, kRunOnceMillis);
      return;
    }
    pollfd watch{fd, POLLOUT, 0};
    if (poll(&watch, 1, kConnectPollMillis) <= 0) return;
    int error = 0;
    socklen_t length = sizeof error;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length);
    if (error != 0 && !TcpHandshakeCompleted(fd)) {
      WorkerFail(FailureFromErrno(error));
      WorkerRelease();
      return;
    }
    WorkerAdvance(Phase::kConnecting, Phase::kTls);
    if (error != 0) {
      // Connected, then at once reset: the failure is the next step's.
      WorkerFail(FailureFromErrno(error));
      WorkerRelease();
    }
  }

  void WorkerAfterRun() {
    if (dead_) {
      WorkerRelease();
      return;
    }
    if (CurrentPhase() != Phase::kTls || conn_ == nullptr) return;
    if (xmpp_conn_is_secured(conn_)) {
      WorkerAdvance(Phase::kTls, Phase::kLogin);
    } else if (saw_proceed_) {
      // libstrophe handshakes inside the run that read <proceed/>: not secured after it
      // means the handshake failed. The socket is still open, so the kernel can say how.
      WorkerFail(TlsFailure());
      WorkerRelease();
    }
  }

  std::string TlsFailure() const {
    if (verify_error_ != 0) return FailureFromTlsVerifyResult(verify_error_);
    std::string fate = FailureFromTcpState(SocketCopy());
    return fate.empty() ? "ssl_failed_handshake" : fate;
  }

  int SocketCopy() const {
    std::lock_guard lock(mutex_);
    return socket_copy_;
  }

  void WorkerSend(const Command& command) {
    if (conn_ == nullptr || command.generation != conn_generation_ ||
        CurrentPhase() != Phase::kOnline) {
      return;  // the connection failed meanwhile; the coroutine sees that
    }
    const std::string id = "vigil-message-" + std::to_string(command.id);
    xmpp_stanza_t* message = xmpp_message_new(ctx_, "chat", settings_.peer.c_str(), id.c_str());
    xmpp_message_set_body(message, command.text.c_str());
    xmpp_send(conn_, message);
    xmpp_stanza_release(message);
    SendPing(std::string(kAckPingPrefix) + std::to_string(command.id));
    std::lock_guard lock(mutex_);
    written_ = command.id;
  }

  void SendPing(const std::string& id) {
    xmpp_stanza_t* iq = xmpp_iq_new(ctx_, "get", id.c_str());
    xmpp_stanza_set_to(iq, JidDomain(settings_.jid).c_str());
    xmpp_stanza_t* ping = xmpp_stanza_new(ctx_);
    xmpp_stanza_set_name(ping, "ping");
    xmpp_stanza_set_ns(ping, kPingNamespace);
    xmpp_stanza_add_child(iq, ping);
    xmpp_stanza_release(ping);
    xmpp_id_handler_add(conn_, &XmppLink::OnPong, id.c_str(), this);
    xmpp_send(conn_, iq);
    xmpp_stanza_release(iq);
  }

  void WorkerRelease() {
    if (conn_ != nullptr) {
      releasing_ = true;
      xmpp_conn_release(conn_);  // disconnects first when connected
      releasing_ = false;
      conn_ = nullptr;
    }
    dead_ = false;
    std::lock_guard lock(mutex_);
    if (socket_copy_ >= 0) {
      close(socket_copy_);
      socket_copy_ = -1;
    }
  }

  // Why connection `conn_generation_` ended, in the step `phase` it was in.
  std::string DisconnectFailure(Phase phase, int error, const xmpp_stream_error_t* stream_error) {
    if (stream_error != nullptr) return StreamErrorFailure(stream_error);
    if (phase == Phase::kTls) {
      if (starttls_missing_) return std::string(kXmppStartTlsUnavailable);
      return TlsFailure();
    }
    if (phase == Phase::kLogin && saw_sasl_failure_) return std::string(kXmppAuthFailed);
    std::string fate = FailureFromTcpState(SocketCopy());
    if (!fate.empty()) return fate;
    // libstrophe's own codes: ECONNRESET for any end of the socket it read, else what a
    // write failed with.
    if (error != 0 && error != ECONNRESET && error != ECONNABORTED) return FailureFromErrno(error);
    return UnknownFailure("xmpp: disconnected");
  }

  static std::string StreamErrorFailure(const xmpp_stream_error_t* stream_error) {
    std::string condition = "undefined-condition";
    if (stream_error->stanza != nullptr) {
      for (xmpp_stanza_t* child = xmpp_stanza_get_children(stream_error->stanza); child != nullptr;
           child = xmpp_stanza_get_next(child)) {
        const char* ns = xmpp_stanza_get_ns(child);
        const char* name = xmpp_stanza_get_name(child);
        if (name != nullptr && ns != nullptr && std::strcmp(ns, kStreamsNamespace) == 0 &&
            std::strcmp(name, "text") != 0) {
          condition = name;
          break;
        }
      }
    }
    return std::string(kXmppStreamErrorPrefix) + condition;
  }

  // --- libstrophe's callbacks, on the link's thread ---

  static void OnConnection(xmpp_conn_t* /*conn*/, xmpp_conn_event_t event, int error,
                           xmpp_stream_error_t* stream_error, void* userdata) {
    auto* self = static_cast<XmppLink*>(userdata);
    if (self->releasing_) return;
    if (event == XMPP_CONN_CONNECT) {
      // Logged in with a resource bound. The receiver says it is available, so that the
      // server routes messages for the bare JID to it; the ping's answer says the server
      // has taken all of that in.
      if (self->settings_.receives) {
        xmpp_stanza_t* presence = xmpp_presence_new(self->ctx_);
        xmpp_send(self->conn_, presence);
        xmpp_stanza_release(presence);
      }
      self->SendPing(std::string(kLoginPingId));
      return;
    }
    self->dead_ = true;
    const Phase phase = self->CurrentPhase();
    if (phase == Phase::kClosing) {
      self->WorkerAdvance(Phase::kClosing, Phase::kIdle);
      return;
    }
    self->WorkerFail(self->DisconnectFailure(phase, error, stream_error));
  }

  static int OnPong(xmpp_conn_t* /*conn*/, xmpp_stanza_t* stanza, void* userdata) {
    auto* self = static_cast<XmppLink*>(userdata);
    const char* id = xmpp_stanza_get_id(stanza);
    if (id == nullptr) return 0;
    const std::string_view text(id);
    if (text == kLoginPingId) {
      self->WorkerAdvance(Phase::kLogin, Phase::kOnline);
    } else if (text.substr(0, kAckPingPrefix.size()) == kAckPingPrefix) {
      const uint64_t acked = std::stoull(std::string(text.substr(kAckPingPrefix.size())));
      std::lock_guard lock(self->mutex_);
      if (self->conn_generation_ == self->generation_) {
        self->acked_ = std::max(self->acked_, acked);
      }
    }
    return 0;  // one answer per ping
  }

  static int OnMessage(xmpp_conn_t* /*conn*/, xmpp_stanza_t* stanza, void* userdata) {
    auto* self = static_cast<XmppLink*>(userdata);
    const char* type = xmpp_stanza_get_type(stanza);
    if (type != nullptr && std::strcmp(type, "error") == 0) return 1;
    const char* from = xmpp_stanza_get_from(stanza);
    if (from == nullptr || !SameBareJid(from, self->settings_.peer)) return 1;
    char* body = xmpp_message_get_body(stanza);
    if (body == nullptr) return 1;  // chat states and receipts carry no body
    ReceivedMessage message{body, self->log_.Now()};
    xmpp_free(self->ctx_, body);
    std::lock_guard lock(self->mutex_);
    self->inbox_.push_back(std::move(message));
    return 1;  // keep handling messages
  }

  static int OnSocket(xmpp_conn_t* /*conn*/, void* socket) {
    XmppLink* self = t_link;
    const int copy = fcntl(*static_cast<int*>(socket), F_DUPFD_CLOEXEC, 0);
    std::lock_guard lock(self->mutex_);
    if (self->socket_copy_ >= 0) close(self->socket_copy_);
    self->socket_copy_ = copy;
    return 0;
  }

  static int OnCertFail(const xmpp_tlscert_t* /*cert*/, const char* error_text) {
    XmppLink* self = t_link;
    if (self->verify_error_ == 0) self->verify_error_ = VerifyResultFromText(error_text);
    return 0;  // refuse the certificate
  }

  static void OnLog(void* userdata, xmpp_log_level_t /*level*/, const char* area,
                    const char* message) {
    auto* self = static_cast<XmppLink*>(userdata);
    if (std::strcmp(area, "xmpp") != 0) return;
    constexpr std::string_view kReceived = "RECV: ";
    const std::string_view line(message);
    if (line.substr(0, kReceived.size()) != kReceived) return;
    const std::string_view stanza = line.substr(kReceived.size());
    if (stanza.size() < 2 || stanza[0] != '<') return;
    // The element's name, without the stream prefix libstrophe may or may not print.
    std::string_view name = stanza.substr(1, stanza.find_first_of(" />") - 1);
    if (name.substr(0, 7) == "stream:") name.remove_prefix(7);
    if (name == "proceed") {
      self->saw_proceed_ = true;
    } else if (name == "features") {
      // Features before TLS must offer STARTTLS; those after it never do.
      const bool secured = self->conn_ != nullptr && xmpp_conn_is_secured(self->conn_);
      self->starttls_missing_ = !secured && stanza.find("<starttls") == std::string_view::npos;
    } else if (name == "failure" &&
               stanza.find("urn:ietf:params:xml:ns:xmpp-sasl") != std::string_view::npos) {
      self->saw_sasl_failure_ = true;
    }
  }

  const LinkSettings settings_;
  ConnectionLog& log_;
  xmpp_log_t logger_{};

  // Shared between the executor and the link's thread.
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Command> commands_;
  bool stop_ = false;
  bool abort_ = false;
  uint64_t generation_ = 0;  // the current connection; every StartConnect makes a new one
  Phase phase_ = Phase::kIdle;
  std::optional<std::string> failure_;
  bool failure_reported_ = false;
  std::string address_;
  uint64_t last_message_id_ = 0;
  uint64_t written_ = 0;  // the last message handed to libstrophe
  uint64_t acked_ = 0;    // the last message whose ping the server answered
  std::vector<ReceivedMessage> inbox_;
  int socket_copy_ = -1;

  // The link's thread only.
  xmpp_ctx_t* ctx_ = nullptr;
  xmpp_conn_t* conn_ = nullptr;
  uint64_t conn_generation_ = 0;
  bool releasing_ = false;
  bool dead_ = false;
  bool saw_proceed_ = false;
  bool starttls_missing_ = false;
  bool saw_sasl_failure_ = false;
  long verify_error_ = 0;

  std::thread thread_;  // last: started once everything above exists
};

struct XmppSettings {
  HostPort server;
  LinkSettings sender, receiver;
};

class XmppTransport final : public DeliveryTransport {
 public:
  XmppTransport(const ExperimentContext& context, XmppSettings settings,
                DeliveryClock::time_point zero)
      : context_(context),
        settings_(std::move(settings)),
        log_(zero),
        sender_(settings_.sender, log_),
        receiver_(settings_.receiver, log_) {}

  std::string_view name() const override { return "xmpp"; }

  asio::awaitable<std::optional<std::string>> Open() override {
    const Clock::time_point deadline = Clock::now() + context_.timeout;
    if (auto failure = co_await Resolve("send")) co_return failure;
    sender_.StartConnect(server_);
    receiver_.StartConnect(server_);
    std::optional<std::string> sent = co_await sender_.AwaitOnline(deadline);
    std::optional<std::string> received = co_await receiver_.AwaitOnline(deadline);
    receiver_.TakeFailure();  // Open reports it; Receive reports later ones
    co_return sent ? sent : received;
  }

  asio::awaitable<SendOutcome> Send(std::string_view text) override {
    SendOutcome outcome;
    outcome.t0 = log_.Now();
    const Clock::time_point deadline = Clock::now() + context_.timeout;
    std::optional<std::string> failure = co_await Resolve("send");
    if (!failure && !sender_.online()) {
      sender_.StartConnect(server_);
      failure = co_await sender_.AwaitOnline(deadline);
    }
    if (failure) {
      outcome.failure = failure;
    } else {
      XmppLink::Sent sent = co_await sender_.SendMessage(text, deadline);
      outcome.failure = sent.failure;
      outcome.on_send = sent.on_send;
    }
    outcome.t = log_.Now();
    co_return outcome;
  }

  asio::awaitable<ReceiveOutcome> Receive(std::chrono::milliseconds wait) override {
    ReceiveOutcome outcome;
    outcome.failure = receiver_.TakeFailure();
    if (!receiver_.online()) {
      std::optional<std::string> failure = co_await Resolve("receive");
      if (!failure) {
        receiver_.StartConnect(server_);
        failure = co_await receiver_.AwaitOnline(Clock::now() + context_.timeout);
        receiver_.TakeFailure();
      }
      if (failure) {
        outcome.failure = failure;
        outcome.messages = co_await receiver_.AwaitMessages(Clock::now());
        co_return outcome;
      }
    }
    outcome.messages = co_await receiver_.AwaitMessages(Clock::now() + wait);
    if (std::optional<std::string> failure = receiver_.TakeFailure()) outcome.failure = failure;
    co_return outcome;
  }

  asio::awaitable<void> Close() override {
    const Clock::time_point deadline = Clock::now() + context_.timeout;
    co_await sender_.Close(deadline);
    co_await receiver_.Close(deadline);
  }

  Json Events() const override { return log_.ToJson(); }

 private:
  // Looks the server up once; on failure records "connect" for `end` and returns why.
  asio::awaitable<std::optional<std::string>> Resolve(std::string_view end) {
    if (!server_.ip.empty()) co_return std::nullopt;
    server_ = co_await ResolveServer(context_, settings_.server);
    if (server_.failure.empty()) co_return std::nullopt;
    log_.Record(end, "connect", server_.address, server_.failure);
    std::string failure = server_.failure;
    server_ = ServerEndpoint{};
    co_return failure;
  }

  const ExperimentContext context_;
  const XmppSettings settings_;
  ConnectionLog log_;
  ServerEndpoint server_;
  XmppLink sender_;
  XmppLink receiver_;
};

}  // namespace

Result<std::unique_ptr<DeliveryTransport>> MakeXmppTransport(const ExperimentContext& context,
                                                             const DeliveryOptions& options,
                                                             DeliveryClock::time_point zero) {
  const std::pair<const std::string*, const char*> required[] = {
      {&options.xmpp_sender_jid, "xmpp_sender_jid"},
      {&options.xmpp_sender_password, "xmpp_sender_password"},
      {&options.xmpp_receiver_jid, "xmpp_receiver_jid"},
      {&options.xmpp_receiver_password, "xmpp_receiver_password"}};
  for (const auto& [value, setting] : required) {
    if (value->empty()) return Error{std::string("delivery: xmpp needs ") + setting};
  }
  for (const std::string* jid : {&options.xmpp_sender_jid, &options.xmpp_receiver_jid}) {
    if (!IsAccountJid(*jid)) {
      return Error{"delivery: '" + *jid + "' is not an account's JID (user@domain)"};
    }
  }
  XmppSettings settings;
  if (options.xmpp_server.empty()) {
    settings.server = HostPort{JidDomain(options.xmpp_sender_jid), kXmppClientPort, false};
  } else {
    Result<HostPort> server = ParseHostOptionalPort(options.xmpp_server, kXmppClientPort);
    if (!server) return Error{"delivery: xmpp_server: " + server.error()};
    settings.server = *server;
  }
  if (!context.ca_file.empty()) {
    if (Result<bool> ca = CheckCaFile(context.ca_file); !ca) return Error{ca.error()};
  }
  settings.sender = LinkSettings{"send",
                                 options.xmpp_sender_jid,
                                 options.xmpp_sender_password,
                                 BareJid(options.xmpp_receiver_jid),
                                 context.ca_file,
                                 false};
  settings.receiver = LinkSettings{"receive",
                                   options.xmpp_receiver_jid,
                                   options.xmpp_receiver_password,
                                   BareJid(options.xmpp_sender_jid),
                                   context.ca_file,
                                   true};
  InitializeLibstropheOnce();
  return std::unique_ptr<DeliveryTransport>(
      std::make_unique<XmppTransport>(context, std::move(settings), zero));
}

}  // namespace vigil
