// `vigil helper`: runs the control helper of web_connectivity and the messaging
// experiments (vantage/helper) until SIGINT or SIGTERM.
#include <cstdio>
#include <memory>
#include <thread>

#include "apps/vigil/commands.h"
#include "apps/vigil/exit_status.h"
#include "apps/vigil/stop_signals.h"
#include "base/host_port.h"
#include "probe/geo/asn_database.h"
#include "probe/tls/tls_observer.h"
#include "vantage/helper/helper_server.h"
#include "vantage/helper/whoami_dns.h"

namespace vigil::cli {

namespace {

struct HelperFlags {
  std::string listen = "127.0.0.1:8090";
  std::string resolver = "system";
  std::string ca_file;
  std::string asn_db;
  double timeout_seconds = 5;
  size_t max_in_flight = 16;
  size_t threads = 0;
  bool allow_private = false;
  bool quiet = false;
  std::string whoami_dns;   // IP:PORT
  std::string whoami_zone;  // the zone delegated to it
};

constexpr const char* kCommand = "helper";

int RunHelper(const HelperFlags& flags) {
  HelperConfig config;
  auto listen = ParseHostPort(flags.listen);
  if (!listen.ok()) return Fail(kCommand, "--listen: " + listen.error());
  if (!IsIpLiteral(listen->host))
    return Fail(kCommand, "--listen: '" + listen->host + "' is not an IP address");
  config.listen_ip = listen->host;
  config.listen_port = listen->port;
  auto resolver = ParseResolverSpec(flags.resolver);
  if (!resolver.ok()) return Fail(kCommand, "--resolver: " + resolver.error());
  config.measurement.resolver = *resolver;
  if (!flags.ca_file.empty()) {
    auto ca = CheckCaFile(flags.ca_file);
    if (!ca.ok()) return Fail(kCommand, "--ca-file: " + ca.error());
  }
  config.measurement.ca_file = flags.ca_file;
  if (!flags.asn_db.empty()) {
    auto db = AsnDatabase::Open(flags.asn_db);
    if (!db.ok()) return Fail(kCommand, "--asn-db: " + db.error());
    config.measurement.asn_db = *db;
  }
  config.measurement.timeout =
      std::chrono::milliseconds(static_cast<int64_t>(flags.timeout_seconds * 1000));
  config.measurement.allow_bogons = flags.allow_private;
  config.max_in_flight = flags.max_in_flight;
  config.threads = flags.threads;
  config.log_requests = !flags.quiet;

  // Before any thread starts: the server's pool and the whoami server inherit the mask.
  const StopSignals signals;

  std::unique_ptr<WhoamiDnsServer> whoami;
  if (flags.whoami_dns.empty() != flags.whoami_zone.empty()) {
    return Fail(kCommand, "--whoami-dns and --whoami-zone go together");
  }
  if (!flags.whoami_dns.empty()) {
    auto where = ParseHostPort(flags.whoami_dns);
    if (!where.ok()) return Fail(kCommand, "--whoami-dns: " + where.error());
    whoami = std::make_unique<WhoamiDnsServer>(flags.whoami_zone, where->host, where->port);
    auto bound = whoami->Bind();
    if (!bound.ok()) return Fail(kCommand, bound.error());
    std::fprintf(stderr, "vigil helper: whoami DNS for %s on %s\n", flags.whoami_zone.c_str(),
                 flags.whoami_dns.c_str());
  }
  HelperServer server(config);
  auto port = server.Bind();
  if (!port.ok()) return Fail(kCommand, port.error());
  std::thread whoami_thread;
  if (whoami) whoami_thread = std::thread([&whoami] { whoami->Serve(); });
  std::fprintf(stderr, "vigil helper: listening on %s:%u (resolver %s%s)\n",
               BracketedHost(listen->host).c_str(), static_cast<unsigned>(*port),
               flags.resolver.c_str(), flags.allow_private ? ", private addresses allowed" : "");
  std::fflush(stderr);

  signals.ServeUntilSignal([&server] { server.Serve(); }, [&server] { server.Stop(); });
  if (whoami) {
    whoami->Stop();
    whoami_thread.join();
  }
  return kExitOk;
}

}  // namespace

void AddHelperCommand(CLI::App& app) {
  auto flags = std::make_shared<HelperFlags>();
  CLI::App* helper = app.add_subcommand(
      "helper",
      "Serve control measurements for web_connectivity and the messaging experiments (OONI's "
      "test-helper protocol)");
  helper->add_option("--listen", flags->listen, "IP:PORT to listen on ([v6]:port)")
      ->capture_default_str();
  helper
      ->add_option("--resolver", flags->resolver,
                   "The helper's own resolver: system, udp://IP:PORT or tcp://IP:PORT")
      ->capture_default_str();
  helper->add_option("--asn-db", flags->asn_db,
                     "An ASN database (GeoLite2-ASN-style mmdb): fills ip_info's asn");
  helper->add_option("--ca-file", flags->ca_file,
                     "PEM CA bundle for HTTPS (default: system store)");
  helper
      ->add_option("--timeout", flags->timeout_seconds,
                   "Deadline of each step in seconds (a whole fetch gets three)")
      ->check(CLI::Range(0.05, 600.0))
      ->capture_default_str();
  helper->add_option("--max-in-flight", flags->max_in_flight, "Measurements at once; more get 503")
      ->check(CLI::Range(size_t{1}, size_t{1024}))
      ->capture_default_str();
  helper
      ->add_option("--threads", flags->threads,
                   "Event-loop threads (each serves many connections); 0 = one per core")
      ->check(CLI::Range(size_t{0}, size_t{256}))
      ->capture_default_str();
  helper->add_flag("--allow-private", flags->allow_private,
                   "Also measure private, loopback and other bogon addresses (labs, tests)");
  helper->add_flag("--quiet", flags->quiet, "Do not log one line per request");
  helper->add_option(
      "--whoami-dns", flags->whoami_dns,
      "Also answer DNS on IP:PORT for --whoami-zone with the asking resolver's address");
  helper->add_option(
      "--whoami-zone", flags->whoami_zone,
      "The zone delegated to --whoami-dns (probes set resolver_whoami to a name in it)");
  helper->callback([flags] { SetExitCode(RunHelper(*flags)); });
}

}  // namespace vigil::cli
