#include "probe/dns/ares_channel.h"

#include <ares.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <asio/async_result.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <map>
#include <mutex>

namespace vigil {

namespace {

void InitLibraryOnce() {
  static std::once_flag once;
  std::call_once(once, [] { ares_library_init(ARES_LIB_INIT_ALL); });
}

}  // namespace

// Everything the Asio handlers and c-ares callbacks touch lives here, owned by a
// shared_ptr, so a handler that runs after the channel is gone finds `destroyed`.
struct AresChannel::State : std::enable_shared_from_this<AresChannel::State> {
  explicit State(const asio::any_io_executor& ex) : executor(ex), timer(ex) {}

  struct Watch {
    explicit Watch(const asio::any_io_executor& ex, int fd) : descriptor(ex, fd) {}
    asio::posix::stream_descriptor descriptor;
    bool want_read = false;
    bool want_write = false;
    bool reading = false;
    bool writing = false;
    bool closed = false;
  };

  asio::any_io_executor executor;
  asio::steady_timer timer;
  ares_channel channel = nullptr;
  std::map<ares_socket_t, std::shared_ptr<Watch>> watches;
  bool destroyed = false;

  static void OnSocketState(void* data, ares_socket_t fd, int readable, int writable) {
    static_cast<State*>(data)->SocketState(fd, readable != 0, writable != 0);
  }

  void SocketState(ares_socket_t fd, bool readable, bool writable) {
    if (!readable && !writable) {
      // c-ares is about to close the socket: stop watching and give it back.
      auto it = watches.find(fd);
      if (it == watches.end()) return;
      it->second->closed = true;
      std::error_code ignored;
      it->second->descriptor.cancel(ignored);
      it->second->descriptor.release();
      watches.erase(it);
      return;
    }
    auto& watch = watches[fd];
    if (!watch) watch = std::make_shared<Watch>(executor, fd);
    watch->want_read = readable;
    watch->want_write = writable;
    Arm(watch, fd);
  }

  void Arm(const std::shared_ptr<Watch>& watch, ares_socket_t fd) {
    if (watch->closed || destroyed) return;
    if (watch->want_read && !watch->reading) {
      watch->reading = true;
      watch->descriptor.async_wait(
          asio::posix::stream_descriptor::wait_read,
          [self = shared_from_this(), watch, fd](const std::error_code& ec) {
            watch->reading = false;
            if (ec || watch->closed || self->destroyed) return;
            ares_process_fd(self->channel, fd, ARES_SOCKET_BAD);
            self->Rearm(watch, fd);
          });
    }
    if (watch->want_write && !watch->writing) {
      watch->writing = true;
      watch->descriptor.async_wait(
          asio::posix::stream_descriptor::wait_write,
          [self = shared_from_this(), watch, fd](const std::error_code& ec) {
            watch->writing = false;
            if (ec || watch->closed || self->destroyed) return;
            ares_process_fd(self->channel, ARES_SOCKET_BAD, fd);
            self->Rearm(watch, fd);
          });
    }
  }

  void Rearm(const std::shared_ptr<Watch>& watch, ares_socket_t fd) {
    if (destroyed) return;
    Arm(watch, fd);
    ScheduleTimeout();
  }

  // c-ares keeps its own retransmission/timeout clock; ask it when to wake next.
  void ScheduleTimeout() {
    if (destroyed) return;
    timeval max{5, 0};
    timeval tv{};
    if (ares_timeout(channel, &max, &tv) == nullptr) return;
    timer.expires_after(std::chrono::seconds(tv.tv_sec) + std::chrono::microseconds(tv.tv_usec));
    timer.async_wait([self = shared_from_this()](const std::error_code& ec) {
      if (ec || self->destroyed) return;
      ares_process_fd(self->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
      self->ScheduleTimeout();
    });
  }
};

std::unique_ptr<AresChannel> AresChannel::Create(const asio::any_io_executor& executor,
                                                 const AresOptions& options, std::string* error) {
  InitLibraryOnce();
  auto state = std::make_shared<State>(executor);
  ares_options opts{};
  int mask = 0;
  // Pass every response up, whatever its rcode, so the measurement sees REFUSED and
  // SERVFAIL as they were; no HOSTALIASES file either way.
  opts.flags = ARES_FLAG_NOCHECKRESP | ARES_FLAG_NOALIASES;
  if (options.use_tcp) opts.flags |= ARES_FLAG_USEVC;
  opts.timeout = static_cast<int>(options.timeout.count());
  mask |= ARES_OPT_TIMEOUTMS;
  if (!options.system_style) {
    opts.flags |= ARES_FLAG_NOSEARCH;
    opts.tries = 1;
    mask |= ARES_OPT_TRIES;
    opts.ndomains = 0;
    opts.domains = nullptr;
    mask |= ARES_OPT_DOMAINS;
    opts.ndots = 1;
    mask |= ARES_OPT_NDOTS;
  }
  mask |= ARES_OPT_FLAGS;
  opts.sock_state_cb = &State::OnSocketState;
  opts.sock_state_cb_data = state.get();
  mask |= ARES_OPT_SOCK_STATE_CB;
  // c-ares 1.18 keeps no answer cache; newer ones do, and a measurement must not
  // be answered from one.
#ifdef ARES_OPT_QUERY_CACHE
  opts.qcache_max_ttl = 0;
  mask |= ARES_OPT_QUERY_CACHE;
#endif
  int status = ares_init_options(&state->channel, &opts, mask);
  if (status != ARES_SUCCESS) {
    if (error) *error = std::string("c-ares init: ") + ares_strerror(status);
    return nullptr;
  }
  if (!options.servers.empty()) {
    std::string csv;
    for (const auto& s : options.servers) csv += (csv.empty() ? "" : ",") + s;
    status = ares_set_servers_ports_csv(state->channel, csv.c_str());
    if (status != ARES_SUCCESS) {
      if (error) *error = "bad resolver address " + csv + ": " + ares_strerror(status);
      ares_destroy(state->channel);
      state->channel = nullptr;
      return nullptr;
    }
  }
  return std::unique_ptr<AresChannel>(new AresChannel(std::move(state)));
}

AresChannel::~AresChannel() {
  if (!state_->channel) return;
  // ares_destroy runs the pending callbacks (status ARES_EDESTRUCTION); they post
  // their completions, so waiting coroutines resume after this returns.
  ares_destroy(state_->channel);
  state_->destroyed = true;
  state_->channel = nullptr;
  state_->timer.cancel();
  for (auto& [fd, watch] : state_->watches) {
    watch->closed = true;
    std::error_code ignored;
    watch->descriptor.cancel(ignored);
    watch->descriptor.release();
  }
  state_->watches.clear();
}

void AresChannel::Cancel() {
  if (state_->channel) ares_cancel(state_->channel);
}

namespace {

// Carries an Asio completion handler through c-ares' void* argument; completion is
// posted, never run inside ares_process_fd, so a resumed coroutine may destroy the
// channel safely.
template <typename Handler, typename Reply>
struct Pending {
  Handler handler;
  asio::any_io_executor executor;

