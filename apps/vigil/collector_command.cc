// `vigil collector`: the OONI-compatible collector (vantage/collector) until SIGINT or
// SIGTERM; raw measurements go to an archive directory in OONI's layout.
#include <cstdio>
#include <memory>
#include <thread>

#include "apps/vigil/commands.h"
#include "apps/vigil/exit_status.h"
#include "apps/vigil/live_store.h"
#include "apps/vigil/stop_signals.h"
#include "base/host_port.h"
#include "vantage/collector/collector_server.h"

namespace vigil::cli {
namespace {

struct CollectorFlags {
  std::string listen = "127.0.0.1:8080";
  std::string archive;
  std::vector<std::string> helpers;
  std::string relay;
  std::string data_dir;
  size_t max_body_kib = 8 << 10;
  size_t max_measurement_kib = 32 << 10;
  int dedup_days = 7;
  int collector_number = 1;
  size_t threads = 0;
  bool quiet = false;
  std::string store;
  bool no_store = false;
  size_t max_in_flight = 256;
  size_t store_queue_mib = 64;
};

constexpr const char* kCommand = "collector";

int RunCollector(const CollectorFlags& flags) {
  CollectorConfig config;
  auto listen = ParseHostPort(flags.listen);
  if (!listen.ok()) return Fail(kCommand, "--listen: " + listen.error());
  if (!IsIpLiteral(listen->host))
    return Fail(kCommand, "--listen: '" + listen->host + "' is not an IP address");
  if (flags.archive.empty())
    return Fail(kCommand, "--archive DIR is required (where measurements are kept)");
  config.http.listen_ip = listen->host;
  config.http.listen_port = listen->port;
  config.http.threads = flags.threads;
  config.http.log_requests = !flags.quiet;
  config.http.max_in_flight = flags.max_in_flight;
  config.archive.root = flags.archive;
  config.archive.dedup_days = flags.dedup_days;
  config.max_body_bytes = flags.max_body_kib << 10;
  config.limits.max_measurement_bytes = flags.max_measurement_kib << 10;
  config.collector_number = flags.collector_number;
  config.test_helpers = flags.helpers;
  config.relay = flags.relay;
  const std::string data_dir = flags.data_dir.empty() ? DefaultDataDir() : flags.data_dir;
  config.testlists_dir = data_dir + "/lists";

  // Before any thread starts: the server's pool and the archive's writer inherit the mask.
  const StopSignals signals;

  RecoveryReport recovery;
  auto server = CollectorServer::Create(config, &recovery);
  if (!server.ok()) return Fail(kCommand, server.error());
  std::fprintf(stderr,
               "vigil collector: archive %s: %zu measurements in %zu files of the last %d days",
               flags.archive.c_str(), recovery.measurements, recovery.files, flags.dedup_days);
  if (recovery.torn_files > 0) {
    std::fprintf(stderr,
                 "; cut off %zu bytes of unacknowledged batches torn by a crash in %zu files",
                 recovery.torn_bytes, recovery.torn_files);
  }
  std::fprintf(stderr, "\n");
  for (const auto& problem : recovery.problems)
    std::fprintf(stderr, "vigil collector: %s\n", problem.c_str());
  // Measurements reach the analyzer's store as they arrive (after the archive has them).
  std::unique_ptr<LiveStore> live;
  if (!flags.no_store) {
    // Beside the archive, not in its layout: neither recovery nor `vigil analyze ARCHIVE`
    // reads it as measurements.
    auto opened = LiveStore::Open(flags.store, data_dir, flags.archive + "/.store-backlog",
                                  flags.store_queue_mib << 20);
    if (!opened.ok()) return Fail(kCommand, opened.error());
    live = std::move(*opened);
    LiveStore* feed = live.get();
    (*server)->archive().SetOnCommitted(
        [feed](const std::vector<ArchivedMeasurement>& stored) { feed->Add(stored); });
    std::fprintf(stderr, "vigil collector: feeding the analysis store %s\n",
                 live->Describe().c_str());
  }
  auto port = (*server)->Bind();
  if (!port.ok()) return Fail(kCommand, port.error());
  std::fprintf(stderr, "vigil collector: listening on %s:%u\n", BracketedHost(listen->host).c_str(),
               static_cast<unsigned>(*port));
  std::fflush(stderr);
  CollectorServer& s = **server;
  signals.ServeUntilSignal([&s] { s.Serve(); }, [&s] { s.Stop(); });
  server->reset();  // the archive's last batch reaches the store before it closes
  live.reset();
  return kExitOk;
}

}  // namespace

void AddCollectorCommand(CLI::App& app) {
  auto flags = std::make_shared<CollectorFlags>();
  CLI::App* c = app.add_subcommand(
      "collector", "Receive measurements over OONI's collector API and keep them durably");
  c->add_option("--listen", flags->listen, "IP:PORT to listen on ([v6]:port)")
      ->capture_default_str();
  c->add_option("--archive", flags->archive,
                "Directory of raw measurements (YYYYMMDD/HH/CC/testname/*.jsonl.gz)")
      ->required();
  c->add_option("--helper", flags->helpers,
                "A control helper URL to give probes at check-in; repeatable");
  c->add_option("--relay", flags->relay,
                "The message relay (HOST:PORT) to give probes at check-in");
  c->add_option("--data-dir", flags->data_dir,
                "The testlists/ directory (check-in URLs; default: found)");
  c->add_option("--max-body-kib", flags->max_body_kib, "Largest request body, as sent (KiB)")
      ->check(CLI::Range(size_t{1}, size_t{1} << 20))
      ->capture_default_str();
  c->add_option("--max-measurement-kib", flags->max_measurement_kib,
                "Largest measurement once inflated (KiB): bounds gzip bombs")
      ->check(CLI::Range(size_t{1}, size_t{1} << 20))
      ->capture_default_str();
  c->add_option("--dedup-days", flags->dedup_days,
                "Days of the archive read at start to recognise measurements sent again")
      ->check(CLI::Range(0, 3650))
      ->capture_default_str();
  c->add_option("--collector-number", flags->collector_number,
                "This collector's n<N> in report ids")
      ->check(CLI::Range(0, 999))
      ->capture_default_str();
  c->add_option("--threads", flags->threads, "Event-loop threads; 0 = one per core")
      ->check(CLI::Range(size_t{0}, size_t{256}))
      ->capture_default_str();
  c->add_flag("--quiet", flags->quiet, "Do not log one line per request");
  c->add_option(
      "--store", flags->store,
      "The analysis store fed as measurements arrive: sqlite:PATH or clickhouse://HOST:PORT/DB "
      "(default: vigil analyze's SQLite file)");
  c->add_flag("--no-store", flags->no_store, "Only archive; feed no analysis store");
  c->add_option("--max-in-flight", flags->max_in_flight,
                "Requests handled at once at most; beyond it 503 with Retry-After (0: no cap)")
      ->check(CLI::Range(size_t{0}, size_t{1} << 20))
      ->capture_default_str();
  c->add_option("--store-queue-mib", flags->store_queue_mib,
                "Measurements waiting for the analysis store in memory at most (MiB); beyond "
                "it they wait in ARCHIVE/.store-backlog")
      ->check(CLI::Range(size_t{1}, size_t{1} << 16))
      ->capture_default_str();
  c->callback([flags] { SetExitCode(RunCollector(*flags)); });
}

}  // namespace vigil::cli
