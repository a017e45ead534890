#include "probe/capture/packet_capture.h"

#include <pcap/pcap.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace vigil {

namespace {

constexpr int kBufferBytes = 4 << 20;
// How long the reader sleeps in poll when nothing comes: the longest Stop may wait.
constexpr int kPollMs = 50;
constexpr auto kFlushWait = std::chrono::milliseconds(100);
// How far out of time order the ring may hold packets (several interfaces, one ring).
constexpr int64_t kOrderMarginNs = 100'000'000;

int64_t StampNs(const pcap_pkthdr& header) {
  // With nanosecond precision libpcap puts nanoseconds in tv_usec.
  return int64_t{header.ts.tv_sec} * 1'000'000'000 + header.ts.tv_usec;
}

bool LinkTypeRead(int link_type) {
  return link_type == kLinkTypeEthernet || link_type == kLinkTypeRaw ||
         link_type == kLinkTypeLinuxSll || link_type == kLinkTypeLinuxSll2;
}

class LivePacketCapture final : public PacketCapture {
 public:
  LivePacketCapture(pcap_t* pcap, pcap_t* dead, pcap_dumper_t* dumper, int wake_fd,
                    std::string filter, size_t max_packets)
      : pcap_(pcap),
        dead_(dead),
        dumper_(dumper),
        wake_fd_(wake_fd),
        link_type_(pcap_datalink(pcap)),
        filter_(std::move(filter)),
        max_packets_(max_packets) {
    thread_ = std::thread([this] { Run(); });
  }

  ~LivePacketCapture() override { Stop(); }

  std::vector<CapturedPacket> Packets(int64_t from_ns, int64_t to_ns) const override {
    return Packets(from_ns, to_ns, [](const CapturedPacket&) { return true; });
  }

  std::vector<CapturedPacket> Packets(
      int64_t from_ns, int64_t to_ns,
      const std::function<bool(const CapturedPacket&)>& keep) const override {
    // Saturating: callers ask for everything with the int64 range's ends.
    const int64_t start =
        from_ns < INT64_MIN + kOrderMarginNs ? INT64_MIN : from_ns - kOrderMarginNs;
    const int64_t end = to_ns > INT64_MAX - kOrderMarginNs ? INT64_MAX : to_ns + kOrderMarginNs;
    std::lock_guard lock(mu_);
    std::vector<CapturedPacket> out;
    // The ring is in arrival order, which is time order but for packets of different
    // interfaces stamped a little apart: start a margin early, stop a margin late.
    const auto first = std::partition_point(ring_.begin(), ring_.end(),
                                            [&](const auto& p) { return p.time_ns < start; });
    for (auto it = first; it != ring_.end() && it->time_ns <= end; ++it) {
      if (it->time_ns >= from_ns && it->time_ns <= to_ns && keep(*it)) out.push_back(*it);
    }
    return out;
  }

  void Flush() override {
    std::unique_lock lock(mu_);
    if (reader_done_) return;
    const uint64_t ticket = ++flush_asked_;
    Wake();
    cv_.wait_for(lock, kFlushWait, [&] { return flush_done_ >= ticket || reader_done_; });
  }

  void Stop() override {
    std::call_once(stopped_, [this] {
      stop_ = true;
      Wake();
      if (thread_.joinable()) thread_.join();
      if (dumper_ != nullptr) pcap_dump_close(dumper_);
      if (dead_ != nullptr) pcap_close(dead_);
      pcap_close(pcap_);
      close(wake_fd_);
    });
  }

  const std::string& filter() const override { return filter_; }

  uint64_t dropped() const override {
    std::lock_guard lock(mu_);
    return kernel_drops_ + overflow_ + unparseable_;
  }

 private:
  void Wake() {
    const uint64_t one = 1;
    // A full counter already wakes the reader: nothing to do when the write fails.
    [[maybe_unused]] const ssize_t n = write(wake_fd_, &one, sizeof one);
  }

  static void OnFrame(u_char* self, const pcap_pkthdr* header, const u_char* bytes) {
    reinterpret_cast<LivePacketCapture*>(self)->Take(*header, bytes);
  }

