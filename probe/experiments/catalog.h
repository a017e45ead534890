// The experiment catalog: one descriptor per experiment — its OONI test_name and
// the other names it is known by, version, groups, the services it tests, its input
// policy and where its inputs come from by default, and which of the analyzer's
// scorers judges it. Plain data that depends on nothing else of the probe, so that
// both the probe's registry (which adds how to make each experiment) and the
// analyzer read the same list (library vigil_catalog). Each descriptor lives in its
// experiment's folder (<name>/descriptor.cc); experiments.def lists them.
// A catalog is immutable once built; thread-safe. Active() is what the analyzer
// reads: the built-in catalog, unless a test has put another in place (ScopedCatalog).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace vigil {

/// Whether an experiment measures inputs (URLs, endpoints, resolvers) or only itself.
enum class InputPolicy { kNone, kRequired, kOptional };

/// Where a kRequired experiment's inputs come from when the user gives none.
enum class DefaultInputSource {
  kNone,       // the user must give them (--input, --input-file)
  kTestLists,  // the URL test lists (global and the country's), by category
};

/// The analyzer's scorers; an experiment names the one that judges it.
enum class ScorerKind {
  kGeneric,  // step failures only (dns, tcp, tls, http)
  kWebConnectivity,
  kWhatsapp,
  kTelegram,
  kSignal,
  kFacebookMessenger,
  kWechat,
  kMessaging,
  kDnscheck,
  kSniBlocking,
  kStun,
  kDelivery,          // message delivery: keywords lost between benign controls
  kDnsInjection,      // forged DNS answers: the sink answered, replies beyond one
  kResidualBlocking,  // a 3-tuple blocked after a trigger, and for how long
  kCensorHop,         // where on the path the censor sits (TTL-limited triggers)
};

/// The lists' `{}` let a descriptor written with designated initializers leave an
/// empty list out (GCC's -Wmissing-field-initializers names only members without one).
struct ExperimentDescriptor {
  std::string name;                    // OONI's test_name
  std::string version;                 // the experiment's own version
  std::vector<std::string> aliases{};  // other test_names of the same experiment (OONI's)
  std::vector<std::string> groups{};   // what `vigil run GROUP` runs it for ("im", "websites")
  /// The services it tests: a measurement without input is about the first of them.
  std::vector<std::string> services{};
  InputPolicy input_policy = InputPolicy::kNone;
  DefaultInputSource default_inputs = DefaultInputSource::kNone;
  ScorerKind scorer = ScorerKind::kGeneric;
};

class ExperimentCatalog {
 public:
  explicit ExperimentCatalog(std::vector<ExperimentDescriptor> descriptors);

  /// Every experiment this build has (experiments.def), in name order.
  static const ExperimentCatalog& Builtin();

  /// The catalog the analyzer judges measurements by: Builtin() unless a
  /// ScopedCatalog is alive.
  static const ExperimentCatalog& Active();

  /// The descriptor whose name or alias is `test_name`; null when there is none.
  const ExperimentDescriptor* Find(std::string_view test_name) const;

  /// `test_name` under its descriptor's name (an alias resolved), else as given.
  std::string_view CanonicalName(std::string_view test_name) const;

  /// The names of group `group`, in catalog order: "all" is every experiment; empty
  /// for an unknown group.
  std::vector<std::string> Group(std::string_view group) const;

  /// The groups any descriptor names, in first-seen order, then "all".
  std::vector<std::string> GroupNames() const;

  const std::vector<ExperimentDescriptor>& descriptors() const { return descriptors_; }

 private:
  std::vector<ExperimentDescriptor> descriptors_;
};

/// Puts `catalog` in place of the built-in one for Active() while it lives: the seam
/// through which a test adds an experiment of its own. Create and destroy it while
/// no other thread reads Active(); `catalog` must outlive it.
class ScopedCatalog {
 public:
  explicit ScopedCatalog(const ExperimentCatalog& catalog);
  ~ScopedCatalog();
  ScopedCatalog(const ScopedCatalog&) = delete;
  ScopedCatalog& operator=(const ScopedCatalog&) = delete;

 private:
  const ExperimentCatalog* previous_;
};

}  // namespace vigil
