// PacketCapture: one live libpcap capture for a whole run (not one per flow), shared by
// all its measurements. It opens the "any" device in immediate mode with nanosecond
// time stamps and a BPF filter that keeps only what evidence needs: TCP segments with
// SYN, FIN or RST set, UDP to or from port 53, and ICMP/ICMPv6 errors. A thread reads
// packets as they come, parses them (packet.h) into a bounded in-memory ring, and, when
// asked, writes every captured frame to a pcap file for Wireshark.
// Opening needs CAP_NET_RAW (or root); without it Open returns an error whose message
// is the reason a measurement records (x_packets {"available": false, "reason": ...}).
// Thread-safe: Packets() may be called from any thread while the capture runs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "probe/capture/packet.h"

namespace vigil {

struct CaptureOptions {
  std::string device = "any";
  /// Written as the capture goes (pcap format, nanosecond precision); "" = none.
  std::string pcap_file;
  /// Frames kept in memory; the oldest go first beyond it (counted in dropped()).
  size_t max_packets = 200000;
  /// Bytes of each frame captured (headers, a DNS message, a few payload bytes).
  int snaplen = 1024;
};

class PacketCapture {
 public:
  /// Opens and starts capturing. The capture has begun when this returns: a packet sent
  /// afterwards is seen. Errors: no privilege ("capture needs CAP_NET_RAW: ..."), no
  /// such device, a pcap file that cannot be written.
  static Result<std::unique_ptr<PacketCapture>> Open(const CaptureOptions& options);

  virtual ~PacketCapture() = default;

  /// The packets seen with time_ns in [from_ns, to_ns], in arrival order. Packets that
  /// arrived by now are included; a caller wanting packets up to a moment waits for
  /// Flush() first.
  virtual std::vector<CapturedPacket> Packets(int64_t from_ns, int64_t to_ns) const = 0;

  /// The same, only those `keep` says yes to (called under the capture's lock: keep it
  /// short). A measurement takes its own flows' packets out of a busy run's this way.
  virtual std::vector<CapturedPacket> Packets(
      int64_t from_ns, int64_t to_ns,
      const std::function<bool(const CapturedPacket&)>& keep) const = 0;

  /// Waits until every packet the kernel has queued for the capture so far is parsed
  /// (at most ~100 ms).
  virtual void Flush() = 0;

  /// Stops the thread and closes the pcap file (idempotent; the destructor calls it).
  virtual void Stop() = 0;

  /// The BPF filter in use.
  virtual const std::string& filter() const = 0;

  /// Packets the kernel dropped plus frames that fell out of the ring or did not parse.
  virtual uint64_t dropped() const = 0;
};

/// The filter Open uses (exposed for tests and for x_packets). IPv4 is matched on the
/// TCP flags, UDP port 53 and the ICMP type wherever the transport header starts; IPv6
/// only when the transport header follows the fixed header directly (BPF does not walk
/// extension headers): a segment or ICMPv6 error behind an extension header is missed.
std::string EvidenceFilter();

/// Every frame of the pcap file at `path` (any link type ParseFrame reads), parsed, in
/// file order, with nanosecond time stamps. An error names the file and, for a frame
/// that does not parse, its number (from 1, as Wireshark counts).
Result<std::vector<CapturedPacket>> ReadPcapFile(const std::string& path);

}  // namespace vigil
