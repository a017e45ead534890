// Undoes what NIC offloads leave in frames captured from a veth: TCP/UDP checksums
// that are only partial (checksum offload) and TCP super-segments larger than the
// MTU (TSO/GSO). The kernel finishes both in hardware-less paths, but a frame
// re-injected from user space is sent as is. Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "tests/lab/censor/frame.h"

namespace vigil::lab {

/// The Internet checksum (RFC 1071) of `data`, folded into `sum` first.
uint16_t InternetChecksum(std::span<const uint8_t> data, uint32_t sum = 0);

/// Recomputes the IPv4 header checksum (if IPv4) and the TCP or UDP checksum of the
/// frame `f` describes, writing into `frame` (a copy of f.bytes). IPv4 UDP datagrams
/// sent without a checksum (0) are left so. Fragments and other protocols are left.
void RepairChecksums(const Frame& f, std::vector<uint8_t>* frame);

/// Cuts a TCP frame whose IP packet is longer than `mtu` into frames that fit, with
/// consecutive sequence numbers and IPv4 IDs and valid checksums. Returns nothing when
/// the frame is not TCP or cannot be cut (headers alone exceed the MTU).
std::vector<std::vector<uint8_t>> SplitTcpSuperSegment(const Frame& f, size_t mtu);

}  // namespace vigil::lab
