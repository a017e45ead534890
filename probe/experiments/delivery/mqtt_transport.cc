// The MQTT transport over libmosquitto, on the executor without a thread of its own.
//
// libmosquitto lets its caller own the loop: mosquitto_socket() names the socket,
// mosquitto_want_write() says whether bytes wait to be written, and mosquitto_loop_read,
// _write and _misc each take one step without blocking. The transport waits for the
// socket's readiness with Asio, on a posix::stream_descriptor over a duplicate of the
// socket (libmosquitto closes its own whenever it likes; the duplicate also lets the
// kernel say what became of a lost connection, tcp_fate.h), and runs those steps on the
// executor's thread, where libmosquitto's callbacks then run too. Both connections are
// serviced while any call of the transport is in progress, so a message's arrival time
// is when it came, even during a Send; between calls nothing reads the sockets, and what
// arrives waits in the kernel.
//
// QoS 0: each message is published once and never retransmitted. At QoS 1 the client
// and the broker would resend a message that went missing (after a reconnect), and a
// drop on the way would show up as a late arrival instead of a loss. The broker does
// not acknowledge QoS 0, so after each message the publisher unsubscribes from a topic
// it never subscribed to: the UNSUBACK says the broker read the message (it reads in
// order), and gives a reset the content provoked a round trip to arrive, so that it is
// charged to this message (on_send).
//
// TLS: libmosquitto gets an SSL_CTX of the transport's (MOSQ_OPT_SSL_CTX) that trusts the
// context's CA file instead of the system store when there is one, verifies the broker's
// name, records why a certificate failed (libmosquitto says only "TLS error"), and
// names the broker in the SNI: libmosquitto connects to the address the transport
// resolved, and would put that address there.
//
// libmosquitto ignores SIGPIPE for the whole process (mosquitto_new does), so a write to
// a connection the broker dropped fails with EPIPE.
#include "probe/experiments/delivery/mqtt_transport.h"

#include <fcntl.h>
#include <mosquitto.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <cerrno>
#include <functional>
#include <mutex>
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
constexpr auto kAsTuple = asio::experimental::as_tuple(asio::use_awaitable);

constexpr uint16_t kMqttPort = 1883;
constexpr uint16_t kMqttsPort = 8883;
constexpr int kKeepAliveSeconds = 60;
// libmosquitto's keepalive clock (mosquitto_loop_misc) needs a turn now and then.
constexpr std::chrono::seconds kMiscInterval{1};

void InitializeLibmosquittoOnce() {
  static std::once_flag once;
  std::call_once(once, [] { mosquitto_lib_init(); });
}

std::string RandomHex(size_t bytes) {
  std::vector<unsigned char> random(bytes);
  RAND_bytes(random.data(), static_cast<int>(random.size()));
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  for (unsigned char byte : random) {
    hex += kDigits[byte >> 4];
    hex += kDigits[byte & 0xf];
  }
  return hex;
}

// CONNACK return codes of MQTT 3.1.1 (section 3.2.2.3).
std::string ConnackReason(int code) {
  switch (code) {
    case 1:
      return "unacceptable_protocol_version";
    case 2:
      return "identifier_rejected";
    case 3:
      return "server_unavailable";
    case 4:
      return "bad_username_or_password";
    case 5:
      return "not_authorized";
    default:
      return "code_" + std::to_string(code);
  }
}

enum class Phase {
  kIdle,        // no connection (none yet, or closed)
  kConnecting,  // TCP connect
  kTls,         // the handshake (mqtts)
  kLogin,       // CONNECT, CONNACK
  kSubscribing,
  kOnline,
  kClosing,
  kFailed,
};

struct MqttSettings {
  HostPort broker;
  bool tls = false;
  std::string ca_file;
  std::string topic;
};

// One connection to the broker, the publisher's or the subscriber's. Everything runs on
// the executor's thread: the methods, and libmosquitto's callbacks inside Service().
class MqttLink {
 public:
  MqttLink(std::string end, bool subscribes, const MqttSettings& settings, ConnectionLog& log)
      : end_(std::move(end)), subscribes_(subscribes), settings_(settings), log_(log) {}

  ~MqttLink() {
    Reset();
    FreeTls();
  }

  MqttLink(const MqttLink&) = delete;
  MqttLink& operator=(const MqttLink&) = delete;