  static void Complete(Pending* p, Reply reply) {
    std::unique_ptr<Pending> owned(p);
    asio::post(owned->executor, [h = std::move(owned->handler), r = std::move(reply)]() mutable {
      std::move(h)(std::move(r));
    });
  }
};

}  // namespace

// Not coroutines: these return the awaitable that async_initiate makes, and the
// initiations receive their arguments by value when awaited. (GCC 12 destroys
// objects captured in a temporary inside `co_await` twice.)
asio::awaitable<AresReply> AresChannel::Query(const std::string& name, int qtype) {
  return asio::async_initiate<decltype(asio::use_awaitable), void(AresReply)>(
      [state = state_](auto handler, std::string qname, int type) {
        using P = Pending<decltype(handler), AresReply>;
        auto* pending = new P{std::move(handler), state->executor};
        unsigned char* query = nullptr;
        int query_len = 0;
        int status =
            ares_create_query(qname.c_str(), /*class IN*/ 1, type, 0, /*rd=*/1, &query, &query_len,
                              /*max_udpsize=*/0);
        if (status != ARES_SUCCESS) {
          P::Complete(pending, AresReply{status, {}});
          return;
        }
        ares_send(
            state->channel, query, query_len,
            [](void* arg, int st, int /*timeouts*/, unsigned char* abuf, int alen) {
              AresReply reply{st, {}};
              if (abuf && alen > 0) reply.message.assign(reinterpret_cast<char*>(abuf), alen);
              P::Complete(static_cast<P*>(arg), std::move(reply));
            },
            pending);
        ares_free_string(query);
        state->ScheduleTimeout();
      },
      asio::use_awaitable, name, qtype);
}

asio::awaitable<AresAddrinfoReply> AresChannel::GetAddrinfo(const std::string& name) {
  return asio::async_initiate<decltype(asio::use_awaitable), void(AresAddrinfoReply)>(
      [state = state_](auto handler, std::string host) {
        using P = Pending<decltype(handler), AresAddrinfoReply>;
        auto* pending = new P{std::move(handler), state->executor};
        ares_addrinfo_hints hints{};
        hints.ai_family = AF_UNSPEC;
        hints.ai_flags = ARES_AI_CANONNAME;
        ares_getaddrinfo(
            state->channel, host.c_str(), nullptr, &hints,
            [](void* arg, int st, int /*timeouts*/, ares_addrinfo* result) {
              AresAddrinfoReply reply;
              reply.status = st;
              if (result) {
                for (auto* c = result->cnames; c; c = c->next) {
                  if (c->name) reply.cnames.emplace_back(c->name);
                }
                for (auto* n = result->nodes; n; n = n->ai_next) {
                  char text[INET6_ADDRSTRLEN] = {};
                  if (n->ai_family == AF_INET) {
                    inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(n->ai_addr)->sin_addr, text,
                              sizeof text);
                  } else if (n->ai_family == AF_INET6) {
                    inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(n->ai_addr)->sin6_addr,
                              text, sizeof text);
                  } else {
                    continue;
                  }
                  reply.addresses.push_back({text, n->ai_family, n->ai_ttl});
                }
                ares_freeaddrinfo(result);
              }
              P::Complete(static_cast<P*>(arg), std::move(reply));
            },
            pending);
        state->ScheduleTimeout();
      },
      asio::use_awaitable, name);
}

}  // namespace vigil
