#include "vantage/relay/relay_server.h"

#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "vantage/http/server.h"
#include "vantage/relay/relay_tcp_server.h"

namespace vigil::relay {

struct RelayServer::Impl {
  // The store outlives the servers, whose connections use it.
  RelayConfig config;
  SessionStore store;
  RelayHttpApi api;
  std::unique_ptr<HttpServer> http, https;
  std::unique_ptr<RelayTcpServer> tcp;

  std::mutex mutex;
  std::condition_variable stopped;
  bool stop_requested = false;  // guarded by mutex

  explicit Impl(RelayConfig c) : config(std::move(c)), store(config.limits), api(store) {
    if (config.http) http = MakeHttp(*config.http, false);
    if (config.https) https = MakeHttp(*config.https, true);
    if (config.tcp) {
      RelayTcpConfig t;
      t.listen_ip = config.tcp->ip;
      t.listen_port = config.tcp->port;
      t.threads = config.threads;
      t.idle_timeout = config.idle_timeout;
      t.log_requests = config.log_requests;
      tcp = std::make_unique<RelayTcpServer>(t, store);
    }
  }

  std::unique_ptr<HttpServer> MakeHttp(const RelayListen& listen, bool tls) {
    HttpServerConfig s;
    s.name = tls ? "vigil relay https" : "vigil relay http";
    s.listen_ip = listen.ip;
    s.listen_port = listen.port;
    s.threads = config.threads;
    s.log_requests = config.log_requests;
    s.log_path = [](std::string_view path) { return RelayHttpApi::LogPath(path); };
    // The largest request is a message; anything longer is refused before it is read.
    s.max_request_bytes = config.limits.max_message_bytes;
    // A sender keeps its connection between messages (each after the last one's
    // delivery was awaited); a receiver long-polls on its own.
    s.keep_alive = config.idle_timeout;
    s.keep_alive_max_requests = 100000;
    if (tls) {
      s.tls_cert_file = config.cert_file;
      s.tls_key_file = config.key_file;
    }
    return std::make_unique<HttpServer>(
        s, [this](const RequestHead& head, std::string_view path) { return api.Admit(head, path); },
        [this](const ServerRequest& request) { return api.Handle(request); });
  }

  // Removes expired sessions every sweep_interval until Stop.
  void SweepUntilStopped() {
    std::unique_lock lock(mutex);
    while (!stopped.wait_for(lock, config.sweep_interval, [this] { return stop_requested; })) {
      lock.unlock();
      store.Sweep();
      lock.lock();
    }
  }
};

RelayServer::RelayServer(RelayConfig config) : impl_(std::make_unique<Impl>(std::move(config))) {}

RelayServer::~RelayServer() { Stop(); }

SessionStore& RelayServer::store() { return impl_->store; }

Result<RelayInfo> RelayServer::Bind() {
  if (!impl_->http && !impl_->https) {
    return Error{"the relay needs an HTTP or HTTPS listener (sessions are made there)"};
  }
  RelayInfo info;
  auto bind = [](auto& server, const char* what, std::optional<uint16_t>* port) -> Result<void> {
    auto bound = server->Bind();
    if (!bound.ok()) return Error{std::string(what) + " listener: " + bound.error()};
    *port = *bound;
    return {};
  };
  if (impl_->http) {
    auto r = bind(impl_->http, "HTTP", &info.http_port);
    if (!r.ok()) return Error{r.error()};
  }
  if (impl_->https) {
    auto r = bind(impl_->https, "HTTPS", &info.https_port);
    if (!r.ok()) return Error{r.error()};
  }
  if (impl_->tcp) {
    auto r = bind(impl_->tcp, "TCP", &info.tcp_port);
    if (!r.ok()) return Error{r.error()};
  }
  impl_->api.SetInfo(info);
  return info;
}

void RelayServer::Serve() {
  std::vector<std::thread> threads;
  if (impl_->https) threads.emplace_back([this] { impl_->https->Serve(); });
  if (impl_->tcp) threads.emplace_back([this] { impl_->tcp->Serve(); });
  threads.emplace_back([this] { impl_->SweepUntilStopped(); });
  if (impl_->http) impl_->http->Serve();
  for (auto& thread : threads) thread.join();
}

void RelayServer::Stop() {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stop_requested = true;
  }
  impl_->stopped.notify_all();
  if (impl_->http) impl_->http->Stop();
  if (impl_->https) impl_->https->Stop();
  if (impl_->tcp) impl_->tcp->Stop();
}

}  // namespace vigil::relay
