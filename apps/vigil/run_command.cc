// `vigil run <experiment|group>`: runs experiments (the messaging group `im`, the
// `websites` group over the test lists, `all`, or one experiment by name) with
// bounded concurrency on one event loop. Measurements go to a JSONL file (and to
// stdout as JSON lines with --batch); a terminal gets a progress line while the run
// goes on and a verdict table at the end.
#include <unistd.h>

#include <algorithm>
#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "apps/vigil/commands.h"
#include "apps/vigil/measurement_writer.h"
#include "apps/vigil/volunteer.h"
#include "base/utf8.h"
#include "probe/experiments/common/endpoints_file.h"
#include "probe/experiments/registry.h"
#include "probe/experiments/web_connectivity/web_connectivity.h"
#include "probe/geo/asn_database.h"
#include "probe/http/url.h"
#include "probe/measurement/measurement_json.h"
#include "probe/net/concurrency.h"
#include "probe/net/trace.h"
#include "probe/testlists/test_list.h"
#include "vantage/geo/geolocate.h"
#include "vantage/geo/scrub.h"
#include "vantage/spool/results_db.h"
#include "vantage/spool/spool.h"

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
  std::string data_dir;
  std::string config;
  std::string country_db;
  std::string resolver_whoami;
  int max_runtime_seconds = -1;  // -1: the config's
  bool unattended = false;
  bool no_upload = false;
  // Whether a flag was given (else the config's value applies).
  bool parallel_given = false, per_host_given = false, helper_given = false, asn_db_given = false,
       categories_given = false;
};

struct Job {
  const Experiment* experiment = nullptr;
  Json input;
};

struct Row {
  std::string test;
  RunSummary summary;
  std::set<std::string> tls_resets;        // ip:port where a TLS handshake was reset
  std::set<std::string> refused_connects;  // ip:port where a TCP connect was refused or reset
};

// A GFW-style censor that resets a TLS handshake then blocks the (client, server,
// port) 3-tuple for a while, whatever the content: a later connect there in the same
// run is refused or reset by that residual block. Such a row says so instead of
// reading as TCP/IP blocking: its blocking type becomes the trigger's (tls).
void AttributeResidualBlocking(std::vector<Row>& rows) {
  std::set<std::string> resets;
  for (const auto& r : rows) resets.insert(r.tls_resets.begin(), r.tls_resets.end());
  for (auto& r : rows) {
    if (r.summary.blocking != "tcp_ip" || r.refused_connects.empty()) continue;
    const bool all_residual =
        std::all_of(r.refused_connects.begin(), r.refused_connects.end(),
                    [&resets](const std::string& a) { return resets.count(a) > 0; });
    if (!all_residual) continue;
    r.summary.blocking = "tls";
    r.summary.evidence +=
        " (residual block: a TLS handshake to the same address:port was reset "
        "earlier in this run)";
  }
}

// What AttributeResidualBlocking needs from a measurement.
void NoteResets(const Measurement& m, Row* row) {
  for (const auto& h : m.test_keys.tls_handshakes) {
    if (h.failure.value_or("") == "connection_reset") row->tls_resets.insert(h.address);
  }
  for (const auto& c : m.test_keys.tcp_connect) {
    const std::string f = c.status.failure.value_or("");
    if (f == "connection_refused" || f == "connection_reset") {
      row->refused_connects.insert(JoinHostPort(c.ip, static_cast<uint16_t>(c.port)));
    }
  }
}

void Fail(const std::string& message, int code = 2) {
  std::fprintf(stderr, "vigil run: %s\n", message.c_str());
  SetExitCode(code);
}

std::string DefaultOutput() {
  std::string base;
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg && *xdg) {
    base = xdg;
  } else if (const char* home = std::getenv("HOME"); home && *home) {
    base = std::string(home) + "/.local/share";
  } else {
    base = ".";
  }
  char stamp[32];
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
  return base + "/vigil/measurements/run-" + stamp + ".jsonl";
}

