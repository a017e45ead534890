// Experiment: the one small interface every experiment implements (name, version,
// input policy, run → measurement, summary), after zgrab2's modules and
// probe-cli's experiments. An experiment returns an Error only when it could not
// run at all; every network outcome is data inside the measurement.
// Implementations are stateless between runs; Run is called from the executor's thread.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "probe/capture/injection_options.h"
#include "probe/dns/dns_observer.h"
#include "probe/experiments/catalog.h"
#include "probe/experiments/delivery/delivery_options.h"
#include "probe/experiments/run_verdict.h"
#include "probe/measurement/measurement.h"

namespace vigil {

class AsnDatabase;
class ControlClient;
class PacketCapture;
class SniTriggerLog;

/// Real IP literals → the addresses to contact instead (the lab's endpoints file);
/// empty in real use.
using AddressMap = std::map<std::string, std::string>;

/// What every experiment may use; filled by `vigil run` from flags and config.
struct ExperimentContext {
  asio::any_io_executor executor;
  ResolverSpec resolver;                     // system by default
  std::string ca_file;                       // "" = the system store
  std::chrono::milliseconds timeout{10000};  // per step
  size_t parallelism = 8;                    // steps in flight inside one measurement
  AddressMap address_map;
  std::string helper_url;  // web_connectivity's control helper
  /// Connections to helper_url kept between measurements (a run makes one on its
  /// event loop); null: each control request opens and closes its own.
  std::shared_ptr<ControlClient> control_client;
  std::string data_dir;  // testlists/ (endpoints, keywords, pinned CAs)
  /// CIDR lists (one prefix a line) added to an ASN's prefixes from data_dir/asn/:
  /// the lab serves "Facebook" from its own range, which no public list contains.
  std::vector<std::string> extra_asn_files;
  /// Addresses added to an ASN's prefixes ("AS32934" → {"198.18.73.1", ...}): the
  /// lab's endpoints file says which stand-in addresses play which network.
  std::map<std::string, std::vector<std::string>> extra_asn_addresses;
  /// IP → AS (a GeoLite2-ASN-style mmdb); null when none was given.
  std::shared_ptr<const AsnDatabase> asn_db;
  /// Where and when a test SNI was blocked in this run (residual_block.h), shared by
  /// the run's measurements; null outside a run: residual blocks are not recognised.
  std::shared_ptr<SniTriggerLog> sni_triggers;
  /// The delivery experiment's consent, transport and servers (delivery_options.h).
  DeliveryOptions delivery;
  /// The run's packet capture (probe/capture/packet_capture.h); null when there is none,
  /// and then capture_unavailable says why ("" when capture was not asked for).
  std::shared_ptr<PacketCapture> capture;
  std::string capture_unavailable;
  /// Whether an address is a known forged DNS answer (the DNS fingerprints' addresses
  /// and InjectionOptions::forged_ip_files); null: none is known.
  std::function<bool(const std::string& ip)> is_forged_ip;
  /// The evidence experiments' settings (dns_injection, residual_blocking, censor_hop).
  InjectionOptions injection;

  /// `ip` itself unless the address map says otherwise.
  std::string MapAddress(const std::string& ip) const {
    auto it = address_map.find(ip);
    return it == address_map.end() ? ip : it->second;
  }
};

/// The line `vigil run` prints for a measurement.
struct RunSummary {
  std::string service;  // "WhatsApp", a URL, ...
  /// Printed and stored by its name (run_verdict.h); kError until something judges.
  RunVerdict verdict = RunVerdict::kError;
  std::string blocking;  // dns | tcp_ip | tls | http-failure | http-diff | "" ...
  std::string evidence;  // one line: what was seen
  /// How the censor did it and, when packets proved it, who ("tls_sni_rst (gfw_type2)");
  /// set by the run's judge for blocked and anomaly verdicts; "" otherwise.
  std::string technique{};
  /// Lines printed under the row (the delivery experiment's keywords); may be empty.
  std::vector<std::string> details{};
};

class Experiment {
 public:
  using InputPolicy = vigil::InputPolicy;

  virtual ~Experiment() = default;

  virtual std::string_view name() const = 0;
  virtual std::string_view version() const = 0;
  virtual InputPolicy input_policy() const = 0;

  /// For an experiment run without inputs: the inputs to measure instead, one measurement
  /// each (e.g. every service of a list under `data_dir`). Empty: a kOptional experiment
  /// measures once with a null input; a kRequired one has nothing to measure (skipped in
  /// a group, refused alone). An error means the experiment cannot run at all.
  virtual Result<std::vector<std::string>> DefaultInputs(const std::string& /*data_dir*/) const {
    return std::vector<std::string>{};
  }

  /// Measures once; `input` is the target (null when the experiment takes none).
  virtual asio::awaitable<Result<Measurement>> Run(const ExperimentContext& context,
                                                   const Json& input) const = 0;

  /// The verdict line for a finished measurement of this experiment.
  virtual RunSummary Summarize(const Measurement& measurement) const = 0;
};

}  // namespace vigil
