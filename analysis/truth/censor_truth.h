// CensorTruth: the ground truth the interference lab's censor writes (tests/lab/censor's
// truth_record: one JSON object per line, a phase starting or a rule acting on a flow),
// read back so the analyzer's verdicts can be checked against what was really done.
// Every line is checked; a malformed one is reported as FILE:LINE: field 'NAME': reason
// and the file is refused as a whole (a comparison against part of the truth would
// count what was lost as false positives). Plain values; safe from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace vigil::analysis {

/// The flow a rule acted on, as seen from its client (`src` is always the client).
struct TruthFlow {
  std::string proto;  // tcp, udp, or ip (another IP protocol: no ports)
  std::string src;    // addresses in canonical text (inet_ntop's)
  std::string dst;
  uint16_t sport = 0;  // 0 for proto ip
  uint16_t dport = 0;
};

/// One rule acting on one flow (a record with "rule", "action", "flow", "detail").
struct CensorAct {
  uint64_t line = 0;  // where it was read
  double t = 0;       // Unix time, seconds
  int phase = 0;
  std::string rule;
  std::string action;  // the censor's action name: dns_inject, rst_inject, drop, ...
  TruthFlow flow;
  // The detail the matching reads; names lower-cased, without a trailing dot, "" when
  // the record has none.
  std::string qname;     // the DNS query (dns_* actions)
  std::string sni;       // the TLS server name that matched
  std::string host;      // the HTTP Host that matched
  std::string location;  // a block page's redirect target (http_blockpage), or ""
  /// dns_inject: the shortest hold-back of its forged copies (detail.copies[].delay_ms);
  /// above 0 every forgery left after the query it answers went on to the resolver.
  uint32_t min_delay_ms = 0;
  bool keywords = false;  // keywords matched (keyword rules)
  bool residual = false;  // a hit of a residual block left by an earlier act
};

/// A phase starting (a record with "event": "phase_start").
struct PhaseStart {
  uint64_t line = 0;
  double t = 0;
  int phase = 0;
};

struct CensorTruth {
  std::string file;
  std::vector<PhaseStart> phases;  // in file order
  std::vector<CensorAct> acts;     // by time (file order, stable)
  /// Servers the lab made fail by themselves (its lab_settings record: "name" → mode,
  /// e.g. "http_503", "tcp_reset"): not the censor's doing, so a measurement of one that
  /// is flagged is a false positive like any other the censor left alone.
  std::map<std::string, std::string> failing_servers;

  /// When the censor started: the first phase start, or nullopt (an empty file).
  std::optional<double> Start() const;
  /// The phase in force at Unix second `second` (a measurement's start, which has
  /// whole seconds: a phase that started within that second counts), or -1 before
  /// the first.
  int PhaseAt(int64_t second) const;
};

/// Parses the text of a truth file (`file` names it in messages). On error, every bad
/// line as "FILE:LINE: field 'NAME': reason", one per line (at most `max_errors`, then
/// how many more).
Result<CensorTruth> ParseCensorTruth(std::string_view text, const std::string& file,
                                     size_t max_errors = 20);

/// Reads and parses the truth file at `path`.
Result<CensorTruth> ReadCensorTruth(const std::string& path, size_t max_errors = 20);

/// `text` lower-cased, without a trailing dot: how names are compared.
std::string CanonicalName(std::string_view text);

/// An IP literal in inet_ntop's form ("FD00:64::70:1" -> "fd00:64::70:1"), or "" when
/// `text` is not one.
std::string CanonicalIp(std::string_view text);

}  // namespace vigil::analysis
