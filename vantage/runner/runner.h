// Runner: `vigil run` as a library. It takes a plan (run_plan.h) and the settings
// flags and config gave, and runs the plan's jobs with bounded concurrency (overall
// and per host) on one event loop while geolocation runs beside them; each finished
// measurement is stamped with the network, scrubbed of the probe's address, and
// written on a writer thread (JSONL file, stdout, spool by group commit, results
// database) so the loop never waits for the disk. A time budget leaves jobs not
// started for the next run. Afterwards the residual blocks of the run are
// attributed, and what is pending can be uploaded within what is left of the budget.
// Open, Run and Upload are called from one thread, in that order; Run runs the
// event loop on that thread. The observer is called as run_observer.h says.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "probe/capture/injection_options.h"
#include "probe/experiments/delivery/delivery_options.h"
#include "vantage/geo/geolocate.h"
#include "vantage/runner/run_observer.h"
#include "vantage/runner/run_plan.h"
#include "vantage/upload/upload_pending.h"

namespace vigil {

/// How to run a plan: flags and the volunteer's config, merged.
struct RunSettings {
  // Each measurement.
  std::string resolver = "system";           // system, udp://IP:PORT, tcp://IP:PORT
  std::string ca_file;                       // "" = the system store
  std::chrono::milliseconds timeout{10000};  // per step
  size_t step_parallelism = 8;               // steps in flight inside one measurement
  std::string endpoints_file;                // a lab endpoints file; "" none
  std::string asn_db;                        // GeoLite2-ASN-style mmdb; "" none
  std::string helper_url;                    // the control helper; "" none
  std::string data_dir;                      // testlists/
  DeliveryOptions delivery;                  // the delivery experiment's consent and servers
  InjectionOptions injection;                // the evidence experiments' settings
  /// Asks whether the network works at all before judging failures (network_check.h):
  /// the resolver for a few names no censor blocks, TCP to the helper, the collectors
  /// and these canary servers (host:port or URLs). Off: measurements carry no
  /// x_network and the analyzer cannot tell no_network from blocking.
  bool network_check = true;
  std::vector<std::string> canaries;
  /// The verdict of a finished measurement from its final JSON line (stamped, scrubbed):
  /// rewrites the summary's verdict and blocking, which the progress line, the table and
  /// the results database then show. Runs on the writer thread. Empty: the experiment's
  /// own summary stands.
  std::function<void(const std::string& line, RunSummary& summary)> judge;
  // Where the run is.
  std::string country_db;
  std::string resolver_whoami;
  /// Replaces Geolocate (tests); empty: Geolocate.
  std::function<GeoInfo(const GeoOptions&)> geolocate;
  // The run.
  size_t parallel = 4;                       // measurements in flight
  size_t per_host = 2;                       // of one host; 0: no bound
  std::chrono::milliseconds max_runtime{0};  // start no job after this; 0: no limit
  // Where measurements go.
  std::string output;      // a JSONL file appended to; "" none
  bool to_stdout = false;  // one JSON line per measurement on stdout
  std::string spool_dir;
  std::string results_db;
  /// Upload after the run (the volunteer opted in and a collector is configured).
  bool upload = false;
  std::vector<std::string> collectors;
};

/// What a run did.
struct RunOutcome {
  int64_t run_id = 0;                // in the results database
  std::vector<JobOutcome> jobs;      // one per job, in plan order, residual blocks attributed
  size_t not_started = 0;            // left for the next run by the time budget
  size_t could_not_run = 0;          // experiments that returned an error or threw
  std::optional<std::string> error;  // why the run failed once started
  /// The end of the time budget (max_runtime from the start), which Upload keeps to.
  std::optional<std::chrono::steady_clock::time_point> deadline;
};

class Runner {
 public:
  /// Checks the settings and opens what the run writes to (spool, results database
  /// with the run begun, output file); the error names the setting at fault.
  /// `observer` must outlive the runner.
  static Result<std::unique_ptr<Runner>> Open(RunPlan plan, RunSettings settings,
                                              RunObserver& observer);

  ~Runner();
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  /// Runs every job of the plan and finishes the run in the results database.
  RunOutcome Run();

  /// Whether Upload has somewhere to send measurements.
  bool uploading() const;

  /// Uploads what the spool holds pending, until the run's time budget ends.
  UploadReport Upload();

 private:
  struct State;
  explicit Runner(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace vigil