  /// Builds the TLS context (mqtts); an error when the CA file cannot be loaded.
  Result<bool> InitTls() {
    ssl_ctx_ = SSL_CTX_new(TLS_client_method());
    if (ssl_ctx_ == nullptr) return Error{"delivery: mqtt: cannot make a TLS context"};
    SSL_CTX_set_min_proto_version(ssl_ctx_, TLS1_2_VERSION);
    const int loaded =
        settings_.ca_file.empty()
            ? SSL_CTX_set_default_verify_paths(ssl_ctx_)
            : SSL_CTX_load_verify_locations(ssl_ctx_, settings_.ca_file.c_str(), nullptr);
    if (loaded != 1) return Error{"delivery: mqtt: cannot load CA file " + settings_.ca_file};
    SSL_CTX_set_verify(ssl_ctx_, SSL_VERIFY_PEER, &MqttLink::OnVerify);
    X509_VERIFY_PARAM* param = SSL_CTX_get0_param(ssl_ctx_);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    if (IsIpLiteral(settings_.broker.host)) {
      X509_VERIFY_PARAM_set1_ip_asc(param, settings_.broker.host.c_str());
    } else {
      X509_VERIFY_PARAM_set1_host(param, settings_.broker.host.c_str(), 0);
    }
    SSL_CTX_set_app_data(ssl_ctx_, this);
    SSL_CTX_set_info_callback(ssl_ctx_, &MqttLink::OnTlsInfo);
    return true;
  }

  Phase phase() const { return phase_; }
  bool online() const { return phase_ == Phase::kOnline; }
  /// Connected, failed or closed: nothing more will happen without a new connection.
  bool settled() const {
    return phase_ == Phase::kOnline || phase_ == Phase::kFailed || phase_ == Phase::kIdle;
  }
  const std::optional<std::string>& failure() const { return failure_; }

  /// The failure of the connection if it failed and no TakeFailure returned it yet.
  std::optional<std::string> TakeFailure() {
    if (phase_ != Phase::kFailed || failure_reported_) return std::nullopt;
    failure_reported_ = true;
    return failure_;
  }

  std::vector<ReceivedMessage> TakeMessages() { return std::exchange(inbox_, {}); }
  bool has_messages() const { return !inbox_.empty(); }

  /// Begins a new connection to `server`, dropping the previous one.
  void StartConnect(const asio::any_io_executor& executor, const ServerEndpoint& server) {
    Reset();
    phase_ = Phase::kConnecting;
    failure_.reset();
    failure_reported_ = false;
    verify_error_ = 0;
    address_ = server.address;
    // At most 23 characters, as MQTT 3.1.1 lets a broker demand.
    mosq_ = mosquitto_new(("vigil-" + RandomHex(8)).c_str(), true, this);
    if (mosq_ == nullptr) {
      Fail(UnknownFailure("mqtt: cannot make a client"));
      return;
    }
    if (ssl_ctx_ != nullptr) {
      // Our context as it is: libmosquitto's defaults would want a CA file of its own.
      mosquitto_void_option(mosq_, MOSQ_OPT_SSL_CTX, ssl_ctx_);
      mosquitto_int_option(mosq_, MOSQ_OPT_SSL_CTX_WITH_DEFAULTS, 0);
    }
    mosquitto_connect_callback_set(mosq_, &MqttLink::OnConnect);
    mosquitto_subscribe_callback_set(mosq_, &MqttLink::OnSubscribe);
    mosquitto_unsubscribe_callback_set(mosq_, &MqttLink::OnUnsubscribe);
    mosquitto_message_callback_set(mosq_, &MqttLink::OnMessage);
    errno = 0;
    const int rc =
        mosquitto_connect_async(mosq_, server.ip.c_str(), server.port, kKeepAliveSeconds);
    int copy = std::exchange(handshake_copy_, -1);
    if (rc == MOSQ_ERR_TLS) {
      // The connect completed at once and so did the handshake, which failed: a nearby
      // broker answers before libmosquitto's first SSL_connect has returned.
      Advance(Phase::kConnecting, Phase::kTls);
      std::string fate = FailureFromTcpState(copy);
      if (copy >= 0) close(copy);
      if (verify_error_ != 0) {
        Fail(FailureFromTlsVerifyResult(verify_error_));
      } else {
        Fail(fate.empty() ? "ssl_failed_handshake" : fate);
      }
      return;
    }
    if (rc != MOSQ_ERR_SUCCESS) {
      // Refused or unroutable on the spot: errno is still the connect's.
      const int error = errno;
      if (copy >= 0) close(copy);
      Fail(rc == MOSQ_ERR_ERRNO && error != 0
               ? FailureFromErrno(error)
               : UnknownFailure(std::string("mqtt: ") + mosquitto_strerror(rc)));
      return;
    }
    if (copy < 0) copy = fcntl(mosquitto_socket(mosq_), F_DUPFD_CLOEXEC, 0);
    if (copy < 0) {
      Fail(FailureFromErrno(errno));
      return;
    }
    socket_ = std::make_unique<asio::posix::stream_descriptor>(executor, copy);
    // A connect to a nearby server completes inside connect(), and libmosquitto has
    // written its first bytes already; whatever comes next belongs to the next step.
    sockaddr_storage peer{};
    socklen_t length = sizeof peer;
    if (getpeername(copy, reinterpret_cast<sockaddr*>(&peer), &length) == 0) {
      Advance(Phase::kConnecting, ssl_ctx_ != nullptr ? Phase::kTls : Phase::kLogin);
    }
  }

