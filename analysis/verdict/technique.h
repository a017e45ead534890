// Technique: how the censor blocked a measurement, named from the layer its verdict
// blames and the failure the probe saw there — the words events and reports print
// ("dns_injection", "tcp_rst", "tcp_blackhole", "tls_sni_rst", "blockpage", ...).
// A pure function of one scored measurement; safe from any thread.
#pragma once

#include <string_view>

#include "analysis/model/rows.h"

namespace vigil::analysis {

/// The technique behind a blocked or anomaly verdict; "" for any other class. Names:
///   dns_injection (a forged answer: bogon, fingerprint, an address the control never
///   saw), dns_nxdomain, dns_blackhole (timeout), dns_refused, dns_failure;
///   tcp_rst, tcp_blackhole, tcp_refused, icmp_unreachable, tcp_failure;
///   tls_sni_rst, tls_sni_blackhole, tls_eof, tls_failure;
///   blockpage (a fingerprint or a page unlike the control's), http_rst,
///   http_blackhole, http_eof, http_failure; keyword_drop (delivery); rst_injection (a
///   reset the probe's packet evidence proved injected, or a censor located on the path),
///   residual_block (a 3-tuple blocked after a trigger).
/// When the blamed layer shows no failure the layer's generic name is given.
std::string_view BlockingTechnique(const ExtractedMeasurement& m, const VerdictRow& row);

}  // namespace vigil::analysis
