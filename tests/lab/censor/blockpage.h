// Block pages: the HTTP response a censor serves in place of the server's (status,
// body or a redirect to the censor's page, then FIN or RST), cut into segments that fit the
// client's MTU, and the RST that frees the server, which never saw the request. Stateless
// functions; the caller owns the InjectionRng and the output list, so not thread-safe on shared
// ones.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

#include "tests/lab/censor/frame.h"
#include "tests/lab/censor/injection_rng.h"
#include "tests/lab/censor/outgoing.h"
#include "tests/lab/censor/scenario.h"

namespace vigil::lab {

/// Appends to `out` the block page `b` as the server's answer to the request segment
/// `trigger` (segments of at most `client_mtu` bytes of IP packet, advertising
/// `server_window`), its FIN or RST, and an RST to the server unless the request
/// passes (`b.pass_trigger`: the caller forwards it); adds status, how the page ends,
/// its body size, a redirect's location and whether the request passed to `detail`.
void InjectBlockpage(const BlockpageParams& b, const Frame& trigger, size_t client_mtu,
                     uint16_t server_window, InjectionRng* rng, std::vector<Outgoing>* out,
                     nlohmann::json* detail);

}  // namespace vigil::lab
