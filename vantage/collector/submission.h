// What the collector accepts: OONI report ids (bk-003) and measurement submissions,
// checked before anything is stored. A report id carries its test, country and
// network (YYYYmmddTHHMMSSZ_<test without _>_<CC>_<ASN>_n<collector>_<random>), so
// the collector keeps no table of open reports: a submission is checked against the
// id it names, before and after a restart alike. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>

#include "base/result.h"

namespace vigil {

struct ReportIdParts {
  std::string test;       // the test name without underscores ("webconnectivity")
  std::string probe_cc;   // "IT"
  std::string probe_asn;  // "AS30722"
};

/// Two capital letters ("IT"); "AS" and 1-10 digits ("AS30722").
bool IsCountryCode(std::string_view s);
bool IsAsn(std::string_view s);

/// A new report id for a report opened at `now` by collector `collector_number`.
std::string NewReportId(std::time_t now, std::string_view test_name, std::string_view probe_cc,
                        std::string_view probe_asn, int collector_number);

/// The parts of a report id, or why it is not one.
Result<ReportIdParts> ParseReportId(std::string_view report_id);

/// The fields of POST /report (opening a report), checked.
struct ReportOpening {
  std::string test_name, probe_cc, probe_asn, software_name, software_version, test_version;
};
Result<ReportOpening> ParseReportOpening(std::string_view body);

struct SubmissionLimits {
  size_t max_measurement_bytes = size_t{32} << 20;  // after inflating
  std::time_t now = 0;                              // 0: the clock
  int max_future_seconds = 24 * 3600;               // clock skew allowed
};

/// A measurement that passed the checks: its text (as the probe sent it, one line)
/// and what the archive files it under.
struct Submission {
  std::string content;  // the measurement JSON (newlines inside it removed)
  std::string report_id, test_name, probe_cc, probe_asn;
  std::string measurement_start_time;
  /// Stable for the same measurement sent again, even under another report id:
  /// "<YYYYmmddHHMMSS of its start>_<CC>_<test without _>_<16 hex of a hash>".
  std::string measurement_uid;
};

/// Checks a request body: `{"format": "json", "content": {...}}`, gzip or not. When
/// `report_id` is not empty (POST /report/{id}) the content must belong to it (its
/// report_id, when present, equal; test, country and network those of the id);
/// otherwise (POST /api/v1/submit_measurement) the content names its report.
/// The error says which field is wrong and why.
Result<Submission> ParseSubmission(std::string_view body, std::string_view report_id,
                                   const SubmissionLimits& limits);

/// The uid of a measurement's text under a report id (see Submission).
std::string MeasurementUid(std::string_view content, std::string_view report_id,
                           std::string_view start_time, std::string_view probe_cc,
                           std::string_view test_name);

}  // namespace vigil
