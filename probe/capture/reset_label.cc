#include "probe/capture/reset_label.h"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <set>

namespace vigil {

namespace {

constexpr uint8_t kRst = 0x04;
constexpr uint8_t kAck = 0x10;
constexpr std::array<uint8_t, 10> kHenanPayload = {1, 2, 3, 4, 5, 6, 7, 8, 9, 0};

bool IsRstAck(const SegmentFacts& s) { return (s.tcp_flags & (kRst | kAck)) == (kRst | kAck); }

bool HenanMark(const SegmentFacts& s) {
  return IsRstAck(s) && s.ip_id == 1 && s.payload.size() >= kHenanPayload.size() &&
         std::equal(kHenanPayload.begin(), kHenanPayload.end(), s.payload.begin());
}

bool Type3Mark(const SegmentFacts& s) {
  return IsRstAck(s) && s.ip_id >= 0x9916 && s.ip_id <= 0x9933 && s.ip_ttl >= 200;
}

// The injector sets a TTL of 55-118; the client sees it less the hops between them,
// which are fewer than kMaxHopsFromInjector.
constexpr int kMaxHopsFromInjector = 30;

bool Type1Mark(const SegmentFacts& s) {
  return (s.tcp_flags & (kRst | kAck)) == kRst && !s.df && s.ip_id == 0 &&
         s.ip_ttl >= 55 - kMaxHopsFromInjector && s.ip_ttl <= 118;
}

bool Type2Marks(const std::vector<SegmentFacts>& resets) {
  if (resets.size() < 3) return false;
  std::set<uint16_t> ids;
  for (const auto& r : resets) {
    if (!IsRstAck(r) || !r.df) return false;
    ids.insert(r.ip_id);
  }
  return ids.size() > 1;
}

}  // namespace

std::string_view ResetSourceName(ResetSource source) {
  switch (source) {
    case ResetSource::kNone:
      return "none";
    case ResetSource::kServer:
      return "server";
    case ResetSource::kGfwType1:
      return "gfw_type1";
    case ResetSource::kGfwType2:
      return "gfw_type2";
    case ResetSource::kGfwType3:
      return "gfw_type3";
    case ResetSource::kHenan:
      return "henan";
    case ResetSource::kUnknownInjected:
      return "unknown_injected";
    case ResetSource::kUndetermined:
      return "undetermined";
  }
  return "undetermined";
}

bool IsInjected(ResetSource source) {
  return source == ResetSource::kGfwType1 || source == ResetSource::kGfwType2 ||
         source == ResetSource::kGfwType3 || source == ResetSource::kHenan ||
         source == ResetSource::kUnknownInjected;
}

ResetLabel LabelResets(const ResetFlow& flow) {
  const auto& resets = flow.resets;
  if (resets.empty()) return {ResetSource::kNone, "no reset"};
  // Marks no server stack makes come first: they hold whatever the TTL says.
  if (std::any_of(resets.begin(), resets.end(), HenanMark)) {
    return {ResetSource::kHenan, "RST+ACK with IP ID 1 carrying 01 02 .. 09 00"};
  }
  if (std::any_of(resets.begin(), resets.end(), Type3Mark)) {
    return {ResetSource::kGfwType3, "RST+ACK with IP ID in 0x9916-0x9933 and TTL >= 200"};
  }
  if (flow.syn_ack) {
    const int expected = flow.syn_ack->ip_ttl;
    const bool all_server_like = std::all_of(resets.begin(), resets.end(), [&](const auto& r) {
      return std::abs(static_cast<int>(r.ip_ttl) - expected) <= 1;
    });
    if (all_server_like) {
      return {ResetSource::kServer, "TTL " + std::to_string(resets.front().ip_ttl) +
                                        " as the SYN-ACK's (" + std::to_string(expected) + ")"};
    }
  }
  if (Type2Marks(resets)) {
    return {ResetSource::kGfwType2,
            std::to_string(resets.size()) + " RST+ACK with DF and varying IP IDs"};
  }
  if (resets.size() == 1 && Type1Mark(resets.front())) {
    return {ResetSource::kGfwType1,
            "one RST, DF 0, IP ID 0, TTL " + std::to_string(resets.front().ip_ttl)};
  }
  if (flow.syn_ack) {
    return {ResetSource::kUnknownInjected,
            "TTL " + std::to_string(resets.front().ip_ttl) + " unlike the SYN-ACK's " +
                std::to_string(flow.syn_ack->ip_ttl) + ", no known fingerprint"};
  }
  return {ResetSource::kUndetermined, "no SYN-ACK to compare with and no known fingerprint"};
}

}  // namespace vigil
