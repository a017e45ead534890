// Informed consent, as OONI Probe asks for it: what running vigil exposes a volunteer
// to, a short quiz that checks it was understood, and the upload choice, recorded in
// the config file. Nothing measures before it (RequireConsent); `--yes` exists for
// unattended installs and prints what it accepted on the volunteer's behalf.
#pragma once

#include <istream>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "base/result.h"
#include "vantage/runner/volunteer_config.h"

namespace vigil {

/// Bumped when the text changes in substance: consent to an older text is asked again.
inline constexpr int kConsentTextVersion = 1;

/// The text a volunteer reads before the quiz.
const std::string& ConsentText();

struct OnboardOptions {
  std::string config_path;
  bool yes = false;                     // unattended: accept without the quiz
  std::optional<bool> upload;           // --upload / --no-upload; asked when absent
  std::vector<std::string> collectors;  // replace the config's list when not empty
  /// --delivery / --no-delivery: enable the delivery experiment (after its own text and
  /// an explicit acknowledgement) or turn it off; unchanged when absent.
  std::optional<bool> delivery;
};

/// What the delivery experiment sends and why that is a risk of its own.
const std::string& DeliveryConsentText();

/// What a volunteer types to enable the delivery experiment.
inline constexpr const char* kDeliveryAcknowledgement = "I understand";

/// Runs onboarding: reads answers from `in`, talks on `out`, reports errors on `err`;
/// returns the exit status (0 when consent was recorded). An existing config keeps its
/// other keys; a malformed one is an error and is not overwritten.
int RunOnboard(const OnboardOptions& options, std::istream& in, std::ostream& out,
               std::ostream& err);

/// An error unless `config` records consent to the current text (`path` names the file).
Result<void> RequireConsent(const VantageConfig& config, const std::string& path);

}  // namespace vigil
