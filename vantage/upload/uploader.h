// Uploader: the probe's side of the OONI collector protocol (bk-003). A measurement
// goes to the first collector that takes it: a report is opened for its test,
// country and network (and reused for the next measurement of the same kind on the
// same collector, as OONI Probe does), the measurement is submitted with that
// report's id (gzip body), and the collector's measurement_uid comes back. Network
// errors and 5xx answers are retried with exponential backoff and full jitter, then
// the next collector is tried; a 4xx answer is the measurement's fault and is not
// retried (its reason is returned). Uploading the same measurement again is
// harmless: the collector knows it by content and answers with the same uid.
// Every request has connect and I/O deadlines, so a blocked collector costs at most
// attempts × deadlines, never a hang. One Uploader per thread.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace vigil {

struct UploadOptions {
  std::vector<std::string> collectors;  // base URLs (http[s]://host[:port][/prefix]), in order
  int attempts_per_collector = 3;
  std::chrono::milliseconds initial_backoff{500};
  std::chrono::milliseconds max_backoff{8000};
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds io_timeout{20000};
  bool gzip = true;
  std::string ca_file;  // trust this bundle for https collectors (else the system's)
  std::string user_agent = "vigil";
  /// How to wait between attempts (tests make it instant); default: sleep.
  std::function<void(std::chrono::milliseconds)> sleep;
};

struct UploadResult {
  bool ok = false;
  bool permanent = false;  // a 4xx: sending the same bytes again will not help
  std::string collector;   // the one that answered last
  std::string report_id;
  std::string measurement_uid;
  std::string error;  // why not, with each collector's last reason
  int attempts = 0;
};

class Uploader {
 public:
  explicit Uploader(UploadOptions options);
  ~Uploader();

  Uploader(const Uploader&) = delete;
  Uploader& operator=(const Uploader&) = delete;

  /// Uploads one measurement (OONI JSON; its report_id is set to the report's).
  UploadResult Upload(std::string_view measurement_json);

  /// Closes the reports opened so far (POST /report/{id}/close); best effort.
  void CloseReports();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil
