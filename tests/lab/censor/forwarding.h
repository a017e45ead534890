// Forwarding: how a frame the censor lets through leaves it — renumbered around the
// flow's stream cuts, with the checksums NIC offload left partial made whole, and
// a TSO/GSO super-segment cut to the far side's MTU as the sender's NIC would have.
// A stateless function; not thread-safe on a shared output list.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "tests/lab/censor/flow_table.h"
#include "tests/lab/censor/frame.h"
#include "tests/lab/censor/outgoing.h"

namespace vigil::lab {

/// Appends to `out` the frame(s) that carry `f` (sent by the client when `up`) to
/// side `to`, whose IP MTU is `mtu`, at `at_ns`. `flow` is null outside any flow.
void ForwardFrame(const Frame& f, bool up, const FlowState* flow, Side to, size_t mtu,
                  int64_t at_ns, std::vector<Outgoing>* out);

}  // namespace vigil::lab
