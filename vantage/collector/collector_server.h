// CollectorServer: `vigil collector`, the server side of OONI's collector API (bk-003)
// and its check-in. POST /report opens a report (its id carries test, country and
// network, so no report table is kept), POST /report/{id} and
// POST /api/v1/submit_measurement[/{id}] submit a measurement (gzip bodies too),
// POST /report/{id}/close closes one, POST /api/v1/check-in returns the test lists'
// URLs for the probe's country and the helper and relay addresses, GET /health says
// how much is stored. Every submission is checked (submission.h) and answered 4xx
// with a reason when bad; a good one is acknowledged only once the archive has it on
// disk; a measurement sent again is acknowledged with the same measurement_uid and
// stored once. Client addresses are neither logged nor stored.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "vantage/collector/archive.h"
#include "vantage/collector/submission.h"
#include "vantage/http/server.h"

namespace vigil {

struct CollectorConfig {
  HttpServerConfig http;  // name, address, port, threads
  ArchiveOptions archive;
  SubmissionLimits limits;
  size_t max_body_bytes = size_t{8} << 20;  // as sent (compressed or not)
  int collector_number = 1;                 // the n<N> part of report ids
  // Check-in: what a probe is told.
  std::vector<std::string> test_helpers;  // web_connectivity control helper URLs
  std::string relay;                      // message relay host:port, may be empty
  std::string testlists_dir;              // testlists/lists: global.csv and <cc>.csv
  size_t checkin_max_urls = 200;          // per check-in (unattended probes want few)
};

class CollectorServer {
 public:
  /// Opens the archive (recovering it after a crash); the error names what failed.
  static Result<std::unique_ptr<CollectorServer>> Create(CollectorConfig config,
                                                         RecoveryReport* recovery = nullptr);
  ~CollectorServer();

  Result<uint16_t> Bind();
  void Serve();  // until Stop()
  void Stop();   // thread-safe

  Archive& archive();

 private:
  CollectorServer();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil
