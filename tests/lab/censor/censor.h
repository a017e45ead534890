// Censor: the lab censor's decision engine. It sees every frame the bridge captures,
// tracks flows, applies the current phase's rules and says which frames to send where
// and when; it knows nothing of pcap, so tests drive it with crafted frames.
// Not thread-safe: the bridge's single thread owns it.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "tests/lab/censor/dns_wire.h"
#include "tests/lab/censor/flow_table.h"
#include "tests/lab/censor/frame.h"
#include "tests/lab/censor/residual_table.h"
#include "tests/lab/censor/scenario.h"
#include "tests/lab/censor/truth_log.h"

namespace vigil::lab {

/// The bridge's two interfaces: `in` faces the clients, `out` the servers. A flow's
/// client is always the endpoint on the `in` side.
enum class Side { kClient = 0, kServer = 1 };

struct Outgoing {
  Side to = Side::kServer;
  std::vector<uint8_t> frame;
  /// Monotonic time at which to send; at or before now means immediately.
  int64_t at_ns = 0;
};

struct Clock {
  int64_t mono_ns = 0;
  /// Unix time in seconds, for the ground truth.
  double wall = 0;
};

class Censor {
 public:
  /// `truth` must outlive the censor. `seed` makes random choices reproducible.
  Censor(Scenario scenario, TruthSink* truth, uint64_t seed);

  /// Marks the censor's start (phase offsets count from here) and enters phase 0
  /// if it starts at 0s.
  void Start(const Clock& now);
  /// The largest IP packet each side accepts; larger frames are cut or dropped.
  void SetMtu(Side side, size_t mtu) { mtu_[static_cast<int>(side)] = mtu; }

  /// Handles one frame captured on side `from`; appends the frames to send to `out`.
  void OnFrame(Side from, std::span<const uint8_t> frame, const Clock& now,
               std::vector<Outgoing>* out);
  /// Enters phases that are due and expires idle flows. Returns the monotonic time of
  /// the next phase start, or INT64_MAX.
  int64_t Tick(const Clock& now);

  int phase() const { return phase_; }
  const FlowTable& flows() const { return flows_; }

 private:
  struct Packet;

  void EnterDuePhases(const Clock& now);
  void UpdateClientState(Packet* p);
  void Classify(FlowState* flow);
  void ScanKeywords(Packet* p, const uint8_t* data, size_t n);
  bool HandleResidual(Packet* p);
  const Rule* FirstMatch(Packet* p, nlohmann::json* detail);
  bool Matches(const Rule& rule, Packet* p, nlohmann::json* detail);
  void Act(const Rule& rule, Packet* p, nlohmann::json detail);

  void Forward(Packet* p, int64_t at_ns);
  void Emit(Packet* p, Side to, std::vector<uint8_t> frame, int64_t at_ns = 0);
  int64_t Departure(Packet* p, int64_t earliest_ns);
  std::optional<int64_t> ThrottleDeparture(const ThrottleParams& t, Packet* p);

  nlohmann::json InjectRsts(const RstParams& rst, Packet* p, bool residual);
  void InjectDns(const Rule& rule, Packet* p, const DnsQuestion& q, nlohmann::json* detail);
  void InjectBlockpage(const BlockpageParams& b, Packet* p, nlohmann::json* detail);
  bool KeywordDrop(Packet* p);
  bool ReackCutSegment(Packet* p);
  void RenumberForCuts(Packet* p, std::vector<uint8_t>* frame);

  void Record(const Rule* rule, int phase, Packet* p, nlohmann::json detail);
  bool LogOnce(const Rule* rule, Packet* p);
  uint8_t PickTtl(const TtlSpec& ttl, const Packet& p);
  uint16_t PickIpId(const IpIdSpec& id);

  Scenario scenario_;
  TruthSink* truth_;
  std::mt19937_64 rng_;
  FlowTable flows_;
  ResidualTable residual_;
  /// Every keyword any rule mentions; FlowState::words_seen indexes into it.
  std::vector<std::string> words_;
  size_t longest_word_ = 0;
  int64_t start_ns_ = 0;
  int phase_ = -1;
  size_t mtu_[2] = {1500, 1500};
  int64_t last_departure_ns_[2] = {0, 0};  // for packets outside any flow
  int64_t last_expire_ns_ = 0;
};

}  // namespace vigil::lab