Result<std::vector<std::string>> ReadInputFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Error{path + ": cannot read"};
  std::vector<std::string> inputs;
  std::string line;
  while (std::getline(in, line)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
      line.pop_back();
    }
    const size_t start = line.find_first_not_of(" \t");
    if (start == std::string::npos || line[start] == '#') continue;
    inputs.push_back(line.substr(start));
  }
  return inputs;
}

// The URLs of the global list and the country's list, filtered by category.
Result<std::vector<std::string>> TestListUrls(const RunFlags& flags) {
  const std::string lists = flags.data_dir + "/lists";
  std::vector<std::string> files = {lists + "/global.csv"};
  if (!flags.country.empty()) {
    std::string cc = flags.country;
    std::transform(cc.begin(), cc.end(), cc.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    const std::string file = lists + "/" + cc + ".csv";
    if (!std::filesystem::exists(file))
      return Error{"--country " + flags.country + ": no list " + file};
    files.push_back(file);
  }
  std::set<std::string> wanted(flags.categories.begin(), flags.categories.end());
  std::vector<std::string> urls;
  std::set<std::string> seen;
  for (const auto& file : files) {
    auto list = ReadTestList(file);
    if (!list.ok()) return Error{list.error()};
    for (const auto& e : list.value().entries) {
      if (!wanted.empty() && !wanted.count(e.category_code)) continue;
      if (seen.insert(e.url).second) urls.push_back(e.url);
    }
  }
  return urls;
}

std::string Pad(std::string s, size_t width) {
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s;
}

// The verdict table: one row per measurement, columns sized to their content
// (evidence last, unpadded).
void PrintTable(const std::vector<Row>& rows) {
  size_t w_service = 7, w_test = 4, w_verdict = 7, w_blocking = 8;
  for (const auto& r : rows) {
    w_service = std::max(w_service, std::min<size_t>(r.summary.service.size(), 48));
    w_test = std::max(w_test, r.test.size());
    w_verdict = std::max(w_verdict, r.summary.verdict.size());
    w_blocking = std::max(w_blocking, r.summary.blocking.size());
  }
  auto line = [&](const std::string& a, const std::string& b, const std::string& c,
                  const std::string& d, const std::string& e) {
    std::string service = a.size() > 48 ? a.substr(0, 45) + "..." : a;
    std::cout << Pad(service, w_service) << "  " << Pad(b, w_test) << "  " << Pad(c, w_verdict)
              << "  " << Pad(d, w_blocking) << "  " << e << "\n";
  };
  line("SERVICE", "TEST", "VERDICT", "BLOCKING", "EVIDENCE");
  for (const auto& r : rows) {
    line(r.summary.service, r.test, r.summary.verdict,
         r.summary.blocking.empty() ? "-" : r.summary.blocking,
         r.summary.evidence.empty() ? "-" : r.summary.evidence);
  }
}

class Progress {
 public:
  Progress(bool enabled, size_t total)
      : enabled_(enabled), tty_(isatty(STDERR_FILENO) == 1), total_(total) {}

  void Done(const Row& row) {
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
    text += row.test + " " + row.summary.service + ": " + row.summary.verdict;
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

// What per-host politeness counts a job against: the host of a URL input, else
// the input itself, else the experiment (whose own steps are bounded inside it).
std::string PolitenessKey(const Job& job) {
  if (!job.input.is_string()) return std::string(job.experiment->name());
  const std::string input = job.input.get<std::string>();
  auto url = ParseUrl(input);
  return url.ok() ? url->host : input;
}

void Run(RunFlags& flags) {
  if (flags.data_dir.empty()) flags.data_dir = DefaultDataDir();

  // Nothing measures before informed consent.
  auto volunteer = LoadVolunteer(flags.config, /*need_consent=*/true);
  if (!volunteer.ok()) return Fail(volunteer.error());
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

  // What to run.
  std::vector<std::string> names;
  std::string group = flags.target;
  if (group == "websites") {
    names = {"web_connectivity"};
  } else {
    names = ExperimentGroup(group);
  }
  if (names.empty()) names = {flags.target};
  std::vector<std::unique_ptr<Experiment>> experiments;
  for (const auto& n : names) {
    auto e = MakeExperiment(n);
    if (!e) {
      std::string known = "im, websites, all";
      for (const auto& x : MakeExperiments()) known += ", " + std::string(x->name());
      return Fail("unknown experiment or group '" + flags.target + "' (" + known + ")");
    }
    experiments.push_back(std::move(e));
  }

  std::vector<std::string> inputs = flags.inputs;
  if (!flags.input_file.empty()) {
    auto more = ReadInputFile(flags.input_file);
    if (!more.ok()) return Fail("--input-file: " + more.error());
    inputs.insert(inputs.end(), more.value().begin(), more.value().end());
  }

  std::vector<Job> jobs;
  for (const auto& e : experiments) {
    switch (e->input_policy()) {
      case Experiment::InputPolicy::kNone:
        jobs.push_back({e.get(), nullptr});
        break;
      case Experiment::InputPolicy::kOptional: {
        std::vector<std::string> own = inputs;
        if (own.empty()) {
          auto defaults = e->DefaultInputs(flags.data_dir);
          if (!defaults.ok()) return Fail(defaults.error());
          own = std::move(defaults.value());
        }
        if (own.empty()) jobs.push_back({e.get(), nullptr});
        for (const auto& in : own) jobs.push_back({e.get(), Json(in)});
        break;
      }
      case Experiment::InputPolicy::kRequired: {
        std::vector<std::string> own = inputs;
        if (own.empty() && e->name() == "web_connectivity") {
          auto urls = TestListUrls(flags);
          if (!urls.ok()) return Fail(urls.error());
          own = urls.value();
        }
        if (own.empty() && experiments.size() > 1) {
          // A group: run what can run, and say what was left out.
          std::fprintf(stderr, "vigil run: %s skipped: it needs inputs (--input or --input-file)\n",
                       std::string(e->name()).c_str());
          continue;
        }
        if (own.empty()) {
          return Fail(std::string(e->name()) + " needs inputs: --input or --input-file");
        }
        for (const auto& in : own) jobs.push_back({e.get(), Json(in)});
        break;
      }
    }
  }

  // How to run it.
  ExperimentContext context;
  auto resolver = ParseResolverSpec(flags.resolver);
  if (!resolver.ok()) return Fail("--resolver: " + resolver.error());
  context.resolver = resolver.value();
  if (!flags.ca_file.empty() && !std::filesystem::is_regular_file(flags.ca_file)) {
    return Fail("--ca-file: " + flags.ca_file + ": no such file");
  }
  context.ca_file = flags.ca_file;
  context.timeout = std::chrono::milliseconds(static_cast<int64_t>(flags.timeout_seconds * 1000));
  context.parallelism = flags.step_parallelism;
  context.helper_url = flags.helper_url;
  context.data_dir = flags.data_dir;
  if (!flags.endpoints_file.empty()) {
    auto endpoints = ReadEndpointsFile(flags.endpoints_file);
    if (!endpoints.ok()) return Fail("--endpoints: " + endpoints.error());
    context.address_map = std::move(endpoints.value().address_map);
    context.extra_asn_addresses = std::move(endpoints.value().asn_addresses);
  }

  if (!flags.asn_db.empty()) {
    auto db = AsnDatabase::Open(flags.asn_db);
    if (!db.ok()) return Fail("--asn-db: " + db.error());
    context.asn_db = db.value();
  }

  // Where this vantage point is: its own address only to scrub it, never to record it.
  GeoOptions geo_options;
  geo_options.helper_url = flags.helper_url;
  geo_options.asn_db = flags.asn_db;
  geo_options.country_db = flags.country_db;
  geo_options.ca_file = flags.ca_file;
  if (!context.resolver.ip.empty()) {
    geo_options.resolver_ip = context.resolver.ip;
    geo_options.resolver_port = context.resolver.port;
  }
  geo_options.resolver_whoami = flags.resolver_whoami;
  geo_options.timeout = std::min(context.timeout, std::chrono::milliseconds(5000));
  // Geolocation takes round trips of its own (the helper's whoami, the resolver's): it
  // runs beside the first measurements, and the writer thread waits for its answer
  // before it stamps, scrubs or writes any measurement.
  std::future<GeoInfo> geo_answer;  // started with the measurements, below

  // Every measurement is on disk in the spool before anything else happens to it.
  auto spool = Spool::Open(volunteer->spool_dir);
  if (!spool.ok()) return Fail("spool: " + spool.error());
  auto db = ResultsDb::Open(volunteer->results_db);
  if (!db.ok()) return Fail("results database: " + db.error());
  auto run_id = (*db)->BeginRun(
      {FormatUtcTime(std::chrono::system_clock::now()), flags.target, "ZZ", "AS0", ""});
  if (!run_id.ok()) return Fail("results database: " + run_id.error());
  // Where the probe is, once geolocation has answered: asked for by the writer thread
  // before its first measurement, or by this thread after the writer is joined.
  std::optional<GeoInfo> geo_known;
  auto where = [&]() -> const GeoInfo& {
    if (geo_known) return *geo_known;
    geo_known = geo_answer.get();
    const GeoInfo& geo = *geo_known;
    if (!flags.batch) {
      for (const auto& note : geo.notes)
        std::fprintf(stderr, "vigil run: geolocation: %s\n", note.c_str());
      std::fprintf(stderr, "vigil run: network %s (%s), country %s\n", geo.probe_asn.c_str(),
                   geo.probe_network_name.empty() ? "unknown" : geo.probe_network_name.c_str(),
                   geo.probe_cc.c_str());
    }
    auto set = (*db)->SetRunNetwork(*run_id, geo.probe_cc, geo.probe_asn, geo.probe_network_name);
    if (!set.ok()) std::fprintf(stderr, "vigil run: results database: %s\n", set.error().c_str());
    return geo;
  };
  // The writer thread's: a finished measurement gets the probe's network and loses
  // every trace of the probe's address before it is rendered.
  auto complete = [&](Measurement& m) {
    const GeoInfo& geo = where();
    m.probe_asn = geo.probe_asn;
    m.probe_cc = geo.probe_cc;
    m.probe_network_name = geo.probe_network_name;
    m.resolver_asn = geo.resolver_asn;
    m.resolver_ip = geo.resolver_ip;
    m.resolver_network_name = geo.resolver_network_name;
    // Bytes that are not UTF-8 are written base64-encoded, where scrubbing the text
    // cannot see an address: scrub them before they are encoded.
    if (geo.probe_ips.empty()) return;
    for (auto& t : m.test_keys.requests) {
      std::string& body = t.response.body.bytes;
      if (!IsValidUtf8(body)) body = ScrubProbeIp(body, geo.probe_ips);
      for (auto& [name, value] : t.response.headers_list) {
        if (!IsValidUtf8(value)) value = ScrubProbeIp(value, geo.probe_ips);
      }
      for (auto& [name, value] : t.response.headers) {
        if (!IsValidUtf8(value)) value = ScrubProbeIp(value, geo.probe_ips);
      }
    }
  };
  const bool uploading = config.upload && !flags.no_upload && !config.collectors.empty();
  std::atomic<size_t> spool_failures{0};
  RunCounts counts;  // the writer thread's until it is joined
  // The writer thread's: measurements of the current batch, kept together by one
  // group commit (spool files, then their rows in one transaction).
  std::vector<std::pair<std::string, std::string>> pending_files;
  std::vector<MeasurementRow> pending_rows;
  auto keep = [&](const Measurement& m, const RunSummary& summary, std::string& line) {
    line = ScrubProbeIp(line, where().probe_ips);
    MeasurementRow row;
    row.uid = NewLocalUid();
    row.run_id = *run_id;
    row.test_name = m.test_name;
    row.input = m.input.is_string() ? m.input.get<std::string>() : "";
    row.start_time = m.measurement_start_time;
    row.probe_cc = m.probe_cc;
    row.probe_asn = m.probe_asn;
    row.verdict = summary.verdict;
    row.blocking = summary.blocking;
    row.anomaly =
        summary.verdict != "ok" && summary.verdict != "down" && summary.verdict != "error";
    row.upload_state = uploading ? UploadState::kPending : UploadState::kDisabled;
    pending_files.emplace_back(row.uid, line);
    pending_rows.push_back(std::move(row));
  };
  auto commit = [&] {
    if (pending_files.empty()) return;
    auto put = spool->PutBatch(pending_files);
    if (!put.ok()) {
      // One bad moment (a full disk, an I/O error) must not lose the batch: try each
      // measurement on its own, and keep the ones that go in.
      std::fprintf(stderr, "vigil run: spool: %s (keeping the batch one by one)\n",
                   put.error().c_str());
      std::vector<SpoolEntry> kept;
      std::vector<MeasurementRow> rows;
      for (size_t i = 0; i < pending_files.size(); ++i) {
        auto one = spool->Put(pending_files[i].first, pending_files[i].second);
        if (!one.ok()) {
          spool_failures.fetch_add(1);
          std::fprintf(stderr, "vigil run: spool: %s\n", one.error().c_str());
          continue;
        }
        kept.push_back(*one);
        rows.push_back(std::move(pending_rows[i]));
      }
      put = std::move(kept);
      pending_rows = std::move(rows);
    }
    {
      for (size_t i = 0; i < pending_rows.size(); ++i) {
        MeasurementRow& row = pending_rows[i];
        row.spool_path = (*put)[i].path;
        ++counts.measurements;
        if (row.anomaly) ++counts.anomalies;
        if (row.verdict == "down" || row.verdict == "error") ++counts.failures;
      }
      auto added = (*db)->AddMeasurements(pending_rows);
      if (!added.ok())
        std::fprintf(stderr, "vigil run: results database: %s\n", added.error().c_str());
    }
    pending_files.clear();
    pending_rows.clear();
  };
  const auto started = std::chrono::steady_clock::now();
  const std::optional<std::chrono::steady_clock::time_point> run_deadline =
      flags.max_runtime_seconds > 0
          ? std::optional(started + std::chrono::seconds(flags.max_runtime_seconds))
          : std::nullopt;
  size_t not_started = 0;

  // Where the measurements go.
  std::string output = flags.output;
  if (output.empty() && !flags.batch) output = DefaultOutput();
  std::ofstream file;
  if (!output.empty()) {
    std::error_code ec;
    const auto parent = std::filesystem::path(output).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    file.open(output, std::ios::app | std::ios::binary);
    if (!file) return Fail("--output: cannot write " + output);
  }

  asio::io_context io;
  context.executor = io.get_executor();
  if (!context.helper_url.empty()) {
    // The run's measurements share their connections to the helper.
    auto client = MakeControlClient(context, context.executor, std::max<size_t>(flags.parallel, 1));
    if (!client.ok()) return Fail("--helper: " + client.error());
    context.control_client = std::move(*client);
  }
  // Nothing returns early from here on: geolocation starts with the measurements.
  geo_answer = std::async(std::launch::async, [geo_options] { return Geolocate(geo_options); });
  MeasurementWriter writer(&file, flags.batch, keep, commit, complete);
  std::vector<Row> rows(jobs.size());
  Progress progress(!flags.batch, jobs.size());
  size_t could_not_run = 0;
  std::vector<KeyedTask> tasks;
  for (size_t i = 0; i < jobs.size(); ++i) {
    tasks.emplace_back(PolitenessKey(jobs[i]), [&, i]() -> asio::awaitable<void> {
      const Job& job = jobs[i];
      Row& row = rows[i];
      row.test = std::string(job.experiment->name());
      if (run_deadline && std::chrono::steady_clock::now() >= *run_deadline) {
        // Past the run's time budget: what has not started is left for the next run.
        ++not_started;
        row.summary.service = job.input.is_string() ? job.input.get<std::string>() : row.test;
        row.summary.verdict = "skipped";
        row.summary.evidence = "not run: the run's --max-runtime was reached";
        progress.Done(row);
        co_return;
      }
      std::optional<Result<Measurement>> result;
      std::string crash;
      try {
        result.emplace(co_await job.experiment->Run(context, job.input));
      } catch (const std::exception& e) {
        crash = e.what();
      }
      if (!result || !result->ok()) {
        ++could_not_run;
        row.summary.service = job.input.is_string() ? job.input.get<std::string>() : row.test;
        row.summary.verdict = "error";
        row.summary.evidence = result ? result->error() : "could not run: " + crash;
        std::fprintf(stderr, "vigil run: %s: %s\n", row.test.c_str(), row.summary.evidence.c_str());
      } else {
        Measurement& m = result->value();
        row.summary = job.experiment->Summarize(m);
        NoteResets(m, &row);
        writer.Push(std::move(m), row.summary);
      }
      progress.Done(row);
    });
  }
  std::exception_ptr failure;
  asio::co_spawn(
      io, RunBoundedPerKey(std::move(tasks), std::max<size_t>(flags.parallel, 1), flags.per_host),
      [&](std::exception_ptr e) { failure = e; });
  io.run();
  context.control_client.reset();  // its sockets belong to `io`
  const bool written = writer.Finish();
  where();  // a run that kept no measurement still says where it ran
  if (failure) {
    try {
      std::rethrow_exception(failure);
    } catch (const std::exception& e) {
      return Fail(std::string("the run stopped: ") + e.what(), 1);
    }
  }
  auto finished =
      (*db)->FinishRun(*run_id, FormatUtcTime(std::chrono::system_clock::now()), counts);
  if (!finished.ok())
    std::fprintf(stderr, "vigil run: results database: %s\n", finished.error().c_str());
  if (file.is_open()) {
    file.close();
    if (!file || !written) return Fail("--output: writing " + output + " failed", 1);
  }
  if (spool_failures.load() > 0) {
    return Fail(
        std::to_string(spool_failures.load()) + " measurements could not be kept in the spool", 1);
  }

  if (!flags.batch) {
    AttributeResidualBlocking(rows);
    PrintTable(rows);
    size_t ok = 0, blocked = 0, anomaly = 0, other = 0;
    for (const auto& r : rows) {
      if (r.summary.verdict == "ok") {
        ++ok;
      } else if (r.summary.verdict == "blocked") {
        ++blocked;
      } else if (r.summary.verdict == "anomaly") {
        ++anomaly;
      } else {
        ++other;
      }
    }
    std::cout << "\n"
              << rows.size() << " measurements: " << ok << " ok, " << blocked << " blocked, "
              << anomaly << " anomaly, " << other << " other";
    if (!output.empty()) std::cout << "; written to " << output;
    std::cout << "\n";
    if (not_started > 0) {
      std::cout << not_started << " not started: the run's time budget ("
                << flags.max_runtime_seconds << " s) was reached\n";
    }
    std::cout << "run " << *run_id << " in the results database (vigil results show " << *run_id
              << ")\n";
  }
  if (uploading) {
    // The rest of the time budget, if there is one: a blocked collector cannot stall
    // the probe; what is not sent stays pending for `vigil upload` or the next run.
    const int upload_status =
        UploadSpool(*volunteer, {}, 0, flags.batch || flags.unattended, run_deadline);
    if (upload_status == 2) SetExitCode(1);
  } else if (!flags.batch && config.upload && config.collectors.empty()) {
    std::fprintf(
        stderr,
        "vigil run: uploading is on but no collector is configured: measurements stay pending\n");
  }
  if (could_not_run > 0) SetExitCode(1);
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
  run->add_option("--helper", flags->helper_url, "The control helper of web_connectivity (URL)");
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
  run->callback([flags, run] {
    flags->parallel_given = run->count("--parallel") > 0;
    flags->per_host_given = run->count("--per-host") > 0;
    flags->helper_given = run->count("--helper") > 0;
    flags->asn_db_given = run->count("--asn-db") > 0;
    flags->categories_given = run->count("--category") > 0;
    Run(*flags);
  });
}

}  // namespace vigil::cli
