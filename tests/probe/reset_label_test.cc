// Who sent a flow's resets, from the fingerprints of "A Wall Behind A Wall" (S&P 2025):
// each injector type recognised, a server's own reset never called injected, and no
// claim without a SYN-ACK to compare with or a known mark.
#include "probe/capture/reset_label.h"

#include <gtest/gtest.h>

namespace vigil {
namespace {

constexpr uint8_t kRst = 0x04;
constexpr uint8_t kRstAck = 0x14;

SegmentFacts Segment(uint8_t flags, uint8_t ttl, uint16_t ip_id, bool df,
                     std::vector<uint8_t> payload = {}) {
  SegmentFacts s;
  s.tcp_flags = flags;
  s.ip_ttl = ttl;
  s.ip_id = ip_id;
  s.df = df;
  s.payload = std::move(payload);
  return s;
}

ResetFlow Flow(std::vector<SegmentFacts> resets, std::optional<uint8_t> syn_ack_ttl = 52) {
  ResetFlow f;
  if (syn_ack_ttl) f.syn_ack = Segment(0x12, *syn_ack_ttl, 0, true);
  f.resets = std::move(resets);
  return f;
}

TEST(ResetLabelTest, EachInjectorTypeIsRecognisedByItsFingerprint) {
  EXPECT_EQ(LabelResets(Flow({Segment(kRst, 97, 0, false)})).source, ResetSource::kGfwType1);
  // Its TTL less the hops from the injector to the client; not any TTL at all.
  EXPECT_EQ(LabelResets(Flow({Segment(kRst, 40, 0, false)})).source, ResetSource::kGfwType1);
  EXPECT_EQ(LabelResets(Flow({Segment(kRst, 12, 0, false)})).source, ResetSource::kUnknownInjected);
  EXPECT_EQ(LabelResets(Flow({Segment(kRstAck, 140, 4711, true), Segment(kRstAck, 140, 903, true),
                              Segment(kRstAck, 140, 28001, true)}))
                .source,
            ResetSource::kGfwType2);
  EXPECT_EQ(LabelResets(Flow({Segment(kRstAck, 246, 0x9920, false)})).source,
            ResetSource::kGfwType3);
  EXPECT_EQ(
      LabelResets(Flow({Segment(kRstAck, 60, 1, false, {1, 2, 3, 4, 5, 6, 7, 8, 9, 0})})).source,
      ResetSource::kHenan);
}

TEST(ResetLabelTest, AServersOwnResetIsNeverCalledInjected) {
  // Its TTL is the SYN-ACK's (or a hop off), whatever its other fields look like: a
  // Linux server's reset can have DF 0 and IP ID 0 as type I's has.
  for (uint8_t ttl : {51, 52, 53}) {
    const ResetLabel l = LabelResets(Flow({Segment(kRst, ttl, 0, false)}, 52));
    EXPECT_EQ(l.source, ResetSource::kServer) << int(ttl) << ": " << l.reason;
    EXPECT_FALSE(IsInjected(l.source));
  }
  EXPECT_EQ(LabelResets(Flow({Segment(kRstAck, 64, 7, true), Segment(kRstAck, 64, 8, true),
                              Segment(kRstAck, 64, 9, true)},
                             64))
                .source,
            ResetSource::kServer);
}

TEST(ResetLabelTest, MarksNoServerMakesHoldWhateverTheTtl) {
  EXPECT_EQ(LabelResets(Flow({Segment(kRstAck, 52, 1, false, {1, 2, 3, 4, 5, 6, 7, 8, 9, 0})}, 52))
                .source,
            ResetSource::kHenan);
  EXPECT_EQ(LabelResets(Flow({Segment(kRstAck, 248, 0x9916, false)}, 248)).source,
            ResetSource::kGfwType3);
}

TEST(ResetLabelTest, AnUnknownTtlIsAnUnknownInjectorAndWithoutASynAckNothingIsClaimed) {
  const ResetLabel unknown = LabelResets(Flow({Segment(kRstAck, 200, 31337, true)}, 52));
  EXPECT_EQ(unknown.source, ResetSource::kUnknownInjected);
  EXPECT_NE(unknown.reason.find("200"), std::string::npos) << unknown.reason;
  EXPECT_EQ(LabelResets(Flow({Segment(kRstAck, 200, 31337, true)}, std::nullopt)).source,
            ResetSource::kUndetermined);
  EXPECT_FALSE(IsInjected(ResetSource::kUndetermined));
  // Almost a fingerprint is not one: type I sends no ACK; Henan's payload is exact.
  EXPECT_EQ(LabelResets(Flow({Segment(kRstAck, 97, 0, false)}, std::nullopt)).source,
            ResetSource::kUndetermined);
  EXPECT_EQ(LabelResets(Flow({Segment(kRstAck, 60, 1, false, {1, 2, 3, 4, 5, 6, 7, 8, 9, 9})},
                             std::nullopt))
                .source,
            ResetSource::kUndetermined);
}

TEST(ResetLabelTest, NoResetIsNone) {
  EXPECT_EQ(LabelResets(Flow({})).source, ResetSource::kNone);
  EXPECT_EQ(ResetSourceName(ResetSource::kGfwType2), "gfw_type2");
  EXPECT_EQ(ResetSourceName(ResetSource::kUnknownInjected), "unknown_injected");
}

}  // namespace
}  // namespace vigil
