// LabEnvironment: the interference lab (tests/lab/lab.sh) brought up once for a
// test program and torn down at its end, with helpers to run ordinary tools (dig,
// curl, openssl, tcpdump, vigil) inside its namespaces and to read the censor's
// ground truth. One lab per machine at a time; not thread-safe.
#pragma once

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/child_process.h"

namespace vigil::test_support {

class LabEnvironment {
 public:
  /// Why the lab cannot run here (not root, no `ip netns`, no censor binary), or nullopt.
  static std::optional<std::string> Unavailable();

  /// Brings the lab up with `scenario`; check ok() afterwards.
  explicit LabEnvironment(const std::string& scenario = "clean");
  ~LabEnvironment();  // brings it down, whatever happened

  LabEnvironment(const LabEnvironment&) = delete;
  LabEnvironment& operator=(const LabEnvironment&) = delete;

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  const std::string& state_dir() const { return state_; }
  std::string ca_file() const { return state_ + "/ca.pem"; }

  /// Restarts the censor with another scenario; the truth file starts afresh.
  bool SwitchScenario(const std::string& scenario, std::string* error);

  /// Runs argv inside namespace vgl-<ns> ("client", "client2", "server", ...).
  CommandResult Exec(const std::string& ns, std::vector<std::string> argv,
                     std::chrono::milliseconds timeout = std::chrono::seconds(30)) const;

  /// `vigil measure ...` from vgl-<ns>; the measurement's JSON, or null when the
  /// output was not JSON (the test then fails with the output).
  nlohmann::json Measure(const std::string& ns, std::vector<std::string> args) const;

  /// Every line the censor wrote to its ground-truth file so far.
  std::vector<nlohmann::json> Truth() const;

  /// The lines of Truth() that record an action (not phase starts).
  std::vector<nlohmann::json> Actions() const;

  /// The uncensored vantage's `vigil helper` at kHelperUrl (198.18.30.2:8090 in
  /// vgl-control), with the lab's CA and ASN database and `extra` flags, started and
  /// waited for until it accepts connections (5 s at most); its log is
  /// state_dir()/helper.log. A helper that does not start is a test failure.
  static constexpr const char* kHelperUrl = "http://198.18.30.2:8090/";
  std::unique_ptr<ChildProcess> StartHelper(std::vector<std::string> extra = {}) const;

 private:
  std::string lab_sh_;
  std::string state_;
  std::string error_;
};

}  // namespace vigil::test_support