  /// Completes when the socket may be ready for what the connection waits for (never
  /// when there is no socket: the caller's timer ends the wait).
  asio::awaitable<void> Ready() {
    if (socket_ == nullptr) {
      asio::steady_timer never(co_await asio::this_coro::executor, Clock::time_point::max());
      co_await never.async_wait(kAsTuple);
      co_return;
    }
    using asio::posix::stream_descriptor;
    using namespace asio::experimental::awaitable_operators;
    if (WantsWrite()) {
      co_await (socket_->async_wait(stream_descriptor::wait_read, kAsTuple) ||
                socket_->async_wait(stream_descriptor::wait_write, kAsTuple));
    } else {
      co_await socket_->async_wait(stream_descriptor::wait_read, kAsTuple);
    }
  }

  /// Runs libmosquitto's steps for what the socket is ready for; libmosquitto's
  /// callbacks run inside. Call only when no Ready() is pending.
  void Service() {
    if (mosq_ == nullptr || socket_ == nullptr) return;
    pollfd watch{socket_->native_handle(), POLLIN | POLLOUT, 0};
    if (poll(&watch, 1, 0) < 0) return;
    const bool readable = (watch.revents & (POLLIN | POLLERR | POLLHUP)) != 0;
    const bool writable = (watch.revents & (POLLOUT | POLLERR | POLLHUP)) != 0;
    if (phase_ == Phase::kConnecting) {
      if (!writable || !FinishConnect()) return;
    }
    int rc = MOSQ_ERR_SUCCESS;
    if (phase_ == Phase::kTls) {
      // While the handshake is unfinished, loop_read continues it whatever the socket
      // is ready for; once done, the CONNECT libmosquitto queued goes out.
      if (readable || writable) rc = mosquitto_loop_read(mosq_, 1);
      auto* ssl = static_cast<SSL*>(mosquitto_ssl_get(mosq_));
      if (rc == MOSQ_ERR_SUCCESS && ssl != nullptr && SSL_is_init_finished(ssl)) {
        Advance(Phase::kTls, Phase::kLogin);
        rc = mosquitto_loop_write(mosq_, 1);
      } else if (rc == MOSQ_ERR_SUCCESS && socket_ != nullptr) {
        // libmosquitto takes a reset or an EOF in the handshake (SSL_ERROR_SYSCALL) for
        // "try again"; the kernel knows better.
        if (std::string fate = FailureFromTcpState(socket_->native_handle()); !fate.empty()) {
          Fail(fate);
          return;
        }
      }
    } else {
      if (readable) rc = mosquitto_loop_read(mosq_, 1);
      if (rc == MOSQ_ERR_SUCCESS && socket_ != nullptr && writable && mosquitto_want_write(mosq_)) {
        rc = mosquitto_loop_write(mosq_, 1);
      }
    }
    if (rc == MOSQ_ERR_SUCCESS && mosquitto_socket(mosq_) >= 0) rc = mosquitto_loop_misc(mosq_);
    if (phase_ == Phase::kClosing && (rc != MOSQ_ERR_SUCCESS || mosquitto_socket(mosq_) < 0)) {
      Advance(Phase::kClosing, Phase::kIdle);  // our DISCONNECT went out; the broker hung up
      DropSocket();
      return;
    }
    if (rc != MOSQ_ERR_SUCCESS) Fail(LossFailure(rc));
  }

