// `vigil run <experiment|group>`: runs experiments (the messaging group `im`, the
// `websites` group over the test lists, `all`, or one experiment by name) through
// the runner (vantage/runner). This file merges flags with the volunteer's config and
// prints: a progress line while the run goes on, a verdict table at the end (and the
// measurements as JSON lines on stdout with --batch).
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "apps/vigil/commands.h"
#include "apps/vigil/exit_status.h"
#include "apps/vigil/run_judge.h"
#include "apps/vigil/volunteer.h"
#include "base/utc_time.h"
#include "probe/experiments/registry.h"
#include "probe/experiments/run_verdict.h"
#include "vantage/runner/run_plan.h"
#include "vantage/runner/runner.h"

namespace vigil::cli {

namespace {

struct RunFlags {
  std::string target;
  std::vector<std::string> inputs;
  std::string input_file;
  std::vector<std::string> categories;
  std::string country;
  bool batch = false;
  std::string output;
  std::string resolver = "system";
  std::string ca_file;
  double timeout_seconds = 10;
  size_t parallel = 4;
  size_t per_host = 2;
  size_t step_parallelism = 8;
  std::string endpoints_file;
  std::string asn_db;
  std::string helper_url;
  // The delivery experiment (the config's "delivery" and "relay" unless given).
  std::string transport, relay, keywords, mqtt_broker, xmpp_server;
  double delivery_wait_seconds = -1, stateful_wait_seconds = -1;
  // residual_blocking and censor_hop (InjectionOptions' defaults unless given).
  double residual_interval_seconds = -1, residual_bound_seconds = -1;
  int max_ttl = -1;
  // dns_injection.
  std::string dns_sink;
  double dns_listen_seconds = 2;
  std::vector<std::string> forged_ip_files;
  std::string data_dir;
  std::string config;
  std::string country_db;
  std::string resolver_whoami;
  int max_runtime_seconds = -1;  // -1: the config's
  bool unattended = false;
  bool no_upload = false;
  std::vector<std::string> canaries;
  bool no_network_check = false;
  // Packet evidence.
  bool no_capture = false;
  std::string pcap_file;
  // Whether a flag was given (else the config's value applies).
  bool parallel_given = false, per_host_given = false, helper_given = false, asn_db_given = false,
       categories_given = false;
};

std::string DefaultOutput() {
  std::string base;
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg && *xdg) {
    base = xdg;
  } else if (const char* home = std::getenv("HOME"); home && *home) {
    base = std::string(home) + "/.local/share";
  } else {
    base = ".";
  }
  return base + "/vigil/measurements/run-" + FormatUtcNow(kUtcCompact) + ".jsonl";
}

std::string Pad(std::string s, size_t width) {
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s;
}

// The verdict table: one row per measurement, columns sized to their content
// (evidence last, unpadded); the technique column only when some row has one.
void PrintTable(const std::vector<JobOutcome>& rows) {
  size_t w_service = 7, w_test = 4, w_verdict = 7, w_blocking = 8, w_technique = 0;
  for (const auto& r : rows) {
    w_service = std::max(w_service, std::min<size_t>(r.summary.service.size(), 48));
    w_test = std::max(w_test, r.test.size());
    w_verdict = std::max(w_verdict, RunVerdictName(r.summary.verdict).size());
    w_blocking = std::max(w_blocking, r.summary.blocking.size());
    if (!r.summary.technique.empty())
      w_technique = std::max(w_technique, r.summary.technique.size());
  }
  if (w_technique > 0) w_technique = std::max<size_t>(w_technique, 9);
  auto line = [&](const std::string& a, const std::string& b, const std::string& c,
                  const std::string& d, const std::string& t, const std::string& e) {
    std::string service = a.size() > 48 ? a.substr(0, 45) + "..." : a;
    std::cout << Pad(service, w_service) << "  " << Pad(b, w_test) << "  " << Pad(c, w_verdict)
              << "  " << Pad(d, w_blocking) << "  ";
    if (w_technique > 0) std::cout << Pad(t, w_technique) << "  ";
    std::cout << e << "\n";
  };
  line("SERVICE", "TEST", "VERDICT", "BLOCKING", "TECHNIQUE", "EVIDENCE");
  for (const auto& r : rows) {
    line(r.summary.service, r.test, std::string(RunVerdictName(r.summary.verdict)),
         r.summary.blocking.empty() ? "-" : r.summary.blocking,
         r.summary.technique.empty() ? "-" : r.summary.technique,
         r.summary.evidence.empty() ? "-" : r.summary.evidence);
    for (const auto& detail : r.summary.details) std::cout << "    " << detail << "\n";
  }
}

class Progress {
 public:
  Progress(bool enabled, size_t total)
      : enabled_(enabled), tty_(isatty(STDERR_FILENO) == 1), total_(total) {}

