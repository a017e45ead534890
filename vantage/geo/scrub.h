// Probe-IP scrubbing: OONI's rule that the volunteer's own address never leaves the
// machine. The runner scrubs every measurement before it is written to the spool, so
// what is spooled, shown as "to be uploaded" and uploaded is the scrubbed text; the
// tests check it with ContainsProbeIp. Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace vigil {

/// The measurement JSON text with the probe's addresses removed: the top-level
/// `probe_ip` value becomes "127.0.0.1" and every other occurrence of one of
/// `probe_ips` (the top-level probe_ip's own value counts as one) becomes "[scrubbed]",
/// wherever it is: failure strings, bodies, headers, DNS answers, key names.
///
/// Works on the text, so everything else (key order, spacing, number spelling, escapes)
/// stays byte for byte. Only whole addresses match: an IPv4 address must not touch a
/// digit or a '.' that continues with a digit ("10.0.0.12", "110.0.0.1" and the
/// five-number "10.0.0.1.5" are other things and stay; "10.0.0.1:443", "10.0.0.1." and
/// "10.0.0.1.nip.io" match); an IPv6 address must not touch a hex digit or ':' (one ':'
/// with a non-address character beyond it is allowed: "ip:2001:db8::1", "2001:db8::1:
/// refused"), which makes an unbracketed "2001:db8::1:443" another address. Addresses
/// compare as bytes, so every spelling of the same address matches: "2001:0DB8:0::1"
/// for 2001:db8::1, "::ffff:10.0.0.1" or "::ffff:a00:1" for 10.0.0.1, zero-padded
/// "010.000.000.001" for 10.0.0.1, an address in "[...]:port" or "ip:port".
///
/// Entries of `probe_ips` that are not addresses are ignored ("[2001:db8::1]" and a
/// "%zone" suffix are accepted). Loopback and unspecified addresses never count as the
/// probe's: they identify no one, and censors answer DNS queries with them. With no
/// usable address only probe_ip changes. A text that is not a JSON object is scrubbed
/// but has no probe_ip to set. Not caught: addresses spelled with JSON \u escapes,
/// or written as words ("ip-10-0-0-1").
std::string ScrubProbeIp(std::string_view measurement_json,
                         const std::vector<std::string>& probe_ips);

/// Whether `text` (JSON text: escapes are understood) holds one of `ips` as a whole
/// address in any spelling, by ScrubProbeIp's rules. What tests check with.
bool ContainsProbeIp(std::string_view text, const std::vector<std::string>& ips);

}  // namespace vigil