  /// Publishes `text` and the unsubscribe after it; false when the connection failed
  /// on the spot (then failure() says how).
  bool Publish(std::string_view text) {
    if (!online()) return false;
    int rc = mosquitto_publish(mosq_, nullptr, settings_.topic.c_str(),
                               static_cast<int>(text.size()), text.data(), 0, false);
    if (rc == MOSQ_ERR_SUCCESS) {
      rc = mosquitto_unsubscribe(mosq_, &awaited_unsuback_, (settings_.topic + "/ack").c_str());
    }
    if (rc != MOSQ_ERR_SUCCESS) {
      Fail(LossFailure(rc));
      return false;
    }
    unsuback_seen_ = false;
    return true;
  }

  bool acknowledged() const { return unsuback_seen_; }

  /// Sends DISCONNECT when online; the connection is closed when phase() leaves kClosing.
  void StartClose() {
    if (!online()) return;
    phase_ = Phase::kClosing;
    if (mosquitto_disconnect(mosq_) != MOSQ_ERR_SUCCESS) {
      Advance(Phase::kClosing, Phase::kIdle);
      DropSocket();
    }
  }

  /// The current step ran out of time.
  void TimeOut() { Fail(std::string(kGenericTimeoutError)); }

  /// Drops the connection without a word to the broker.
  void Reset() {
    DropSocket();
    if (handshake_copy_ >= 0) close(std::exchange(handshake_copy_, -1));
    if (mosq_ != nullptr) {
      mosquitto_destroy(mosq_);
      mosq_ = nullptr;
    }
    if (phase_ != Phase::kFailed) phase_ = Phase::kIdle;
  }

 private:
  void FreeTls() {
    if (ssl_ctx_ != nullptr) SSL_CTX_free(ssl_ctx_);
    ssl_ctx_ = nullptr;
  }

  std::string_view Operation(Phase phase) const {
    switch (phase) {
      case Phase::kConnecting:
        return "connect";
      case Phase::kTls:
        return "tls_handshake";
      case Phase::kLogin:
        return "login";
      case Phase::kSubscribing:
        return "subscribe";
      case Phase::kClosing:
        return "close";
      default:
        return end_ == "send" ? "send" : "receive";
    }
  }

  void Advance(Phase from, Phase to) {
    if (phase_ != from) return;
    log_.Record(end_, Operation(from), address_, std::nullopt);
    phase_ = to;
  }

  // Records the failure in the step the connection was in, and ends the connection
  // (the shutdown reaches the broker although libmosquitto still holds its socket).
  void Fail(const std::string& failure) {
    if (phase_ == Phase::kFailed || phase_ == Phase::kIdle) return;
    log_.Record(end_, Operation(phase_), address_, failure);
    phase_ = Phase::kFailed;
    failure_ = failure;
    DropSocket();
  }

  void DropSocket() {
    if (socket_ == nullptr) return;
    shutdown(socket_->native_handle(), SHUT_RDWR);
    std::error_code ignored;
    socket_->close(ignored);
    socket_.reset();
  }

  bool WantsWrite() const {
    switch (phase_) {
      case Phase::kConnecting:
        return true;  // a connect completes with the socket writable
      case Phase::kTls: {
        // libmosquitto always has its CONNECT queued by now; the handshake may want
        // only to read.
        auto* ssl = static_cast<SSL*>(mosquitto_ssl_get(mosq_));
        return ssl != nullptr && SSL_want_write(ssl);
      }
      default:
        return mosquitto_want_write(mosq_);
    }
  }

