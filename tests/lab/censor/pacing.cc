#include "tests/lab/censor/pacing.h"

#include <algorithm>

namespace vigil::lab {

int64_t OrderedDeparture(int64_t earliest_ns, int64_t* last_ns) {
  int64_t at = std::max(earliest_ns, *last_ns);
  *last_ns = at;
  return at;
}

std::optional<int64_t> ThrottleDeparture(const ThrottleParams& t, int64_t now_ns,
                                         size_t frame_bytes, int64_t* tat_ns) {
  const double ns_per_byte = 8e9 / static_cast<double>(t.rate_bps);
  const auto burst_ns = static_cast<int64_t>(t.burst_bytes * ns_per_byte);
  int64_t& tat = *tat_ns;
  // GCRA shaper: a frame may leave once the theoretical arrival time is within the
  // burst allowance; a queue longer than queue_bytes is dropped, as a router would.
  int64_t depart = std::max(now_ns, tat - burst_ns);
  if (static_cast<double>(depart - now_ns) / ns_per_byte > t.queue_bytes) return std::nullopt;
  tat = std::max(tat, depart) + static_cast<int64_t>(frame_bytes * ns_per_byte);
  return depart;
}

}  // namespace vigil::lab
