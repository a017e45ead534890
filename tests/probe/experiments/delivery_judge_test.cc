// The delivery experiment's judgement without a network: messages, attempts, keywords
// and which components trigger a combination.
#include "probe/experiments/delivery/delivery_judge.h"

#include <gtest/gtest.h>

#include "probe/experiments/common/content_hash.h"

namespace vigil {
namespace {

// A message sent and (when `arrived`) received intact.
DeliveryMessage Sent(int index, bool arrived) {
  DeliveryMessage m;
  m.index = index;
  m.nonce = "00000000000000" + std::to_string(10 + index);
  m.text = ComposeMessage(m.nonce, "text " + std::to_string(index));
  m.sha256 = Sha256Hex(m.text);
  m.sent = true;
  m.t0 = index;
  m.t = index + 0.1;
  if (arrived) {
    m.received_t = index + 0.5;
    m.received_sha256 = m.sha256;
  }
  m.status = JudgeMessage(m);
  return m;
}

// before, test, after: indexes 0, 1, 2.
std::vector<DeliveryMessage> Frame(bool before, bool test, bool after) {
  return {Sent(0, before), Sent(1, test), Sent(2, after)};
}

Attempt FrameAttempt() {
  Attempt a;
  a.before = 0;
  a.test = 1;
  a.after = 2;
  return a;
}

TEST(DeliveryMessageTest, ComposedBodiesCarryTheirNonceEvenWhenTheTextIsAltered) {
  const std::string body = ComposeMessage("0123456789abcdef", "六四 tiananmen");
  EXPECT_EQ(body, "vigil 0123456789abcdef 六四 tiananmen");
  EXPECT_EQ(NonceOf(body), "0123456789abcdef");
  EXPECT_EQ(NonceOf("vigil 0123456789abcdef ***"), "0123456789abcdef");
  EXPECT_EQ(NonceOf("vigil 0123456789ABCDEF x"), "");
  EXPECT_EQ(NonceOf("vigil 0123"), "");
  EXPECT_EQ(NonceOf("hello 0123456789abcdef x"), "");
}

TEST(DeliveryMessageTest, EachFateHasItsStatus) {
  EXPECT_EQ(Sent(0, true).status, MessageStatus::kDelivered);
  EXPECT_EQ(Sent(0, false).status, MessageStatus::kDropped);

  DeliveryMessage altered = Sent(0, true);
  altered.received_sha256 = Sha256Hex("something else");
  EXPECT_EQ(JudgeMessage(altered), MessageStatus::kAltered);

  DeliveryMessage reset = Sent(0, false);
  reset.send_failure = "connection_reset";
  reset.failed_on_send = true;
  EXPECT_EQ(JudgeMessage(reset), MessageStatus::kResetOnSend);

  // Written, then no acknowledgement: it left intact and vanished.
  DeliveryMessage unacknowledged = Sent(0, false);
  unacknowledged.send_failure = "generic_timeout_error";
  unacknowledged.failed_on_send = true;
  EXPECT_EQ(JudgeMessage(unacknowledged), MessageStatus::kDropped);

  // Never reached the network, or the receiving end was broken: nothing is known.
  DeliveryMessage refused = Sent(0, false);
  refused.send_failure = "connection_refused";
  EXPECT_EQ(JudgeMessage(refused), MessageStatus::kTimeout);
  DeliveryMessage deaf = Sent(0, false);
  deaf.receive_failure = "connection_refused";
  EXPECT_EQ(JudgeMessage(deaf), MessageStatus::kTimeout);

  DeliveryMessage never;
  EXPECT_EQ(JudgeMessage(never), MessageStatus::kNotSent);
}

TEST(DeliveryAttemptTest, ATestLostBetweenTwoDeliveredControlsIsBlocked) {
  const auto messages = Frame(true, false, true);
  const AttemptResult r = JudgeAttempt(FrameAttempt(), messages);
  EXPECT_EQ(r.verdict, KeywordVerdict::kBlocked);
  EXPECT_EQ(r.technique, "keyword_drop");
}

TEST(DeliveryAttemptTest, AResetOnSendNamesKeywordRst) {
  auto messages = Frame(true, false, true);
  messages[1].send_failure = "connection_reset";
  messages[1].failed_on_send = true;
  messages[1].status = JudgeMessage(messages[1]);
  EXPECT_EQ(JudgeAttempt(FrameAttempt(), messages).technique, "keyword_rst");
}

TEST(DeliveryAttemptTest, NothingIsClaimedWithoutAWorkingControlBefore) {
  EXPECT_EQ(JudgeAttempt(FrameAttempt(), Frame(false, false, true)).verdict,
            KeywordVerdict::kInconclusive);
  EXPECT_EQ(JudgeAttempt(FrameAttempt(), Frame(true, true, true)).verdict,
            KeywordVerdict::kDelivered);
}

TEST(DeliveryAttemptTest,
     AChannelThatComesBackAfterTheTestIsStatefulAndOneThatDoesNotIsNotBlocked) {
  auto messages = Frame(true, false, false);
  Attempt a = FrameAttempt();
  EXPECT_EQ(JudgeAttempt(a, messages).verdict, KeywordVerdict::kInconclusive);
  a.recovered_after = 21.5;
  const AttemptResult r = JudgeAttempt(a, messages);
  EXPECT_EQ(r.verdict, KeywordVerdict::kStateful);
  EXPECT_NE(r.reason.find("21.5"), std::string::npos) << r.reason;
}

TEST(DeliveryAttemptTest, ATestThatNeverReachedTheNetworkSaysNothingAboutItsWords) {
  auto messages = Frame(true, false, true);
  messages[1].send_failure = "connection_refused";  // before anything was written
  messages[1].status = JudgeMessage(messages[1]);
  EXPECT_EQ(JudgeAttempt(FrameAttempt(), messages).verdict, KeywordVerdict::kInconclusive);
}

TEST(DeliveryKeywordTest, ALossMustRepeatToCount) {
  const AttemptResult blocked{KeywordVerdict::kBlocked, "keyword_drop", "lost"};
  const AttemptResult stateful{KeywordVerdict::kStateful, "keyword_rst", "broke"};
  const AttemptResult delivered{KeywordVerdict::kDelivered, "", "delivered"};
  EXPECT_EQ(CombineAttempts({blocked, blocked}).verdict, KeywordVerdict::kBlocked);
  EXPECT_EQ(CombineAttempts({blocked, delivered}).verdict, KeywordVerdict::kInconclusive);
  EXPECT_EQ(CombineAttempts({blocked, stateful}).verdict, KeywordVerdict::kStateful);
  EXPECT_EQ(CombineAttempts({blocked, stateful}).technique, "keyword_rst");
  EXPECT_EQ(CombineAttempts({delivered}).verdict, KeywordVerdict::kDelivered);
  EXPECT_EQ(CombineAttempts({}).verdict, KeywordVerdict::kInconclusive);
}

TEST(DeliveryKeywordTest, SplittingACombinationNamesWhatTriggersIt) {
  const std::vector<std::string> parts = {"习近平", "退位"};
  using V = KeywordVerdict;
  TriggerResult both = JudgeTrigger(parts, {V::kDelivered, V::kDelivered});
  EXPECT_EQ(both.trigger, "combination");
  EXPECT_TRUE(both.components.empty());
  TriggerResult one = JudgeTrigger(parts, {V::kDelivered, V::kBlocked});
  EXPECT_EQ(one.trigger, "components");
  EXPECT_EQ(one.components, std::vector<std::string>{"退位"});
  EXPECT_EQ(JudgeTrigger(parts, {V::kDelivered, V::kInconclusive}).trigger, "inconclusive");
  EXPECT_EQ(JudgeTrigger(parts, {V::kDelivered}).trigger, "inconclusive");
}

}  // namespace
}  // namespace vigil
