// The client's side of a TCP flow as the censor follows it: the bytes it sends in
// order (retransmissions and overlaps trimmed, gaps waited out), and the protocol its
// first bytes open — a TLS ClientHello (and its SNI) or an HTTP request (host and
// path) — buffered within the flow table's budget until classified. Stateless
// functions; not thread-safe on a shared flow table.
#pragma once

#include <cstdint>
#include <span>

#include "tests/lab/censor/flow_table.h"
#include "tests/lab/censor/frame.h"

namespace vigil::lab {

/// Advances `flow` by the client's TCP segment `f`, classifying the flow from its
/// first bytes (buffered in `flows`). Returns the bytes of `f` that are new in the
/// stream, for keyword scanning; empty for SYNs, empty segments, gaps and
/// retransmissions.
std::span<const uint8_t> AdvanceClientStream(const Frame& f, FlowState* flow, FlowTable* flows);

}  // namespace vigil::lab