  // Ends the TCP connect, recording it, and false when the connection failed: the
  // connect, or the step after it when the TCP handshake had completed before the error
  // (a nearby server's reset can come before the transport first looks).
  bool FinishConnect() {
    const int fd = socket_->native_handle();
    int error = 0;
    socklen_t length = sizeof error;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length);
    sockaddr_storage peer{};
    length = sizeof peer;
    const bool established = getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &length) == 0 ||
                             TcpHandshakeCompleted(fd);
    if (!established) {
      // No error left means libmosquitto's first TLS write read it: a refusal.
      Fail(error != 0 ? FailureFromErrno(error) : "connection_refused");
      return false;
    }
    Advance(Phase::kConnecting, ssl_ctx_ != nullptr ? Phase::kTls : Phase::kLogin);
    if (error != 0) {
      Fail(FailureFromErrno(error));
      return false;
    }
    return true;
  }

  // Why a connection that was up (or in its handshake) was lost, libmosquitto's step
  // having returned `rc`.
  std::string LossFailure(int rc) const {
    if (phase_ == Phase::kTls && verify_error_ != 0) {
      return FailureFromTlsVerifyResult(verify_error_);
    }
    std::string fate = socket_ != nullptr ? FailureFromTcpState(socket_->native_handle()) : "";
    if (!fate.empty()) return fate;
    if (phase_ == Phase::kTls || rc == MOSQ_ERR_TLS) return "ssl_failed_handshake";
    if (rc == MOSQ_ERR_KEEPALIVE) return std::string(kGenericTimeoutError);
    if (rc == MOSQ_ERR_ERRNO && errno != 0 && errno != EPROTO) return FailureFromErrno(errno);
    return UnknownFailure(std::string("mqtt: ") + mosquitto_strerror(rc));
  }

  // --- libmosquitto's and OpenSSL's callbacks ---

  static void OnConnect(mosquitto* /*mosq*/, void* userdata, int code) {
    auto* self = static_cast<MqttLink*>(userdata);
    if (code != 0) {
      self->Fail(std::string(kMqttConnectRefusedPrefix) + ConnackReason(code));
      return;
    }
    if (!self->subscribes_) {
      self->Advance(Phase::kLogin, Phase::kOnline);
      return;
    }
    self->Advance(Phase::kLogin, Phase::kSubscribing);
    const int rc =
        mosquitto_subscribe(self->mosq_, &self->awaited_suback_, self->settings_.topic.c_str(), 0);
    if (rc != MOSQ_ERR_SUCCESS) self->Fail(self->LossFailure(rc));
  }

  static void OnSubscribe(mosquitto* /*mosq*/, void* userdata, int mid, int count,
                          const int* granted) {
    auto* self = static_cast<MqttLink*>(userdata);
    if (mid != self->awaited_suback_ || self->phase_ != Phase::kSubscribing) return;
    if (count < 1 || granted[0] == 0x80) {
      self->Fail(std::string(kMqttSubscribeRefused));
      return;
    }
    self->Advance(Phase::kSubscribing, Phase::kOnline);
  }

  static void OnUnsubscribe(mosquitto* /*mosq*/, void* userdata, int mid) {
    auto* self = static_cast<MqttLink*>(userdata);
    if (mid == self->awaited_unsuback_) self->unsuback_seen_ = true;
  }

  static void OnMessage(mosquitto* /*mosq*/, void* userdata, const mosquitto_message* message) {
    auto* self = static_cast<MqttLink*>(userdata);
    if (message->topic == nullptr || self->settings_.topic != message->topic) return;
    self->inbox_.push_back(
        ReceivedMessage{std::string(static_cast<const char*>(message->payload),
                                    static_cast<size_t>(std::max(message->payloadlen, 0))),
                        self->log_.Now()});
  }

  static MqttLink* FromSsl(const SSL* ssl) {
    return static_cast<MqttLink*>(SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)));
  }

  static int OnVerify(int ok, X509_STORE_CTX* store) {
    if (ok == 0) {
      auto* ssl = static_cast<SSL*>(
          X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
      MqttLink* self = FromSsl(ssl);
      if (self->verify_error_ == 0) self->verify_error_ = X509_STORE_CTX_get_error(store);
    }
    return ok;
  }

  // Before the ClientHello is written: the broker's name in the SNI instead of the
  // address libmosquitto put there, and none for an IP literal (RFC 6066). And the
  // socket's duplicate, taken here because a nearby broker may end the handshake before
  // mosquitto_connect_async returns, when libmosquitto has closed its socket already.
  static void OnTlsInfo(const SSL* ssl, int where, int /*ret*/) {
    if ((where & SSL_CB_HANDSHAKE_START) == 0) return;
    MqttLink* self = FromSsl(ssl);
    if (self->socket_ == nullptr && self->handshake_copy_ < 0) {
      self->handshake_copy_ = fcntl(SSL_get_fd(ssl), F_DUPFD_CLOEXEC, 0);
    }
    const std::string& host = self->settings_.broker.host;
    SSL_set_tlsext_host_name(const_cast<SSL*>(ssl),
                             IsIpLiteral(host) ? nullptr : const_cast<char*>(host.c_str()));
  }

  const std::string end_;
  const bool subscribes_;
  const MqttSettings& settings_;
  ConnectionLog& log_;
  SSL_CTX* ssl_ctx_ = nullptr;

  mosquitto* mosq_ = nullptr;
  std::unique_ptr<asio::posix::stream_descriptor> socket_;  // a duplicate of mosq_'s
  Phase phase_ = Phase::kIdle;
  std::optional<std::string> failure_;
  bool failure_reported_ = false;
  std::string address_;
  long verify_error_ = 0;
  int handshake_copy_ = -1;  // OnTlsInfo's duplicate, until StartConnect takes it
  int awaited_suback_ = 0;
  int awaited_unsuback_ = 0;
  bool unsuback_seen_ = false;
  std::vector<ReceivedMessage> inbox_;
};

