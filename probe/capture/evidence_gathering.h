// Gathering a finished measurement's packet evidence from the run's capture: wait until
// its late packets (a reset racing its end, DNS replies within the listening window
// after a query's first reply) have had time to come, then write x_packets and
// x_injection (packet_evidence.h). `vigil run` does it for every measurement beside the
// next ones; `vigil measure --capture` for its one. Runs on the context's executor.
#pragma once

#include <asio/awaitable.hpp>
#include <cstdint>

#include "probe/experiments/experiment.h"
#include "probe/measurement/measurement.h"

namespace vigil {

/// The wall clock (UNIX epoch) in nanoseconds, as the capture stamps packets.
int64_t WallNowNs();

/// x_packets (and x_injection when something was proven) for `m`, which ran from
/// zero_ns to end_ns; x_packets {"available": false, ...} when the context has no
/// capture but says why; nothing when the capture is off.
asio::awaitable<void> GatherPacketEvidence(const ExperimentContext& context, Measurement& m,
                                           int64_t zero_ns, int64_t end_ns);

}  // namespace vigil