  void Take(const pcap_pkthdr& header, const u_char* bytes) {
    if (dumper_ != nullptr) pcap_dump(reinterpret_cast<u_char*>(dumper_), &header, bytes);
    auto parsed = ParseFrame(link_type_, bytes, header.caplen, StampNs(header));
    std::lock_guard lock(mu_);
    if (!parsed.ok()) {
      ++unparseable_;
      return;
    }
    if (max_packets_ == 0) {
      ++overflow_;
      return;
    }
    if (ring_.size() >= max_packets_) {
      ring_.pop_front();
      ++overflow_;
    }
    ring_.push_back(std::move(parsed).value());
  }

  // The reader: sleeps in poll on the capture's descriptor and the wake counter, and
  // each time reads everything queued (non-blocking dispatch until it returns 0), then
  // answers the flushes asked before it started reading.
  void Run() {
    const int capture_fd = pcap_get_selectable_fd(pcap_);
    bool failed = false;
    while (!stop_ && !failed) {
      pollfd fds[2] = {{capture_fd, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
      poll(fds, capture_fd >= 0 ? 2 : 1, kPollMs);
      if (fds[1].revents & POLLIN) {
        uint64_t count;
        [[maybe_unused]] const ssize_t n = read(wake_fd_, &count, sizeof count);
      }
      uint64_t asked;
      {
        std::lock_guard lock(mu_);
        asked = flush_asked_;
      }
      for (;;) {
        const int n = pcap_dispatch(pcap_, -1, &OnFrame, reinterpret_cast<u_char*>(this));
        if (n < 0) failed = n != PCAP_ERROR_BREAK;
        if (n <= 0) break;
      }
      if (dumper_ != nullptr && asked != flush_done_) pcap_dump_flush(dumper_);
      pcap_stat stats{};
      const bool have_stats = pcap_stats(pcap_, &stats) == 0;
      std::lock_guard lock(mu_);
      if (have_stats) kernel_drops_ = stats.ps_drop;
      flush_done_ = asked;
      cv_.notify_all();
    }
    if (dumper_ != nullptr) pcap_dump_flush(dumper_);
    std::lock_guard lock(mu_);
    reader_done_ = true;
    cv_.notify_all();
  }

  pcap_t* const pcap_;
  pcap_t* const dead_;
  pcap_dumper_t* const dumper_;
  const int wake_fd_;
  const int link_type_;
  const std::string filter_;
  const size_t max_packets_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<CapturedPacket> ring_;
  uint64_t kernel_drops_ = 0;
  uint64_t overflow_ = 0;
  uint64_t unparseable_ = 0;
  uint64_t flush_asked_ = 0;
  uint64_t flush_done_ = 0;
  bool reader_done_ = false;

  std::atomic<bool> stop_{false};
  std::once_flag stopped_;
  std::thread thread_;
};

// Owns a pcap handle until Open hands it to the capture.
struct PcapCloser {
  void operator()(pcap_t* p) const { pcap_close(p); }
};
using PcapHandle = std::unique_ptr<pcap_t, PcapCloser>;

std::string PcapError(pcap_t* p, int status) {
  std::string text = pcap_geterr(p);
  return text.empty() ? pcap_statustostr(status) : text;
}

}  // namespace

std::string EvidenceFilter() {
  // IPv4: libpcap's tcp[] and icmp[] read the transport header after any IP options.
  // IPv6: the transport header at offset 40, i.e. no extension headers (BPF cannot
  // walk them); byte 53 is the TCP flags byte, ip6[6] the next header.
  // TCP segments only as they arrive: the evidence is the other side's (SYN-ACK, RST,
  // FIN); our own SYNs and FINs would double the packets to parse.
  return "(inbound and ip and tcp and tcp[tcpflags] & (tcp-syn|tcp-fin|tcp-rst) != 0)"
         " or (inbound and ip6 and ip6[6] == 6 and ip6[53] & 0x07 != 0)"
         " or (udp port 53)"
         " or (icmp and (icmp[icmptype] == icmp-unreach or icmp[icmptype] == icmp-timxceed))"
         " or (ip6 and ip6[6] == 58 and (ip6[40] == 1 or ip6[40] == 3))";
}

Result<std::unique_ptr<PacketCapture>> PacketCapture::Open(const CaptureOptions& options) {
  char errbuf[PCAP_ERRBUF_SIZE] = "";
  const std::string where = "capture on " + options.device + ": ";
  PcapHandle pcap(pcap_create(options.device.c_str(), errbuf));
  if (!pcap) return Error{where + errbuf};
  pcap_set_snaplen(pcap.get(), options.snaplen);
  pcap_set_immediate_mode(pcap.get(), 1);
  pcap_set_buffer_size(pcap.get(), kBufferBytes);
  if (const int s = pcap_set_tstamp_precision(pcap.get(), PCAP_TSTAMP_PRECISION_NANO); s != 0) {
    return Error{where + "no nanosecond time stamps: " + pcap_statustostr(s)};
  }
  if (const int s = pcap_activate(pcap.get()); s < 0) {
    if (s == PCAP_ERROR_PERM_DENIED || s == PCAP_ERROR_PROMISC_PERM_DENIED) {
      return Error{"capture needs CAP_NET_RAW (run as root or setcap cap_net_raw+ep on vigil): " +
                   PcapError(pcap.get(), s)};
    }
    return Error{where + PcapError(pcap.get(), s)};
  }
  const int link_type = pcap_datalink(pcap.get());
  if (!LinkTypeRead(link_type)) {
    return Error{where + "link type " + std::to_string(link_type) + " is not one vigil reads"};
  }
  const std::string filter = EvidenceFilter();
  bpf_program program{};
  if (pcap_compile(pcap.get(), &program, filter.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0) {
    return Error{where + "filter: " + pcap_geterr(pcap.get())};
  }
  const int set = pcap_setfilter(pcap.get(), &program);
  pcap_freecode(&program);
  if (set != 0) return Error{where + "filter: " + pcap_geterr(pcap.get())};
  if (pcap_setnonblock(pcap.get(), 1, errbuf) != 0) return Error{where + errbuf};

  PcapHandle dead;
  pcap_dumper_t* dumper = nullptr;
  if (!options.pcap_file.empty()) {
    dead.reset(pcap_open_dead_with_tstamp_precision(link_type, options.snaplen,
                                                    PCAP_TSTAMP_PRECISION_NANO));
    if (!dead) return Error{options.pcap_file + ": cannot make a pcap writer"};
    dumper = pcap_dump_open(dead.get(), options.pcap_file.c_str());
    if (dumper == nullptr) return Error{options.pcap_file + ": " + pcap_geterr(dead.get())};
  }
  const int wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd < 0) {
    if (dumper != nullptr) pcap_dump_close(dumper);
    return Error{where + "eventfd failed"};
  }
  return std::unique_ptr<PacketCapture>(new LivePacketCapture(
      pcap.release(), dead.release(), dumper, wake_fd, filter, options.max_packets));
}

Result<std::vector<CapturedPacket>> ReadPcapFile(const std::string& path) {
  char errbuf[PCAP_ERRBUF_SIZE] = "";
  PcapHandle pcap(
      pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_NANO, errbuf));
  if (!pcap) return Error{path + ": " + errbuf};
  const int link_type = pcap_datalink(pcap.get());
  std::vector<CapturedPacket> packets;
  for (size_t number = 1;; ++number) {
    pcap_pkthdr* header = nullptr;
    const u_char* bytes = nullptr;
    const int s = pcap_next_ex(pcap.get(), &header, &bytes);
    if (s == PCAP_ERROR_BREAK) break;  // the end of the file
    if (s != 1) {
      return Error{path + ": frame " + std::to_string(number) + ": " + pcap_geterr(pcap.get())};
    }
    auto parsed = ParseFrame(link_type, bytes, header->caplen, StampNs(*header));
    if (!parsed.ok()) {
      return Error{path + ": frame " + std::to_string(number) + ": " + parsed.error()};
    }
    packets.push_back(std::move(parsed).value());
  }
  return packets;
}

}  // namespace vigil
