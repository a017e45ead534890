#include "probe/experiments/delivery/delivery_judge.h"

#include <cstdio>

#include "probe/net/failure.h"

namespace vigil {

namespace {

constexpr std::string_view kPrefix = "vigil ";
constexpr size_t kNonceDigits = 16;

bool IsHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// Lost in a way its content can have provoked: once the message had been written on a
// working connection. A connection that failed before the message went out (refused,
// timed out connecting) or a receiving end that failed says nothing about the content.
bool LostByContent(const DeliveryMessage& m) {
  switch (m.status) {
    case MessageStatus::kDropped:
    case MessageStatus::kResetOnSend:
    case MessageStatus::kAltered:
      return true;
    case MessageStatus::kTimeout:
      return m.failed_on_send && !m.receive_failure;
    default:
      return false;
  }
}

const DeliveryMessage* At(const std::vector<DeliveryMessage>& messages, int index) {
  if (index < 0 || static_cast<size_t>(index) >= messages.size()) return nullptr;
  return &messages[static_cast<size_t>(index)];
}

}  // namespace

std::string_view MessageRoleName(MessageRole role) {
  switch (role) {
    case MessageRole::kControlBefore:
      return "control_before";
    case MessageRole::kTest:
      return "test";
    case MessageRole::kControlAfter:
      return "control_after";
    case MessageRole::kRecheck:
      return "recheck";
  }
  return "test";
}

std::string_view MessageStatusName(MessageStatus status) {
  switch (status) {
    case MessageStatus::kPending:
      return "pending";
    case MessageStatus::kDelivered:
      return "delivered";
    case MessageStatus::kDropped:
      return "dropped";
    case MessageStatus::kAltered:
      return "altered";
    case MessageStatus::kResetOnSend:
      return "reset_on_send";
    case MessageStatus::kTimeout:
      return "timeout";
    case MessageStatus::kNotSent:
      return "not_sent";
  }
  return "pending";
}

std::string_view KeywordVerdictName(KeywordVerdict verdict) {
  switch (verdict) {
    case KeywordVerdict::kDelivered:
      return "delivered";
    case KeywordVerdict::kBlocked:
      return "blocked";
    case KeywordVerdict::kStateful:
      return "stateful";
    case KeywordVerdict::kInconclusive:
      return "inconclusive";
  }
  return "inconclusive";
}

std::string ComposeMessage(std::string_view nonce, std::string_view text) {
  std::string out(kPrefix);
  out.append(nonce).push_back(' ');
  out.append(text);
  return out;
}

std::string NonceOf(std::string_view body) {
  if (body.substr(0, kPrefix.size()) != kPrefix) return "";
  std::string_view nonce = body.substr(kPrefix.size(), kNonceDigits);
  if (nonce.size() != kNonceDigits || !IsHex(nonce)) return "";
  return std::string(nonce);
}

MessageStatus JudgeMessage(const DeliveryMessage& m) {
  if (m.received_t) {
    return m.received_sha256 == m.sha256 ? MessageStatus::kDelivered : MessageStatus::kAltered;
  }
  if (!m.sent) return MessageStatus::kNotSent;
  if (m.send_failure) {
    if (m.failed_on_send && *m.send_failure == "connection_reset") {
      return MessageStatus::kResetOnSend;
    }
    // Written, the connection still up, and no acknowledgement: the message left intact
    // and vanished — unless the receiving end was broken too.
    if (m.failed_on_send && *m.send_failure == kGenericTimeoutError && !m.receive_failure) {
      return MessageStatus::kDropped;
    }
    return MessageStatus::kTimeout;
  }
  return m.receive_failure ? MessageStatus::kTimeout : MessageStatus::kDropped;
}

std::string TechniqueOf(MessageStatus lost) {
  switch (lost) {
    case MessageStatus::kDropped:
      return "keyword_drop";
    case MessageStatus::kResetOnSend:
      return "keyword_rst";
    case MessageStatus::kAltered:
      return "keyword_alter";
    case MessageStatus::kTimeout:
      return "keyword_stall";
    default:
      return "";
  }
}

AttemptResult JudgeAttempt(const Attempt& attempt, const std::vector<DeliveryMessage>& messages) {
  const DeliveryMessage* before = At(messages, attempt.before);
  const DeliveryMessage* test = At(messages, attempt.test);
  const DeliveryMessage* after = At(messages, attempt.after);
  if (before == nullptr || !Delivered(*before)) {
    return {KeywordVerdict::kInconclusive, "", "the control before it did not get through"};
  }
  if (test == nullptr) return {KeywordVerdict::kInconclusive, "", "the test was not sent"};
  if (Delivered(*test)) return {KeywordVerdict::kDelivered, "", "delivered"};
  if (!LostByContent(*test)) {
    return {KeywordVerdict::kInconclusive, "",
            "the test message is " + std::string(MessageStatusName(test->status)) +
                (test->send_failure ? " (" + *test->send_failure + ")" : "") +
                ", not lost after it was written"};
  }
  const std::string technique = TechniqueOf(test->status);
  const std::string lost = std::string(MessageStatusName(test->status));
  if (after != nullptr && Delivered(*after)) {
    return {KeywordVerdict::kBlocked, technique,
            "test " + lost + " between two controls delivered"};
  }
  if (attempt.recovered_after) {
    char seconds[32];
    std::snprintf(seconds, sizeof seconds, "%.1f", *attempt.recovered_after);
    return {KeywordVerdict::kStateful, technique,
            "test " + lost + ", then nothing got through for up to " + seconds + " s"};
  }
  return {KeywordVerdict::kInconclusive, "",
          "test " + lost + " and nothing got through afterwards (blocking or a broken endpoint)"};
}

AttemptResult CombineAttempts(const std::vector<AttemptResult>& attempts) {
  if (attempts.empty()) return {KeywordVerdict::kInconclusive, "", "not measured"};
  const AttemptResult& first = attempts.front();
  if (first.verdict == KeywordVerdict::kDelivered ||
      first.verdict == KeywordVerdict::kInconclusive) {
    return first;
  }
  bool stateful = false;
  for (const AttemptResult& a : attempts) {
    if (a.verdict != KeywordVerdict::kBlocked && a.verdict != KeywordVerdict::kStateful) {
      return {KeywordVerdict::kInconclusive, "",
              "lost once (" + first.reason + "), then " + a.reason};
    }
    stateful = stateful || a.verdict == KeywordVerdict::kStateful;
  }
  AttemptResult out = first;
  if (stateful) {
    for (const AttemptResult& a : attempts) {
      if (a.verdict == KeywordVerdict::kStateful) out = a;
    }
  }
  if (attempts.size() > 1)
    out.reason += " (" + std::to_string(attempts.size()) + " of " +
                  std::to_string(attempts.size()) + " attempts)";
  return out;
}

TriggerResult JudgeTrigger(const std::vector<std::string>& components,
                           const std::vector<KeywordVerdict>& alone) {
  TriggerResult out;
  bool inconclusive = alone.size() != components.size();
  for (size_t i = 0; i < components.size() && i < alone.size(); ++i) {
    if (alone[i] == KeywordVerdict::kBlocked || alone[i] == KeywordVerdict::kStateful) {
      out.components.push_back(components[i]);
    } else if (alone[i] == KeywordVerdict::kInconclusive) {
      inconclusive = true;
    }
  }
  if (!out.components.empty()) {
    out.trigger = "components";
  } else {
    out.trigger = inconclusive ? "inconclusive" : "combination";
  }
  return out;
}

}  // namespace vigil
