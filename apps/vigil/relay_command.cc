// `vigil relay`: the delivery experiment's message relay (vantage/relay) on HTTP, HTTPS
// and the TCP line protocol, until SIGINT or SIGTERM.
#include <cctype>
#include <cstdio>
#include <memory>
#include <string>

#include "apps/vigil/commands.h"
#include "apps/vigil/exit_status.h"
#include "apps/vigil/stop_signals.h"
#include "base/host_port.h"
#include "vantage/relay/relay_server.h"

namespace vigil::cli {

namespace {

struct RelayFlags {
  std::string listen_http, listen_https, listen_tcp;  // IP:PORT
  std::string cert, key;
  relay::RelayLimits limits;
  std::string max_memory = "64M";
  int64_t session_ttl_seconds = 600;
  size_t threads = 1;
  bool quiet = false;
};

constexpr const char* kCommand = "relay";

// "IP:PORT" → a listener; the error names the flag.
Result<relay::RelayListen> ParseListen(const char* flag, const std::string& text) {
  auto where = ParseHostPort(text);
  if (!where.ok()) return Error{std::string(flag) + ": " + where.error()};
  if (!IsIpLiteral(where->host)) {
    return Error{std::string(flag) + ": '" + where->host + "' is not an IP address"};
  }
  return relay::RelayListen{where->host, where->port};
}

// "67108864", "64K", "64M", "1G" (powers of 1024) → bytes.
Result<size_t> ParseSize(const std::string& text) {
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  const std::string suffix = text.substr(digits);
  int shift = -1;
  if (suffix.empty()) shift = 0;
  if (suffix == "K" || suffix == "k") shift = 10;
  if (suffix == "M" || suffix == "m") shift = 20;
  if (suffix == "G" || suffix == "g") shift = 30;
  if (digits == 0 || digits > 12 || shift < 0) {
    return Error{"'" + text + "' is not a size (bytes, or a number with K, M or G)"};
  }
  const size_t value = std::stoull(text.substr(0, digits)) << shift;
  if (value == 0) return Error{"'" + text + "' is not a size above 0"};
  return value;
}

int RunRelay(const RelayFlags& flags) {
  relay::RelayConfig config;
  if (flags.listen_http.empty() && flags.listen_https.empty()) {
    return Fail(kCommand, "--listen-http or --listen-https is required (sessions are made there)");
  }
  if (!flags.listen_http.empty()) {
    auto listen = ParseListen("--listen-http", flags.listen_http);
    if (!listen.ok()) return Fail(kCommand, listen.error());
    config.http = *listen;
  }
  if (!flags.listen_https.empty()) {
    auto listen = ParseListen("--listen-https", flags.listen_https);
    if (!listen.ok()) return Fail(kCommand, listen.error());
    if (flags.cert.empty() || flags.key.empty()) {
      return Fail(kCommand, "--listen-https needs --cert FILE and --key FILE");
    }
    config.https = *listen;
  } else if (!flags.cert.empty() || !flags.key.empty()) {
    return Fail(kCommand, "--cert and --key go with --listen-https");
  }
  if (!flags.listen_tcp.empty()) {
    auto listen = ParseListen("--listen-tcp", flags.listen_tcp);
    if (!listen.ok()) return Fail(kCommand, listen.error());
    config.tcp = *listen;
  }
  config.cert_file = flags.cert;
  config.key_file = flags.key;
  config.limits = flags.limits;
  auto memory = ParseSize(flags.max_memory);
  if (!memory.ok()) return Fail(kCommand, "--max-memory: " + memory.error());
  config.limits.max_memory_bytes = *memory;
  config.limits.session_ttl = std::chrono::seconds(flags.session_ttl_seconds);
  config.threads = flags.threads;
  config.log_requests = !flags.quiet;

  // Before any thread starts: the listeners' pools and the sweeper inherit the mask.
  const StopSignals signals;
  relay::RelayServer server(config);
  auto bound = server.Bind();
  if (!bound.ok()) return Fail(kCommand, bound.error());
  auto where = [](const std::optional<relay::RelayListen>& listen, std::optional<uint16_t> port) {
    return BracketedHost(listen->ip) + ":" + std::to_string(*port);
  };
  std::string listening;
  if (config.http) listening += " HTTP " + where(config.http, bound->http_port);
  if (config.https) listening += " HTTPS " + where(config.https, bound->https_port);
  if (config.tcp) listening += " TCP " + where(config.tcp, bound->tcp_port);
  const relay::RelayLimits& limits = config.limits;
  std::fprintf(stderr,
               "vigil relay: listening on%s (at most %zu sessions, %zu messages of %zu bytes "
               "each, %zu MiB held; sessions expire %llds after their last use)\n",
               listening.c_str(), limits.max_sessions, limits.max_messages,
               limits.max_message_bytes, limits.max_memory_bytes >> 20,
               static_cast<long long>(limits.session_ttl.count()));
  std::fflush(stderr);

  signals.ServeUntilSignal([&server] { server.Serve(); }, [&server] { server.Stop(); });
  return kExitOk;
}

}  // namespace

void AddRelayCommand(CLI::App& app) {
  auto flags = std::make_shared<RelayFlags>();
  CLI::App* relay = app.add_subcommand(
      "relay",
      "Relay the delivery experiment's messages (sessions over HTTP/HTTPS; messages over TCP, "
      "HTTP or HTTPS)");
  relay->add_option("--listen-http", flags->listen_http,
                    "IP:PORT for HTTP ([v6]:port): sessions, messages, long polls");
  relay->add_option("--listen-https", flags->listen_https,
                    "IP:PORT for HTTPS (with --cert and --key): the same as HTTP");
  relay->add_option("--cert", flags->cert, "PEM certificate chain for --listen-https");
  relay->add_option("--key", flags->key, "PEM private key of --cert");
  relay->add_option("--listen-tcp", flags->listen_tcp,
                    "IP:PORT for the TCP line protocol (SEND ID TOKEN TEXT)");
  relay->add_option("--max-sessions", flags->limits.max_sessions, "Sessions at once; more get 503")
      ->check(CLI::Range(size_t{1}, size_t{10000000}))
      ->capture_default_str();
  relay
      ->add_option("--max-message-bytes", flags->limits.max_message_bytes,
                   "Bytes per message; more get 413 / ERR too_long")
      ->check(CLI::Range(size_t{1}, size_t{1} << 20))
      ->capture_default_str();
  relay
      ->add_option("--max-messages", flags->limits.max_messages,
                   "Messages a session accepts over its life; more get 429 / ERR too_many")
      ->check(CLI::Range(size_t{1}, size_t{10000000}))
      ->capture_default_str();
  relay
      ->add_option("--max-memory", flags->max_memory,
                   "Bytes held across sessions (K, M, G suffixes); beyond: 507 / ERR full")
      ->capture_default_str();
  relay
      ->add_option("--session-ttl", flags->session_ttl_seconds,
                   "Seconds after its last use that a session expires")
      ->check(CLI::Range(int64_t{1}, int64_t{7} * 86400))
      ->capture_default_str();
  relay
      ->add_option("--threads", flags->threads,
                   "Event-loop threads per listener (each serves many connections); 0 = one per "
                   "core")
      ->check(CLI::Range(size_t{0}, size_t{256}))
      ->capture_default_str();
  relay->add_flag("--quiet", flags->quiet, "Do not log one line per request");
  relay->callback([flags] { SetExitCode(RunRelay(*flags)); });
}

}  // namespace vigil::cli
