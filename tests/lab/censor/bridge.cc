#include "tests/lab/censor/bridge.h"

#include <net/if.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

namespace vigil::lab {
namespace {

// 64 KiB of IP packet plus the Ethernet and VLAN headers: the largest GSO
// super-segment a veth hands over must arrive whole to be cut up and forwarded.
constexpr int kSnapLen = 65535 + 18;

size_t InterfaceMtu(const std::string& name) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) return 1500;
  ifreq ifr{};
  std::snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name.c_str());
  size_t mtu = 1500;
  if (ioctl(fd, SIOCGIFMTU, &ifr) == 0 && ifr.ifr_mtu >= 576)
    mtu = static_cast<size_t>(ifr.ifr_mtu);
  close(fd);
  return mtu;
}

pcap_t* OpenCapture(const std::string& name, std::string* error) {
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  pcap_t* p = pcap_create(name.c_str(), errbuf);
  if (p == nullptr) {
    *error = name + ": " + errbuf;
    return nullptr;
  }
  pcap_set_snaplen(p, kSnapLen);
  pcap_set_promisc(p, 1);
  pcap_set_immediate_mode(p, 1);
  pcap_set_buffer_size(p, 8 * 1024 * 1024);
  int rc = pcap_activate(p);
  if (rc < 0) {
    *error = name + ": " + pcap_geterr(p);
    pcap_close(p);
    return nullptr;
  }
  // Without this the censor would capture its own injected frames and forward them
  // back, looping every frame between the two interfaces.
  if (pcap_setdirection(p, PCAP_D_IN) != 0 || pcap_setnonblock(p, 1, errbuf) != 0 ||
      pcap_get_selectable_fd(p) < 0) {
    *error = name + ": cannot capture inbound frames without blocking: " + pcap_geterr(p);
    pcap_close(p);
    return nullptr;
  }
  return p;
}

}  // namespace

Clock Now() {
  timespec mono{}, wall{};
  clock_gettime(CLOCK_MONOTONIC, &mono);
  clock_gettime(CLOCK_REALTIME, &wall);
  return {mono.tv_sec * 1'000'000'000LL + mono.tv_nsec,
          static_cast<double>(wall.tv_sec) + static_cast<double>(wall.tv_nsec) / 1e9};
}

std::unique_ptr<Bridge> Bridge::Open(const std::string& in, const std::string& out,
                                     std::string* error) {
  std::unique_ptr<Bridge> b(new Bridge());
  b->name_[0] = in;
  b->name_[1] = out;
  for (int i = 0; i < 2; ++i) {
    b->pcap_[i] = OpenCapture(b->name_[i], error);
    if (b->pcap_[i] == nullptr) return nullptr;
    b->mtu_[i] = InterfaceMtu(b->name_[i]);
  }
  return b;
}

Bridge::~Bridge() {
  for (pcap_t* p : pcap_) {
    if (p != nullptr) pcap_close(p);
  }
  std::fprintf(stderr,
               "lab_censor: %llu frames received, %llu sent, %llu send errors, %llu truncated, "
               "%llu dropped on a full queue\n",
               static_cast<unsigned long long>(received_), static_cast<unsigned long long>(sent_),
               static_cast<unsigned long long>(send_errors_),
               static_cast<unsigned long long>(truncated_),
               static_cast<unsigned long long>(queue_full_));
}

void Bridge::OnPacket(u_char* user, const pcap_pkthdr* h, const u_char* bytes) {
  auto* self = reinterpret_cast<Bridge*>(user);
  ++self->received_;
  if (h->caplen < h->len) {
    ++self->truncated_;
    return;
  }
  self->censor_->OnFrame(self->capturing_, std::span<const uint8_t>(bytes, h->caplen), Now(),
                         &self->pending_);
}

void Bridge::Send(const Outgoing& o) {
  pcap_t* p = pcap_[static_cast<int>(o.to)];
  if (pcap_inject(p, o.frame.data(), o.frame.size()) < 0) {
    // Report the first few only: a persistent error would flood the log.
    if (++send_errors_ <= 10) {
      std::fprintf(stderr, "lab_censor: send on %s (%zu bytes): %s\n",
                   name_[static_cast<int>(o.to)].c_str(), o.frame.size(), pcap_geterr(p));
    }
    return;
  }
  ++sent_;
}

int Bridge::Run(Censor* censor, volatile std::sig_atomic_t* stop) {
  censor_ = censor;
  censor->SetMtu(Side::kClient, mtu_[0]);
  censor->SetMtu(Side::kServer, mtu_[1]);
  censor->Start(Now());
  sigset_t block, during_poll;
  sigemptyset(&block);
  sigaddset(&block, SIGTERM);
  sigaddset(&block, SIGINT);
  sigprocmask(SIG_BLOCK, &block, &during_poll);
  sigdelset(&during_poll, SIGTERM);
  sigdelset(&during_poll, SIGINT);
  pollfd fds[2];
  for (int i = 0; i < 2; ++i) fds[i] = {pcap_get_selectable_fd(pcap_[i]), POLLIN, 0};
  while (!*stop) {
    Clock now = Now();
    int64_t next = std::min(censor->Tick(now), scheduler_.NextDue());
    next = std::min(next, now.mono_ns + 1'000'000'000);  // flow expiry runs from Tick
    int64_t wait = std::max<int64_t>(0, next - now.mono_ns);
    timespec ts{wait / 1'000'000'000, wait % 1'000'000'000};
    int rc = ppoll(fds, 2, &ts, &during_poll);
    if (rc < 0 && errno != EINTR) {
      std::perror("lab_censor: ppoll");
      return 1;
    }
    for (int i = 0; i < 2 && rc > 0; ++i) {
      if ((fds[i].revents & (POLLERR | POLLHUP | POLLNVAL)) != 0) {
        std::fprintf(stderr, "lab_censor: %s went away\n", name_[i].c_str());
        return 1;
      }
      if ((fds[i].revents & POLLIN) == 0) continue;
      capturing_ = static_cast<Side>(i);
      if (pcap_dispatch(pcap_[i], 256, &Bridge::OnPacket, reinterpret_cast<u_char*>(this)) < 0) {
        std::fprintf(stderr, "lab_censor: capture on %s: %s\n", name_[i].c_str(),
                     pcap_geterr(pcap_[i]));
        return 1;
      }
    }
    // Due queued frames first: a new frame of a delayed flow is never due before the
    // frames the flow already has in the queue (Censor::Departure), so this keeps order.
    int64_t t = Now().mono_ns;
    for (const auto& o : scheduler_.PopDue(t)) Send(o);
    for (auto& o : pending_) {
      if (o.at_ns <= t) {
        Send(o);
      } else if (!scheduler_.Push(std::move(o))) {
        ++queue_full_;
      }
    }
    pending_.clear();
  }
  // How the capture kept up: drops here are loss inside the lab, not the censor's
  // doing, and explain retransmissions a benchmark sees.
  for (int i = 0; i < 2; ++i) {
    pcap_stat st{};
    if (pcap_stats(pcap_[i], &st) == 0) {
      std::fprintf(stderr, "lab_censor: %s: %u frames received, %u dropped by the kernel\n",
                   name_[i].c_str(), st.ps_recv, st.ps_drop);
    }
  }
  if (queue_full_ > 0) {
    std::fprintf(stderr, "lab_censor: %zu frames dropped: delay queue full\n",
                 static_cast<size_t>(queue_full_));
  }
  return 0;
}

}  // namespace vigil::lab
