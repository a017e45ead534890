// The delivery experiment's judgement, apart from any network: what became of each
// message (delivered, dropped, altered, reset_on_send, timeout, not_sent) from what the
// sending and the receiving end saw, and what each keyword's attempts say — a test
// message framed by a benign control before and after it — delivered, blocked,
// stateful (the test broke the channel for a while: residual blocking, not a dropped
// keyword) or inconclusive, with which components of a combination trigger it.
// Plain values and pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "probe/measurement/measurement.h"

namespace vigil {

enum class MessageRole { kControlBefore, kTest, kControlAfter, kRecheck };
/// "control_before", "test", "control_after", "recheck".
std::string_view MessageRoleName(MessageRole role);

enum class MessageStatus {
  kPending,
  kDelivered,
  kDropped,
  kAltered,
  kResetOnSend,
  kTimeout,
  kNotSent
};
/// "pending", "delivered", "dropped", "altered", "reset_on_send", "timeout", "not_sent".
std::string_view MessageStatusName(MessageStatus status);

/// One message of a run, as sent and as seen.
struct DeliveryMessage {
  int index = 0;
  std::string nonce;  // 16 hex digits, unique in the run
  MessageRole role = MessageRole::kTest;
  std::string subject;  // the keyword row under test ("zh-0003"; a component: "zh-0003/1")
  std::string entry;    // the row whose text it carries: a test id or its control's id
  int round = 1;        // 1 first pass, 2 confirmation, 3 a combination's components
  std::string text;     // as sent (ComposeMessage)
  std::string sha256;   // of text
  // The sending end.
  bool sent = false;  // Send was called
  double t0 = 0, t = 0;
  std::optional<std::string> send_failure;
  bool failed_on_send = false;  // the failure came after the message was written
  // The receiving end.
  std::optional<double> received_t;
  std::string received_sha256;
  /// The receiving end failed while this message was awaited and it never arrived.
  std::optional<std::string> receive_failure;
  /// Set by JudgeMessage once nothing more can change it.
  MessageStatus status = MessageStatus::kPending;
};

/// The body sent for `text`: "vigil <nonce> <text>", so that what arrives is matched to
/// what was sent whatever the transport does to the order.
std::string ComposeMessage(std::string_view nonce, std::string_view text);

/// The nonce of a body composed by ComposeMessage (or "" when it is not one), read even
/// when the text after it was altered.
std::string NonceOf(std::string_view body);

/// What became of a message that is no longer awaited:
///  delivered      it arrived byte for byte;
///  altered        it arrived (its nonce did) with other bytes;
///  reset_on_send  the sending connection was reset after it was written;
///  dropped        it left the sender intact (written; no reset; at most the protocol's
///                 acknowledgement never came) while the receiving end worked, and never
///                 arrived;
///  timeout        its fate is unknown: the sending end could not deliver it to the
///                 network (refused, timed out connecting, ...) or the receiving end
///                 failed while it was awaited;
///  not_sent       Send was never called.
MessageStatus JudgeMessage(const DeliveryMessage& m);

/// Whether a message reached the other end intact.
inline bool Delivered(const DeliveryMessage& m) { return m.status == MessageStatus::kDelivered; }

enum class KeywordVerdict { kDelivered, kBlocked, kStateful, kInconclusive };
/// "delivered", "blocked", "stateful", "inconclusive".
std::string_view KeywordVerdictName(KeywordVerdict verdict);

/// One test message framed by its controls. `rechecks` are the controls sent after the
/// frame failed, until one got through or the wait ended (the residual block's length).
struct Attempt {
  int round = 1;
  int before = -1, test = -1, after = -1;  // message indexes; -1: not sent
  std::vector<int> rechecks;
  /// Seconds from the test's send to the first recheck delivered; nullopt: none was.
  std::optional<double> recovered_after;
};

struct AttemptResult {
  KeywordVerdict verdict = KeywordVerdict::kInconclusive;
  /// keyword_drop, keyword_rst, keyword_alter or keyword_stall for blocked and stateful;
  /// empty otherwise.
  std::string technique;
  std::string reason;  // one line: why
};

/// The verdict of one attempt over `messages` (indexed by DeliveryMessage::index):
///  the control before not delivered                   → inconclusive (no channel);
///  the test delivered                                  → delivered;
///  the test lost, the control after delivered          → blocked;
///  the test lost, the control after lost, a later recheck delivered → stateful;
///  the test lost and nothing got through afterwards    → inconclusive (a broken endpoint
///                                                        looks the same);
///  the test lost before its content went out (refused or timed out connecting) or
///  while the receiving end was failing                → inconclusive.
/// "Lost" is dropped, reset_on_send, altered, or a timeout after it was written.
AttemptResult JudgeAttempt(const Attempt& attempt, const std::vector<DeliveryMessage>& messages);

/// The technique a lost test message names: dropped → keyword_drop, reset_on_send →
/// keyword_rst, altered → keyword_alter, timeout → keyword_stall.
std::string TechniqueOf(MessageStatus lost);

/// A keyword's verdict over its attempts in order (the first pass, then a confirmation
/// of a loss): blocked or stateful only when every attempt lost the test message
/// (stateful when any attempt was); delivered only when the first was delivered;
/// otherwise inconclusive.
AttemptResult CombineAttempts(const std::vector<AttemptResult>& attempts);

/// Which components trigger a combination that was lost, from each component's verdict
/// alone: "combination" when every component alone was delivered, "components" when
/// some were lost alone (those are named), "inconclusive" otherwise.
struct TriggerResult {
  std::string trigger;
  std::vector<std::string> components;
};
TriggerResult JudgeTrigger(const std::vector<std::string>& components,
                           const std::vector<KeywordVerdict>& alone);

}  // namespace vigil
