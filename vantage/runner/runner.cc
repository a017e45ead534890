#include "vantage/runner/runner.h"

#include <algorithm>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <exception>
#include <filesystem>
#include <fstream>
#include <utility>

#include "base/utc_time.h"
#include "probe/capture/evidence_gathering.h"
#include "probe/capture/packet_capture.h"
#include "probe/capture/packet_evidence.h"
#include "probe/experiments/common/endpoints_file.h"
#include "probe/experiments/common/residual_block.h"
#include "probe/experiments/dns_injection/forged_address_pool.h"
#include "probe/experiments/web_connectivity/web_connectivity.h"
#include "probe/geo/asn_database.h"
#include "probe/net/concurrency.h"
#include "vantage/geo/scrub.h"
#include "vantage/runner/measurement_writer.h"
#include "vantage/runner/network_check.h"
#include "vantage/runner/network_stamp.h"
#include "vantage/runner/run_location.h"
#include "vantage/runner/spool_sink.h"
#include "vantage/spool/results_db.h"
#include "vantage/spool/spool.h"

namespace vigil {
struct Runner::State {
  RunPlan plan;
  RunSettings settings;
  RunObserver* observer = nullptr;
  ExperimentContext context;
  GeoOptions geo_options;
  std::optional<Spool> spool;
  std::unique_ptr<ResultsDb> db;
  int64_t run_id = 0;
  std::ofstream file;
  asio::io_context io;
  std::optional<std::chrono::steady_clock::time_point> deadline;  // set by Run
};

Runner::Runner(std::unique_ptr<State> state) : state_(std::move(state)) {}
Runner::~Runner() = default;

Result<std::unique_ptr<Runner>> Runner::Open(RunPlan plan, RunSettings settings,
                                             RunObserver& observer) {
  auto s = std::make_unique<State>();
  s->observer = &observer;
  ExperimentContext& context = s->context;
  auto resolver = ParseResolverSpec(settings.resolver);
  if (!resolver.ok()) return Error{"--resolver: " + resolver.error()};
  context.resolver = resolver.value();
  if (!settings.ca_file.empty() && !std::filesystem::is_regular_file(settings.ca_file)) {
    return Error{"--ca-file: " + settings.ca_file + ": no such file"};
  }
  context.ca_file = settings.ca_file;
  context.timeout = settings.timeout;
  context.parallelism = settings.step_parallelism;
  context.helper_url = settings.helper_url;
  context.data_dir = settings.data_dir;
  context.delivery = settings.delivery;
  context.injection = settings.injection;
  {
    // Known forged DNS answers: the DNS fingerprints' addresses and --forged-ips files.
    auto pool = ForgedAddressPool::Load(settings.data_dir, settings.injection.forged_ip_files);
    if (!pool.ok()) return Error{"--forged-ips: " + pool.error()};
    auto shared = std::make_shared<const ForgedAddressPool>(std::move(pool.value()));
    context.is_forged_ip = [shared](const std::string& ip) { return shared->Contains(ip); };
  }
  if (settings.capture) {
    CaptureOptions capture_options;
    capture_options.pcap_file = settings.pcap_file;
    auto capture = PacketCapture::Open(capture_options);
    if (capture.ok()) {
      context.capture = std::move(capture.value());
    } else if (!settings.pcap_file.empty()) {
      return Error{"--pcap: " + capture.error()};
    } else {
      context.capture_unavailable = capture.error();
    }
  } else if (!settings.pcap_file.empty()) {
    return Error{"--pcap needs the packet capture, which is off"};
  }
  if (!settings.endpoints_file.empty()) {
    auto endpoints = ReadEndpointsFile(settings.endpoints_file);
    if (!endpoints.ok()) return Error{"--endpoints: " + endpoints.error()};
    context.address_map = std::move(endpoints.value().address_map);
    context.extra_asn_addresses = std::move(endpoints.value().asn_addresses);
  }
  if (!settings.asn_db.empty()) {
    auto db = AsnDatabase::Open(settings.asn_db);
    if (!db.ok()) return Error{"--asn-db: " + db.error()};
    context.asn_db = db.value();
  }

  // Where this vantage point is: its own address only to scrub it, never to record it.
  GeoOptions& geo = s->geo_options;
  geo.helper_url = settings.helper_url;
  geo.asn_db = settings.asn_db;
  geo.country_db = settings.country_db;
  geo.ca_file = settings.ca_file;
  if (!context.resolver.ip.empty()) {
    geo.resolver_ip = context.resolver.ip;
    geo.resolver_port = context.resolver.port;
  }
  geo.resolver_whoami = settings.resolver_whoami;
  geo.timeout = std::min(context.timeout, std::chrono::milliseconds(5000));

  // Every measurement is on disk in the spool before anything else happens to it.
  auto spool = Spool::Open(settings.spool_dir);
  if (!spool.ok()) return Error{"spool: " + spool.error()};
  s->spool.emplace(std::move(*spool));
  auto db = ResultsDb::Open(settings.results_db);
  if (!db.ok()) return Error{"results database: " + db.error()};
  s->db = std::move(*db);
  auto run_id = s->db->BeginRun(
      {FormatUtcTime(std::chrono::system_clock::now()), plan.target, "ZZ", "AS0", ""});
  if (!run_id.ok()) return Error{"results database: " + run_id.error()};
  s->run_id = *run_id;

  if (!settings.output.empty()) {
    std::error_code ec;
    const auto parent = std::filesystem::path(settings.output).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    s->file.open(settings.output, std::ios::app | std::ios::binary);
    if (!s->file) return Error{"--output: cannot write " + settings.output};
  }

  context.executor = s->io.get_executor();
  if (!context.helper_url.empty()) {
    // The run's measurements share their connections to the helper.
    auto client =
        MakeControlClient(context, context.executor, std::max<size_t>(settings.parallel, 1));
    if (!client.ok()) return Error{"--helper: " + client.error()};
    context.control_client = std::move(*client);
  }
  // sni_blocking reads a control that fails where a test SNI was just blocked as the
  // censor's residual block of that SNI.
  context.sni_triggers = std::make_shared<SniTriggerLog>();
  s->plan = std::move(plan);
  s->settings = std::move(settings);
  return std::unique_ptr<Runner>(new Runner(std::move(s)));
}

bool Runner::uploading() const {
  return state_->settings.upload && !state_->settings.collectors.empty();
}

RunOutcome Runner::Run() {
  State& s = *state_;
  RunObserver& observer = *s.observer;
  const RunSettings& settings = s.settings;
  const auto started = std::chrono::steady_clock::now();
  if (settings.max_runtime.count() > 0) s.deadline = started + settings.max_runtime;
  auto note = [&observer](const std::string& text) { observer.OnNote(text); };

  RunOutcome outcome;
  outcome.run_id = s.run_id;
  outcome.deadline = s.deadline;
  ResultsDb& db = *s.db;
  const int64_t run_id = s.run_id;
  // Geolocation starts with the measurements; the writer thread waits for its answer
  // before it stamps, scrubs or writes any measurement.
  std::function<GeoInfo(const GeoOptions&)> locate = settings.geolocate;
  if (!locate) locate = Geolocate;
  RunLocation location([locate, options = s.geo_options] { return locate(options); },
                       [&](const GeoInfo& where) {
                         observer.OnLocated(where);
                         auto set = db.SetRunNetwork(run_id, where.probe_cc, where.probe_asn,
                                                     where.probe_network_name);
                         if (!set.ok()) note("results database: " + set.error());
                       });
  SpoolSink sink(*s.spool, db, run_id, uploading() ? UploadState::kPending : UploadState::kDisabled,
                 note);
  // Whether the network works at all, asked beside the first measurements; the writer
  // waits for the answer as it waits for the location.
  NetworkCheck network;
  std::optional<NetworkCheckOptions> check_options;
  if (settings.network_check) {
    check_options.emplace();
    if (!settings.helper_url.empty()) check_options->endpoints.push_back(settings.helper_url);
    for (const auto& c : settings.collectors) check_options->endpoints.push_back(c);
    for (const auto& c : settings.canaries) check_options->endpoints.push_back(c);
    asio::co_spawn(s.io, CheckNetwork(s.context, *check_options),
                   [&network](std::exception_ptr e, Json result) {
                     if (e) result = Json{{"usable", nullptr}, {"checks", Json::array()}};
                     network.Set(std::move(result));
                   });
  }

  const std::vector<Job>& jobs = s.plan.jobs;
  // A measured job is done once the writer has judged it: its line goes back to the
  // event loop's thread, which the work guard keeps running until every job is done.
  auto guard = asio::make_work_guard(s.io);
  size_t jobs_left = jobs.size();
  auto job_done = [&](size_t i) {
    observer.OnJobDone(outcome.jobs[i]);
    if (--jobs_left == 0) guard.reset();
  };
  if (jobs.empty()) guard.reset();
  // The writer thread's: a finished measurement gets the probe's network and loses
  // every trace of the probe's address before it is rendered, judged and kept.
  MeasurementWriter writer(
      &s.file, settings.to_stdout,
      [&](const Measurement& m, RunSummary& summary, std::string& line, size_t i) {
        line = ScrubProbeIp(line, location.Get().probe_ips);
        if (settings.judge) settings.judge(line, summary);
        sink.Keep(m, summary, line);
        asio::post(s.io, [&, i, summary] {
          outcome.jobs[i].summary = summary;
          job_done(i);
        });
      },
      [&sink] { sink.Commit(); },
      [&](Measurement& m) {
        StampNetwork(location.Get(), m);
        if (s.context.asn_db) PlaceDnsAnswers(*s.context.asn_db, m);
        if (check_options) m.test_keys.extra["x_network"] = network.Get();
      });

  std::vector<RunSummary> summaries(jobs.size());
  std::vector<ConnectionResets> resets(jobs.size());
  outcome.jobs.resize(jobs.size());
  // A measured job's last steps: its packet evidence, its summary, the writer. Never
  // throws: a job that is not pushed would never be done.
  auto finish = [&](size_t i, Measurement m, int64_t zero_ns,
                    int64_t end_ns) -> asio::awaitable<void> {
    try {
      co_await GatherPacketEvidence(s.context, m, zero_ns, end_ns);
    } catch (const std::exception& e) {
      AttachCaptureUnavailable(m, std::string("packet evidence failed: ") + e.what());
    }
    JobOutcome& row = outcome.jobs[i];
    row.summary = jobs[i].experiment->Summarize(m);
    for (const std::string& line : InjectionLines(m))
      row.summary.details.push_back("injected: " + line);
    resets[i] = CollectConnectionResets(m);
    writer.Push(std::move(m), row.summary, i);
  };
  std::vector<KeyedTask> tasks;
  for (size_t i = 0; i < jobs.size(); ++i) {
    tasks.emplace_back(PolitenessKey(jobs[i]), [&, i]() -> asio::awaitable<void> {
      const Job& job = jobs[i];
      JobOutcome& row = outcome.jobs[i];
      row.test = std::string(job.experiment->name());
      if (s.deadline && std::chrono::steady_clock::now() >= *s.deadline) {
        // Past the run's time budget: what has not started is left for the next run.
        ++outcome.not_started;
        row.summary.service = job.input.is_string() ? job.input.get<std::string>() : row.test;
        row.summary.verdict = RunVerdict::kSkipped;
        row.summary.evidence = "not run: the run's --max-runtime was reached";
        job_done(i);
        co_return;
      }
      std::optional<Result<Measurement>> result;
      std::string crash;
      const int64_t zero_ns = WallNowNs();
      try {
        result.emplace(co_await job.experiment->Run(s.context, job.input));
      } catch (const std::exception& e) {
        crash = e.what();
      }
      const int64_t end_ns = WallNowNs();
      if (!result || !result->ok()) {
        ++outcome.could_not_run;
        row.summary.service = job.input.is_string() ? job.input.get<std::string>() : row.test;
        row.summary.verdict = RunVerdict::kError;
        row.summary.evidence = result ? result->error() : "could not run: " + crash;
        note(row.test + ": " + row.summary.evidence);
      } else {
        // The packet evidence is gathered beside the next jobs: its wait for late
        // packets holds no slot of the run's concurrency.
        asio::co_spawn(s.io, finish(i, std::move(result->value()), zero_ns, end_ns),
                       asio::detached);
        co_return;  // done when judged
      }
      job_done(i);
    });
  }
  std::exception_ptr failure;
  asio::co_spawn(
      s.io,
      RunBoundedPerKey(std::move(tasks), std::max<size_t>(settings.parallel, 1), settings.per_host),
      [&](std::exception_ptr e) {
        failure = e;
        if (e) guard.reset();  // jobs that never ran will not be judged
      });
  s.io.run();
  s.context.control_client.reset();  // its sockets belong to the event loop
  const bool written = writer.Finish();
  location.Get();  // a run that kept no measurement still says where it ran
  if (failure) {
    try {
      std::rethrow_exception(failure);
    } catch (const std::exception& e) {
      outcome.error = std::string("the run stopped: ") + e.what();
      return outcome;
    }
  }
  auto finished =
      db.FinishRun(run_id, FormatUtcTime(std::chrono::system_clock::now()), sink.counts());
  if (!finished.ok()) note("results database: " + finished.error());
  if (s.file.is_open()) {
    s.file.close();
    if (!s.file || !written) {
      outcome.error = "--output: writing " + settings.output + " failed";
      return outcome;
    }
  }
  if (sink.failures() > 0) {
    outcome.error =
        std::to_string(sink.failures()) + " measurements could not be kept in the spool";
    return outcome;
  }

  for (size_t i = 0; i < jobs.size(); ++i) summaries[i] = outcome.jobs[i].summary;
  AttributeResidualBlocking(summaries, resets);
  for (size_t i = 0; i < jobs.size(); ++i) outcome.jobs[i].summary = summaries[i];
  return outcome;
}

UploadReport Runner::Upload() {
  State& s = *state_;
  UploadPendingOptions options;
  options.upload.collectors = s.settings.collectors;
  options.deadline = s.deadline;
  return UploadPending(*s.spool, s.db.get(), options,
                       [&s](const UploadProgress& p) { s.observer->OnUploaded(p); });
}

}  // namespace vigil
