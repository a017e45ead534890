// Pacing: when a forwarded frame may leave — never before an earlier frame of the
// same flow and direction (so changing delays or rates never reorders a flow), and,
// under a throttle rule, at the pace of a GCRA shaper with a bounded queue.
// Stateless functions over state the caller keeps (FlowState's per-direction
// departure and throttle times); not thread-safe on shared state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "tests/lab/censor/scenario.h"

namespace vigil::lab {

/// The departure time of a frame due at `earliest_ns` behind the frame that left at
/// `*last_ns`; records it in `*last_ns`.
int64_t OrderedDeparture(int64_t earliest_ns, int64_t* last_ns);

/// When a frame of `frame_bytes` arriving at `now_ns` leaves a shaper with rate,
/// burst and queue `t` whose theoretical arrival time is `*tat_ns` (updated); nullopt
/// when the queue is full and the frame is dropped, as a router would.
std::optional<int64_t> ThrottleDeparture(const ThrottleParams& t, int64_t now_ns,
                                         size_t frame_bytes, int64_t* tat_ns);

}  // namespace vigil::lab
