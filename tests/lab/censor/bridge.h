// Bridge: the censor's packet I/O. Captures every frame arriving on the `in` and
// `out` interfaces with libpcap, hands it to the Censor, and injects what it returns,
// holding delayed frames in a FrameScheduler. One thread, poll()-driven, no busy wait.
// Not thread-safe.
#pragma once

#include <pcap/pcap.h>

#include <csignal>
#include <memory>
#include <string>

#include "tests/lab/censor/censor.h"
#include "tests/lab/censor/frame_scheduler.h"

namespace vigil::lab {

class Bridge {
 public:
  /// Opens both interfaces (promiscuous, immediate, inbound only); nullptr and a
  /// message in `*error` on failure.
  static std::unique_ptr<Bridge> Open(const std::string& in, const std::string& out,
                                      std::string* error);
  ~Bridge();
  Bridge(const Bridge&) = delete;
  Bridge& operator=(const Bridge&) = delete;

  /// The MTU of each side's interface.
  size_t mtu(Side side) const { return mtu_[static_cast<int>(side)]; }

  /// Bridges frames through `censor` until `*stop` is set (by a SIGTERM/SIGINT
  /// handler; both signals are blocked except while waiting). Returns 0, or 1 on an
  /// I/O error.
  int Run(Censor* censor, volatile std::sig_atomic_t* stop);

 private:
  Bridge() = default;
  void Send(const Outgoing& o);
  static void OnPacket(u_char* user, const pcap_pkthdr* h, const u_char* bytes);

  pcap_t* pcap_[2] = {nullptr, nullptr};
  std::string name_[2];
  size_t mtu_[2] = {1500, 1500};
  FrameScheduler scheduler_{64 * 1024 * 1024};
  Censor* censor_ = nullptr;
  Side capturing_ = Side::kClient;
  std::vector<Outgoing> pending_;
  uint64_t received_ = 0, sent_ = 0, send_errors_ = 0, truncated_ = 0, queue_full_ = 0;
};

/// Monotonic and wall-clock time now.
Clock Now();

}  // namespace vigil::lab