class MqttTransport final : public DeliveryTransport {
 public:
  MqttTransport(const ExperimentContext& context, MqttSettings settings,
                DeliveryClock::time_point zero)
      : context_(context),
        settings_(std::move(settings)),
        log_(zero),
        publisher_("send", false, settings_, log_),
        subscriber_("receive", true, settings_, log_) {}

  Result<bool> InitTls() {
    if (!settings_.tls) return true;
    if (Result<bool> ok = publisher_.InitTls(); !ok) return ok;
    return subscriber_.InitTls();
  }

  std::string_view name() const override { return "mqtt"; }

  asio::awaitable<std::optional<std::string>> Open() override {
    const Clock::time_point deadline = Clock::now() + context_.timeout;
    if (auto failure = co_await Resolve("send")) co_return failure;
    publisher_.StartConnect(context_.executor, server_);
    subscriber_.StartConnect(context_.executor, server_);
    co_await Settle(deadline, &publisher_, &subscriber_);
    subscriber_.TakeFailure();  // Open reports it; Receive reports later ones
    if (!publisher_.online()) co_return publisher_.failure();
    if (!subscriber_.online()) co_return subscriber_.failure();
    co_return std::nullopt;
  }

  void FreshSendConnection() override { fresh_ = true; }

  asio::awaitable<SendOutcome> Send(std::string_view text) override {
    SendOutcome outcome;
    outcome.t0 = log_.Now();
    const Clock::time_point deadline = Clock::now() + context_.timeout;
    co_await Pump(deadline, [] { return true; });  // notice a connection lost meanwhile
    if (fresh_ && publisher_.online()) {
      publisher_.StartClose();
      co_await Pump(deadline, [this] { return publisher_.phase() != Phase::kClosing; });
      if (publisher_.phase() == Phase::kClosing) publisher_.TimeOut();
      publisher_.Reset();
    }
    fresh_ = false;
    std::optional<std::string> failure = co_await Resolve("send");
    if (!failure && !publisher_.online()) {
      publisher_.StartConnect(context_.executor, server_);
      co_await Settle(deadline, &publisher_);
      if (!publisher_.online()) failure = publisher_.failure();
    }
    if (failure) {
      outcome.failure = failure;
    } else if (!publisher_.Publish(text)) {
      outcome.failure = publisher_.failure();
      outcome.on_send = true;
    } else {
      const bool acknowledged = co_await Pump(
          deadline, [this] { return publisher_.acknowledged() || !publisher_.online(); });
      if (!acknowledged) publisher_.TimeOut();
      if (!publisher_.acknowledged()) {
        outcome.failure = publisher_.failure();
        outcome.on_send = true;
      }
    }
    outcome.t = log_.Now();
    co_return outcome;
  }

  asio::awaitable<ReceiveOutcome> Receive(std::chrono::milliseconds wait) override {
    ReceiveOutcome outcome;
    co_await Pump(Clock::now() + context_.timeout, [] { return true; });
    outcome.failure = subscriber_.TakeFailure();
    if (!subscriber_.online()) {
      std::optional<std::string> failure = co_await Resolve("receive");
      if (!failure) {
        subscriber_.StartConnect(context_.executor, server_);
        co_await Settle(Clock::now() + context_.timeout, &subscriber_);
        if (!subscriber_.online()) failure = subscriber_.failure();
        subscriber_.TakeFailure();
      }
      if (failure) {
        outcome.failure = failure;
        outcome.messages = subscriber_.TakeMessages();
        co_return outcome;
      }
    }
    co_await Pump(Clock::now() + wait,
                  [this] { return subscriber_.has_messages() || !subscriber_.online(); });
    outcome.messages = subscriber_.TakeMessages();
    if (std::optional<std::string> failure = subscriber_.TakeFailure()) outcome.failure = failure;
    co_return outcome;
  }

