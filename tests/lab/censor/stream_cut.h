// Stream cuts: how keyword_drop loses a client's TCP segment while the connection
// carries on, as with WeChat's server-side filtering. The censor cuts the segment
// out of the stream, acknowledges it to the client as the server would, and from
// then on renumbers the client's sequence numbers (and maps the server's ACKs back)
// around every cut. The cuts live in the flow's FlowState. Stateless functions;
// not thread-safe on a shared flow, InjectionRng or output list.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "tests/lab/censor/flow_table.h"
#include "tests/lab/censor/frame.h"
#include "tests/lab/censor/injection_rng.h"
#include "tests/lab/censor/outgoing.h"

namespace vigil::lab {

/// Drops the client's segment `f` of `flow` (which is null for datagrams): a
/// datagram just vanishes; a TCP payload is cut and acknowledged to the client.
/// Returns false when it cannot be cut (no payload, or the flow's cut budget is
/// spent): the caller forwards it.
bool CutSegment(const Frame& f, FlowState* flow, InjectionRng* rng, std::vector<Outgoing>* out);

/// Answers the client's retransmission of a segment already cut with the ACK again
/// (ours was lost or late). Returns false when `f` is no such retransmission.
bool ReackCutSegment(const Frame& f, const FlowState* flow, InjectionRng* rng,
                     std::vector<Outgoing>* out);

/// Rewrites, in `frame` (a copy of f.bytes), a TCP segment of a flow with `cuts`:
/// the client's sequence number shifted down (`up`), or the server's ACK shifted
/// back up with its SACK blocks blanked.
void RenumberForCuts(const Frame& f, bool up,
                     const std::vector<std::pair<uint32_t, uint32_t>>& cuts,
                     std::vector<uint8_t>* frame);

}  // namespace vigil::lab