  void Done(const JobOutcome& row) {
    ++done_;
    if (!enabled_) return;
    std::string text = "[" + std::to_string(done_) + "/" + std::to_string(total_) + "] ";
    if (done_ < total_) {
      // The time left at the pace so far.
      const double elapsed =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
      const long left = static_cast<long>(
          elapsed / static_cast<double>(done_) * static_cast<double>(total_ - done_) + 0.5);
      text += "ETA " + (left >= 60 ? std::to_string(left / 60) + "m" : "") +
              std::to_string(left % 60) + "s ";
    }
    text += row.test + " " + row.summary.service + ": " +
            std::string(RunVerdictName(row.summary.verdict));
    if (!row.summary.blocking.empty()) text += " (" + row.summary.blocking + ")";
    if (tty_) {
      std::fprintf(stderr, "\r\033[K%s", text.c_str());
      if (done_ == total_) std::fputc('\n', stderr);
    } else {
      std::fprintf(stderr, "vigil run: %s\n", text.c_str());
    }
    std::fflush(stderr);
  }

 private:
  bool enabled_;
  bool tty_;
  size_t total_;
  size_t done_ = 0;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

// The volunteer's terminal: notes on stderr, the progress line, geolocation's
// answer, uploads.
class Terminal : public RunObserver {
 public:
  Terminal(bool batch, bool quiet_upload, size_t jobs)
      : batch_(batch), quiet_upload_(quiet_upload), progress_(!batch, jobs) {}

  void OnNote(const std::string& text) override {
    std::fprintf(stderr, "vigil run: %s\n", text.c_str());
  }

  void OnLocated(const GeoInfo& geo) override {
    if (batch_) return;
    for (const auto& note : geo.notes)
      std::fprintf(stderr, "vigil run: geolocation: %s\n", note.c_str());
    std::fprintf(stderr, "vigil run: network %s (%s), country %s\n", geo.probe_asn.c_str(),
                 geo.probe_network_name.empty() ? "unknown" : geo.probe_network_name.c_str(),
                 geo.probe_cc.c_str());
  }

  void OnJobDone(const JobOutcome& job) override { progress_.Done(job); }

  void OnUploaded(const UploadProgress& p) override { PrintUploadProgress(p, quiet_upload_); }