  asio::awaitable<void> Close() override {
    publisher_.StartClose();
    subscriber_.StartClose();
    const bool closed = co_await Pump(Clock::now() + context_.timeout, [this] {
      return publisher_.phase() != Phase::kClosing && subscriber_.phase() != Phase::kClosing;
    });
    if (!closed) {
      for (MqttLink* link : {&publisher_, &subscriber_}) {
        if (link->phase() == Phase::kClosing) link->TimeOut();
      }
    }
    publisher_.Reset();
    subscriber_.Reset();
  }

  Json Events() const override { return log_.ToJson(); }

 private:
  bool fresh_ = false;  // the next Send opens a new publishing connection
  // Looks the broker up once; on failure records "connect" for `end` and returns why.
  asio::awaitable<std::optional<std::string>> Resolve(std::string_view end) {
    if (!server_.ip.empty()) co_return std::nullopt;
    server_ = co_await ResolveServer(context_, settings_.broker);
    if (server_.failure.empty()) co_return std::nullopt;
    log_.Record(end, "connect", server_.address, server_.failure);
    std::string failure = server_.failure;
    server_ = ServerEndpoint{};
    co_return failure;
  }

  // Services both connections until `done()` (true) or `deadline` (false).
  asio::awaitable<bool> Pump(Clock::time_point deadline, const std::function<bool()>& done) {
    using namespace asio::experimental::awaitable_operators;
    for (;;) {
      publisher_.Service();
      subscriber_.Service();
      if (done()) co_return true;
      const Clock::time_point now = Clock::now();
      if (now >= deadline) co_return false;
      asio::steady_timer timer(context_.executor, std::min(deadline, now + kMiscInterval));
      co_await (publisher_.Ready() || subscriber_.Ready() || timer.async_wait(kAsTuple));
    }
  }

  // Pumps until `a` and `b` (when given) are online, failed or closed; at the
  // deadline, those that are not time out.
  asio::awaitable<void> Settle(Clock::time_point deadline, MqttLink* a, MqttLink* b = nullptr) {
    const bool settled =
        co_await Pump(deadline, [a, b] { return a->settled() && (b == nullptr || b->settled()); });
    if (settled) co_return;
    if (!a->settled()) a->TimeOut();
    if (b != nullptr && !b->settled()) b->TimeOut();
  }

  const ExperimentContext context_;
  const MqttSettings settings_;
  ConnectionLog log_;
  ServerEndpoint server_;
  MqttLink publisher_;
  MqttLink subscriber_;
};

}  // namespace

Result<std::unique_ptr<DeliveryTransport>> MakeMqttTransport(const ExperimentContext& context,
                                                             const DeliveryOptions& options,
                                                             DeliveryClock::time_point zero) {
  if (options.mqtt_broker.empty()) return Error{"delivery: mqtt needs mqtt_broker"};
  Result<EndpointUrl> url = ParseEndpointUrl(options.mqtt_broker, kMqttPort);
  if (!url) return Error{"delivery: mqtt_broker: " + url.error()};
  MqttSettings settings;
  if (url->scheme == "mqtts") {
    settings.tls = true;
    if (!url->endpoint.port_explicit) url->endpoint.port = kMqttsPort;
  } else if (url->scheme != "mqtt") {
    return Error{"delivery: mqtt_broker: '" + options.mqtt_broker +
                 "': the scheme must be mqtt or mqtts"};
  }
  settings.broker = url->endpoint;
  settings.ca_file = context.ca_file;
  settings.topic = "vigil/delivery/" + RandomHex(16);
  if (settings.tls && !context.ca_file.empty()) {
    if (Result<bool> ca = CheckCaFile(context.ca_file); !ca) return Error{ca.error()};
  }
  InitializeLibmosquittoOnce();
  auto transport = std::make_unique<MqttTransport>(context, std::move(settings), zero);
  if (Result<bool> tls = transport->InitTls(); !tls) return Error{tls.error()};
  return std::unique_ptr<DeliveryTransport>(std::move(transport));
}

}  // namespace vigil
