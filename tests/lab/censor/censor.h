// Censor: the lab censor's decision engine. It sees every frame the bridge captures,
// tracks flows, applies the current phase's rules and says which frames to send where
// and when; it knows nothing of pcap, so tests drive it with crafted frames.
// Not thread-safe: the bridge's single thread owns it.
//
// censor.cc is the path a frame takes through the engine; each step lives in its
// own file: the client's stream (client_stream.h, keyword_set.h), phases
// (phase_schedule.h), residual blocks (residual_table.h), rule matching
// (rule_match.h), the actions (dns_injection.h, rst_injection.h, blockpage.h,
// icmp_unreachable.h, stream_cut.h, pacing.h), forwarding (forwarding.h) and the ground truth
// (truth_record.h); capture and injection with pcap are the bridge's (bridge.h).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "tests/lab/censor/flow_table.h"
#include "tests/lab/censor/frame.h"
#include "tests/lab/censor/injection_rng.h"
#include "tests/lab/censor/keyword_set.h"
#include "tests/lab/censor/outgoing.h"
#include "tests/lab/censor/packet.h"
#include "tests/lab/censor/phase_schedule.h"
#include "tests/lab/censor/residual_table.h"
#include "tests/lab/censor/scenario.h"
#include "tests/lab/censor/truth_log.h"

namespace vigil::lab {

class Censor {
 public:
  /// `truth` must outlive the censor. `seed` makes random choices reproducible.
  Censor(Scenario scenario, TruthSink* truth, uint64_t seed);
  // The phase schedule points into the scenario the censor owns.
  Censor(const Censor&) = delete;
  Censor& operator=(const Censor&) = delete;

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

  int phase() const { return phases_.current(); }
  const FlowTable& flows() const { return flows_; }

 private:
  void EnterDuePhases(const Clock& now);
  void TrackFlow(Packet* p);
  bool HandleResidual(Packet* p);
  const Rule* FirstMatch(Packet* p, nlohmann::json* detail);
  void Act(const Rule& rule, Packet* p, nlohmann::json detail);
  void Block(const Rule& rule, Packet* p, nlohmann::json detail);
  void Pace(const Rule& rule, Packet* p, nlohmann::json detail);
  void PassTrigger(const Rule& rule, Packet* p);

  void Forward(Packet* p, int64_t at_ns);
  int64_t Departure(Packet* p, int64_t earliest_ns);
  void AddResidual(const Rule& rule, Packet* p, nlohmann::json* detail);
  void Record(const Rule& rule, int phase, Packet* p, nlohmann::json detail);
  bool LogOnce(const Rule& rule, Packet* p);

  Scenario scenario_;
  TruthSink* truth_;
  InjectionRng rng_;
  PhaseSchedule phases_;
  FlowTable flows_;
  ResidualTable residual_;
  KeywordSet keywords_;
  size_t mtu_[2] = {1500, 1500};
  int64_t last_departure_ns_[2] = {0, 0};  // for packets outside any flow
  int64_t last_expire_ns_ = 0;
};

}  // namespace vigil::lab