 private:
  bool batch_;
  bool quiet_upload_;
  Progress progress_;
};

void PrintSummary(const std::vector<JobOutcome>& rows, const RunOutcome& outcome,
                  const std::string& output, int max_runtime_seconds) {
  PrintTable(rows);
  std::array<size_t, kRunVerdicts.size()> counts{};
  for (const auto& r : rows) ++counts[static_cast<size_t>(r.summary.verdict)];
  // ok, blocked and anomaly always; the other verdicts when they occur.
  std::cout << "\n" << rows.size() << " measurements: ";
  bool first = true;
  for (RunVerdict v : kRunVerdicts) {
    const size_t n = counts[static_cast<size_t>(v)];
    const bool always =
        v == RunVerdict::kOk || v == RunVerdict::kBlocked || v == RunVerdict::kAnomaly;
    if (n == 0 && !always) continue;
    std::cout << (first ? "" : ", ") << n << " " << RunVerdictName(v);
    first = false;
  }
  if (!output.empty()) std::cout << "; written to " << output;
  std::cout << "\n";
  if (counts[static_cast<size_t>(RunVerdict::kNoNetwork)] > 0) {
    std::cout << "no_network: this machine's own network did not work (no canary answered: the "
                 "resolver, the helper, the collectors), so those failures say nothing about "
                 "censorship\n";
  }
  if (outcome.not_started > 0) {
    std::cout << outcome.not_started << " not started: the run's time budget ("
              << max_runtime_seconds << " s) was reached\n";
  }
  std::cout << "run " << outcome.run_id << " in the results database (vigil results show "
            << outcome.run_id << ")\n";
}

int Run(RunFlags& flags) {
  constexpr const char* kCommand = "run";
  if (flags.data_dir.empty()) flags.data_dir = DefaultDataDir();

  // Nothing measures before informed consent.
  auto volunteer = LoadVolunteer(flags.config, /*need_consent=*/true);
  if (!volunteer.ok()) return Fail(kCommand, volunteer.error());
  const VantageConfig& config = volunteer->config;
  if (!flags.parallel_given) flags.parallel = static_cast<size_t>(config.parallel);
  if (!flags.per_host_given) flags.per_host = static_cast<size_t>(config.per_host);
  if (!flags.helper_given && !config.helper.empty()) flags.helper_url = config.helper;
  if (!flags.asn_db_given && !config.asn_db.empty()) flags.asn_db = config.asn_db;
  if (!flags.categories_given && !config.categories.empty()) flags.categories = config.categories;
  if (flags.country_db.empty()) flags.country_db = config.country_db;
  if (flags.resolver_whoami.empty()) flags.resolver_whoami = config.resolver_whoami;
  if (flags.max_runtime_seconds < 0) flags.max_runtime_seconds = config.max_runtime_seconds;
  if (flags.unattended) flags.batch = false;

  auto note = [](const std::string& text) {
    std::fprintf(stderr, "vigil run: %s\n", text.c_str());
  };
  PlanRequest request{flags.target,     flags.inputs,  flags.input_file,
                      flags.categories, flags.country, flags.data_dir};
  if (!config.delivery.enabled) {
    request.not_enabled.push_back(
        {"delivery",
         "it sends politically sensitive words across this network; `vigil onboard "
         "--delivery` explains and enables it"});
  }
  auto plan = PlanRun(request, ExperimentRegistry::Builtin(), note);
  if (!plan.ok()) return Fail(kCommand, plan.error());
  const size_t job_count = plan->jobs.size();

  RunSettings settings;
  settings.resolver = flags.resolver;
  settings.ca_file = flags.ca_file;
  settings.timeout = std::chrono::milliseconds(static_cast<int64_t>(flags.timeout_seconds * 1000));
  settings.step_parallelism = flags.step_parallelism;
  settings.endpoints_file = flags.endpoints_file;
  settings.asn_db = flags.asn_db;
  settings.helper_url = flags.helper_url;
  settings.data_dir = flags.data_dir;
  {
    const auto& d = config.delivery;
    DeliveryOptions& o = settings.delivery;
    o.enabled = d.enabled && !d.acknowledged_at.empty();
    o.transport = flags.transport.empty() ? d.transport : flags.transport;
    o.relay_url = RelayUrl(flags.relay.empty() ? config.relay : flags.relay);
    o.keywords_file = flags.keywords.empty() ? d.keywords : flags.keywords;
    o.mqtt_broker = flags.mqtt_broker.empty() ? d.mqtt_broker : flags.mqtt_broker;
    o.xmpp_server = flags.xmpp_server.empty() ? d.xmpp_server : flags.xmpp_server;
    o.xmpp_sender_jid = d.xmpp_sender;
    o.xmpp_sender_password = d.xmpp_sender_password;
    o.xmpp_receiver_jid = d.xmpp_receiver;
    o.xmpp_receiver_password = d.xmpp_receiver_password;
    const double wait =
        flags.delivery_wait_seconds >= 0 ? flags.delivery_wait_seconds : d.wait_seconds;
    o.delivery_wait = std::chrono::milliseconds(static_cast<int64_t>(wait * 1000));
    const double stateful =
        flags.stateful_wait_seconds >= 0 ? flags.stateful_wait_seconds : d.stateful_wait_seconds;
    o.stateful_wait = std::chrono::seconds(static_cast<int64_t>(stateful));
  }
  if (flags.residual_interval_seconds > 0) {
    settings.injection.residual_interval =
        std::chrono::milliseconds(static_cast<int64_t>(flags.residual_interval_seconds * 1000));
  }
  if (flags.residual_bound_seconds > 0) {
    settings.injection.residual_bound =
        std::chrono::seconds(static_cast<int64_t>(flags.residual_bound_seconds));
  }
  if (flags.max_ttl > 0) settings.injection.max_ttl = flags.max_ttl;
  settings.injection.dns_sink = flags.dns_sink;
  settings.injection.dns_listen =
      std::chrono::milliseconds(static_cast<int64_t>(flags.dns_listen_seconds * 1000));
  settings.injection.forged_ip_files = flags.forged_ip_files;
  settings.country_db = flags.country_db;
  settings.resolver_whoami = flags.resolver_whoami;
  settings.parallel = flags.parallel;
  settings.per_host = flags.per_host;
  if (flags.max_runtime_seconds > 0)
    settings.max_runtime = std::chrono::seconds(flags.max_runtime_seconds);
  settings.output = flags.output;
  if (settings.output.empty() && !flags.batch) settings.output = DefaultOutput();
  settings.to_stdout = flags.batch;
  settings.spool_dir = volunteer->spool_dir;
  settings.results_db = volunteer->results_db;
  settings.upload = config.upload && !flags.no_upload;
  settings.collectors = config.collectors;
  settings.network_check = !flags.no_network_check;
  settings.canaries = flags.canaries;
  settings.capture = !flags.no_capture;
  settings.pcap_file = flags.pcap_file;
  // The analyzer's rules give every verdict this command prints and keeps.
  // A --data-dir of one's own lists without verdict rules is judged by the shipped ones.
  std::string rules_dir = flags.data_dir;
  if (!std::filesystem::exists(rules_dir + "/verdict/rules.json")) rules_dir = DefaultDataDir();
  auto judge = MakeRunJudge(rules_dir);
  if (!judge.ok()) return Fail(kCommand, judge.error());
  settings.judge = std::move(*judge);

  const bool quiet_upload = flags.batch || flags.unattended;
  Terminal terminal(flags.batch, quiet_upload, job_count);
  auto runner = Runner::Open(std::move(*plan), settings, terminal);
  if (!runner.ok()) return Fail(kCommand, runner.error());
  const RunOutcome outcome = (*runner)->Run();
  if (outcome.error) return Fail(kCommand, *outcome.error, kExitFailed);

  int status = kExitOk;
  if (!flags.batch) {
    PrintSummary(outcome.jobs, outcome, settings.output, flags.max_runtime_seconds);
  }
  if ((*runner)->uploading()) {
    // The rest of the time budget, if there is one: a blocked collector cannot stall
    // the probe; what is not sent stays pending for `vigil upload` or the next run.
    const int upload_status =
        PrintUploadReport((*runner)->Upload(), *volunteer, quiet_upload, outcome.deadline);
    if (upload_status == kExitUsage) status = kExitFailed;
  } else if (!flags.batch && config.upload && config.collectors.empty()) {
    std::fprintf(
        stderr,
        "vigil run: uploading is on but no collector is configured: measurements stay pending\n");
  }
  if (outcome.could_not_run > 0) status = kExitFailed;
  return status;
}

}  // namespace

void AddRunCommand(CLI::App& app) {
  auto flags = std::make_shared<RunFlags>();
  CLI::App* run = app.add_subcommand(
      "run", "Run an experiment or a group of them (im, websites, all) and print the verdicts");
  run->add_option("TARGET", flags->target, "Experiment name or group: im, websites, all")
      ->required();
  run->add_option("--input", flags->inputs, "An input (URL, resolver, ...); repeatable");
  run->add_option("--input-file", flags->input_file, "A file of inputs, one a line ('#' comments)");
  run->add_option("--category", flags->categories,
                  "websites: only URLs of this category code (repeatable)");
  run->add_option("--country", flags->country, "websites: add the country's list (e.g. CN)");
  run->add_flag("--batch", flags->batch, "Print one JSON measurement a line, no table or progress");
  run->add_option("--output,-o", flags->output,
                  "Append measurements to this JSONL file (default: a new file under "
                  "$XDG_DATA_HOME/vigil/measurements/ unless --batch)");
  run->add_option("--resolver", flags->resolver,
                  "system (default), udp://IP:PORT or tcp://IP:PORT");
  run->add_option("--ca-file", flags->ca_file, "Trust this CA bundle instead of the system store");
  run->add_option("--timeout", flags->timeout_seconds, "Deadline of each step, in seconds")
      ->check(CLI::Range(0.05, 600.0));
  run->add_option("--parallel", flags->parallel, "Measurements in flight at once (default 4)")
      ->check(CLI::Range(1, 4096));
  run->add_option("--per-host", flags->per_host,
                  "Measurements of one host at once (politeness; default 2, 0 = no bound)")
      ->check(CLI::Range(0, 4096));
  run->add_option("--step-parallelism", flags->step_parallelism,
                  "Steps in flight inside one measurement (default 8)")
      ->check(CLI::Range(1, 1024));
  run->add_option("--endpoints", flags->endpoints_file,
                  "A lab endpoints file: contact real IP literals at stand-in addresses");
  run->add_option("--asn-db", flags->asn_db,
                  "An ASN database (GeoLite2-ASN-style mmdb) for DNS consistency checks");
  run->add_option("--helper", flags->helper_url,
                  "The control helper of web_connectivity and the messaging experiments (URL)");
  run->add_option("--transport", flags->transport,
                  "delivery: relay-tcp, relay-http, relay-https, xmpp or mqtt (default: the "
                  "config's)")
      ->check(CLI::IsMember({"relay-tcp", "relay-http", "relay-https", "xmpp", "mqtt"}));
  run->add_option("--relay", flags->relay, "delivery: the relay's URL (https://HOST:PORT)");
  run->add_option("--keywords", flags->keywords,
                  "delivery: a keyword list file or folder (default: testlists/keywords)");
  run->add_option("--mqtt-broker", flags->mqtt_broker,
                  "delivery: mqtt://HOST:PORT or mqtts://HOST:PORT");
  run->add_option("--xmpp-server", flags->xmpp_server,
                  "delivery: the XMPP server to connect to (HOST[:PORT]; accounts in the config)");
  run->add_option("--delivery-wait", flags->delivery_wait_seconds,
                  "delivery: seconds a message may take to arrive (default 8)")
      ->check(CLI::Range(0.1, 600.0));
  run->add_option("--stateful-wait", flags->stateful_wait_seconds,
                  "delivery: seconds to wait for a channel a test message broke (default 200)")
      ->check(CLI::Range(0.0, 3600.0));
  run->add_option("--residual-interval", flags->residual_interval_seconds,
                  "residual_blocking: seconds between re-tests after a trigger (default 10)")
      ->check(CLI::Range(0.1, 600.0));
  run->add_option("--residual-bound", flags->residual_bound_seconds,
                  "residual_blocking: seconds of re-tests at most (default 200)")
      ->check(CLI::Range(1.0, 3600.0));
  run->add_option("--max-ttl", flags->max_ttl, "censor_hop: the largest IP TTL tried (default 30)")
      ->check(CLI::Range(1, 255));
  run->add_option("--dns-sink", flags->dns_sink,
                  "dns_injection: an address that runs no DNS server (IP[:PORT]; default: the "
                  "helper's host)");
  run->add_option("--dns-listen", flags->dns_listen_seconds,
                  "dns_injection: seconds to keep reading replies after the first (default 2)")
      ->check(CLI::Range(0.0, 60.0));
  run->add_option("--forged-ips", flags->forged_ip_files,
                  "dns_injection: a file of forged-answer addresses or CIDRs, one a line "
                  "(repeatable)");
  run->add_option("--data-dir", flags->data_dir, "The testlists/ directory (default: found)");
  run->add_option("--config", flags->config, "The volunteer's config file (default: XDG path)");
  run->add_option("--country-db", flags->country_db,
                  "A country database (GeoLite2-Country-style mmdb) for probe_cc");
  run->add_option("--resolver-whoami", flags->resolver_whoami,
                  "A name in a helper's whoami zone: learn the resolver's egress address");
  run->add_option("--max-runtime", flags->max_runtime_seconds,
                  "Start no measurement after this many seconds (default: the config's; 0: none)")
      ->check(CLI::Range(0, 7 * 24 * 3600));
  run->add_flag("--unattended", flags->unattended,
                "A scheduled run (autorun): no table, uploads quietly");
  run->add_flag("--no-upload", flags->no_upload, "Keep this run's measurements pending");
  run->add_option("--canary", flags->canaries,
                  "A server that should always answer (host:port or URL; repeatable): with the "
                  "resolver, the helper and the collectors, tells no_network from blocking");
  run->add_flag("--no-capture", flags->no_capture,
                "No packet capture: measurements carry no x_packets evidence");
  run->add_option("--pcap", flags->pcap_file,
                  "Also write the captured packets to FILE (pcap, for Wireshark; it holds "
                  "this machine's address: keep it to yourself)");
  run->add_flag("--no-network-check", flags->no_network_check,
                "Do not check that this machine's network works (no_network cannot be told)");
  run->callback([flags, run] {
    flags->parallel_given = run->count("--parallel") > 0;
    flags->per_host_given = run->count("--per-host") > 0;
    flags->helper_given = run->count("--helper") > 0;
    flags->asn_db_given = run->count("--asn-db") > 0;
    flags->categories_given = run->count("--category") > 0;
    SetExitCode(Run(*flags));
  });
}

}  // namespace vigil::cli
