// What the censor engine and its bridge exchange: the side a frame came from or
// goes to, the frames to send and when, and the clock the engine reads (a seam, so
// tests choose the time). Plain data; thread-compatible.
#pragma once

#include <cstdint>
#include <vector>

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

}  // namespace vigil::lab
