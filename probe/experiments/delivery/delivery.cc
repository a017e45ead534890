#include "probe/experiments/delivery/delivery.h"

#include <algorithm>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <cmath>
#include <map>
#include <memory>
#include <random>
#include <set>

#include "probe/experiments/common/content_hash.h"
#include "probe/experiments/delivery/delivery_options.h"
#include "probe/experiments/delivery/transport.h"
#include "probe/measurement/envelope.h"
#include "probe/testlists/keyword_list.h"

namespace vigil {

namespace {

using Clock = DeliveryClock;
using std::chrono::milliseconds;

// After the control that follows a test has arrived, the test (sent before it) gets this
// much longer before it counts as lost: transports deliver in order, or nearly.
constexpr milliseconds kGraceAfterControl{1500};
// Re-sent controls after a frame broke: the first after this, each later one after 1.5
// times the previous pause, at most kMaxRecheckPause.
constexpr milliseconds kFirstRecheckPause{1000};
constexpr milliseconds kMaxRecheckPause{15000};
// Longest single Receive call, so that waits stay responsive.
constexpr milliseconds kReceiveSlice{500};

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

asio::awaitable<void> Sleep(milliseconds d) {
  asio::steady_timer timer(co_await asio::this_coro::executor, d);
  co_await timer.async_wait(asio::use_awaitable);
}

// One keyword under test: its text and its control's.
struct Subject {
  std::string id;
  std::string text;
  std::string control_id;
  std::string control_text;
};

// A run of the experiment over one opened transport.
class DeliveryRun {
 public:
  DeliveryRun(DeliveryTransport& transport, const DeliveryOptions& options, Clock::time_point zero)
      : transport_(transport), options_(options), zero_(zero) {}

  std::vector<DeliveryMessage>& messages() { return messages_; }
  bool channel_lost() const { return channel_lost_; }
  const Json& unmatched() const { return unmatched_; }

  // One attempt: control, test, control; controls again when the frame broke.
  asio::awaitable<Attempt> Frame(const Subject& s, int round) {
    Attempt a;
    a.round = round;
    if (channel_lost_) co_return a;
    transport_.FreshSendConnection();
    a.before =
        co_await Send(s.id, s.control_id, s.control_text, MessageRole::kControlBefore, round);
    const std::vector<int> first{a.before};
    co_await Await(first, -1);
    if (!Delivered(messages_[a.before])) {
      // The channel is not working before the test: wait for it as after a block.
      const auto since = Clock::now();
      std::vector<int> rechecks;
      const bool back = co_await Recheck(s, round, since, &rechecks);
      if (!back) {
        a.rechecks = rechecks;
        channel_lost_ = true;
        co_return a;
      }
      a.before = rechecks.back();
      messages_[a.before].role = MessageRole::kControlBefore;
    }
    a.test = co_await Send(s.id, s.id, s.text, MessageRole::kTest, round);
    const auto test_sent = Clock::now();
    a.after = co_await Send(s.id, s.control_id, s.control_text, MessageRole::kControlAfter, round);
    const std::vector<int> frame{a.test, a.after};
    co_await Await(frame, a.after);
    if (!Delivered(messages_[a.test]) && !Delivered(messages_[a.after])) {
      if (co_await Recheck(s, round, test_sent, &a.rechecks)) {
        a.recovered_after = Seconds(Clock::now() - test_sent);
      } else {
        channel_lost_ = true;
      }
    }
    co_return a;
  }

  // Waits up to the delivery wait for stragglers, then judges every message for good.
  asio::awaitable<void> Finish() {
    std::vector<int> pending;
    for (const auto& m : messages_) {
      if (m.sent && !m.received_t) pending.push_back(m.index);
    }
    if (!pending.empty()) co_await Collect(Clock::now() + kGraceAfterControl);
    for (auto& m : messages_) m.status = JudgeMessage(m);
  }

 private:
  asio::awaitable<int> Send(const std::string& subject, const std::string& entry,
                            const std::string& text, MessageRole role, int round) {
    DeliveryMessage m;
    m.index = static_cast<int>(messages_.size());
    do {
      m.nonce = RandomHex(8);
    } while (by_nonce_.count(m.nonce));
    m.role = role;
    m.subject = subject;
    m.entry = entry;
    m.round = round;
    m.text = ComposeMessage(m.nonce, text);
    m.sha256 = Sha256Hex(m.text);
    m.sent = true;
    by_nonce_[m.nonce] = m.index;
    messages_.push_back(m);
    const SendOutcome out = co_await transport_.Send(messages_.back().text);
    DeliveryMessage& sent = messages_[static_cast<size_t>(m.index)];
    sent.t0 = out.t0;
    sent.t = out.t;
    sent.send_failure = out.failure;
    sent.failed_on_send = out.failure.has_value() && out.on_send;
    last_send_ = Clock::now();
    co_return m.index;
  }

  // Receives until every message of `indexes` that can still arrive has, or the wait
  // is over; once `control` (sent last) is in, the others get kGraceAfterControl more.
  asio::awaitable<void> Await(std::vector<int> indexes, int control) {
    Clock::time_point deadline = last_send_ + options_.delivery_wait;
    bool graced = false;
    for (;;) {
      bool waiting = false;
      for (int i : indexes) {
        const auto& m = messages_[static_cast<size_t>(i)];
        if (!m.received_t && CanArrive(m)) waiting = true;
      }
      if (!waiting) break;
      if (!graced && control >= 0 && messages_[static_cast<size_t>(control)].received_t) {
        deadline = std::min(deadline, Clock::now() + kGraceAfterControl);
        graced = true;
      }
      const auto now = Clock::now();
      if (now >= deadline) break;
      co_await ReceiveOnce(
          std::min(kReceiveSlice, std::chrono::duration_cast<milliseconds>(deadline - now)));
    }
    for (int i : indexes) {
      auto& m = messages_[static_cast<size_t>(i)];
      if (!m.received_t && last_receive_failure_ && !m.receive_failure) {
        m.receive_failure = last_receive_failure_;
      }
      m.status = JudgeMessage(m);
    }
  }

  // A message whose send failed before it was written cannot arrive.
  static bool CanArrive(const DeliveryMessage& m) {
    return m.sent && (!m.send_failure || m.failed_on_send);
  }

  asio::awaitable<void> Collect(Clock::time_point deadline) {
    for (auto now = Clock::now(); now < deadline; now = Clock::now()) {
      co_await ReceiveOnce(
          std::min(kReceiveSlice, std::chrono::duration_cast<milliseconds>(deadline - now)));
    }
  }

  asio::awaitable<void> ReceiveOnce(milliseconds wait) {
    if (wait.count() <= 0) co_return;
    const auto started = Clock::now();
    ReceiveOutcome r = co_await transport_.Receive(wait);
    last_receive_failure_ = r.failure;
    for (auto& got : r.messages) {
      const std::string nonce = NonceOf(got.body);
      auto it = nonce.empty() ? by_nonce_.end() : by_nonce_.find(nonce);
      if (it == by_nonce_.end() || messages_[static_cast<size_t>(it->second)].received_t) {
        unmatched_.push_back(
            {{"sha256", Sha256Hex(got.body)}, {"bytes", got.body.size()}, {"t", got.t}});
        continue;
      }
      auto& m = messages_[static_cast<size_t>(it->second)];
      m.received_t = got.t;
      m.received_sha256 = Sha256Hex(got.body);
      m.receive_failure.reset();
    }
    // A failing receiver may return at once: do not spin.
    if (r.failure && Clock::now() - started < wait) co_await Sleep(wait);
  }

  // Controls again, pausing longer each time, until one is delivered (true) or the
  // stateful wait since `since` is over (false).
  asio::awaitable<bool> Recheck(const Subject& s, int round, Clock::time_point since,
                                std::vector<int>* rechecks) {
    milliseconds pause = kFirstRecheckPause;
    const auto deadline = since + options_.stateful_wait;
    while (Clock::now() + pause < deadline) {
      co_await Sleep(pause);
      const int i = co_await Send(s.id, s.control_id, s.control_text, MessageRole::kRecheck, round);
      rechecks->push_back(i);
      const std::vector<int> one{i};
      co_await Await(one, -1);
      if (Delivered(messages_[static_cast<size_t>(i)])) co_return true;
      pause = std::min(kMaxRecheckPause, milliseconds(pause.count() * 3 / 2));
    }
    co_return false;
  }

  DeliveryTransport& transport_;
  const DeliveryOptions& options_;
  Clock::time_point zero_;
  std::vector<DeliveryMessage> messages_;
  std::map<std::string, int> by_nonce_;
  Clock::time_point last_send_ = Clock::now();
  std::optional<std::string> last_receive_failure_;
  bool channel_lost_ = false;
  Json unmatched_ = Json::array();
};

Json OptionalString(const std::optional<std::string>& s) { return s ? Json(*s) : Json(); }

Json MessageJson(const DeliveryMessage& m) {
  Json j = {{"index", m.index},
            {"nonce", m.nonce},
            {"role", MessageRoleName(m.role)},
            {"subject", m.subject},
            {"entry", m.entry},
            {"round", m.round},
            {"text", m.text},
            {"sha256", m.sha256},
            {"t0", m.t0},
            {"t", m.t},
            {"send_failure", OptionalString(m.send_failure)},
            {"failed_on_send", m.failed_on_send},
            {"received_t", m.received_t ? Json(*m.received_t) : Json()},
            {"received_sha256", m.received_t ? Json(m.received_sha256) : Json()},
            {"receive_failure", OptionalString(m.receive_failure)},
            {"latency_ms", Json()},
            {"status", MessageStatusName(m.status)}};
  if (m.received_t) j["latency_ms"] = std::lround((*m.received_t - m.t0) * 1000.0);
  return j;
}

Json AttemptJson(const Attempt& a, const AttemptResult& r) {
  return {{"round", a.round},
          {"verdict", KeywordVerdictName(r.verdict)},
          {"technique", r.technique.empty() ? Json() : Json(r.technique)},
          {"reason", r.reason},
          {"messages", {a.before, a.test, a.after}},
          {"rechecks", a.rechecks},
          {"recovered_after", a.recovered_after ? Json(*a.recovered_after) : Json()}};
}

bool Lost(const AttemptResult& r) {
  return r.verdict == KeywordVerdict::kBlocked || r.verdict == KeywordVerdict::kStateful;
}

// Everything the run learnt about one keyword.
struct KeywordRecord {
  const KeywordEntry* entry = nullptr;
  std::vector<Attempt> attempts;
  // A combination's components, each sent alone: the component and its attempts.
  std::vector<std::pair<std::string, std::vector<Attempt>>> components;
};

std::vector<AttemptResult> Judge(const std::vector<Attempt>& attempts,
                                 const std::vector<DeliveryMessage>& messages) {
  std::vector<AttemptResult> out;
  for (const Attempt& a : attempts) out.push_back(JudgeAttempt(a, messages));
  return out;
}

Json KeywordJson(const KeywordRecord& k, const std::vector<DeliveryMessage>& messages,
                 std::string* status) {
  const KeywordEntry& e = *k.entry;
  const auto results = Judge(k.attempts, messages);
  const AttemptResult verdict = CombineAttempts(results);
  Json attempts = Json::array();
  for (size_t i = 0; i < k.attempts.size(); ++i) {
    attempts.push_back(AttemptJson(k.attempts[i], results[i]));
  }
  Json j = {{"id", e.id},
            {"text", e.text},
            {"language", e.language},
            {"theme", e.theme},
            {"components", e.components},
            {"verdict", KeywordVerdictName(verdict.verdict)},
            {"technique", verdict.technique.empty() ? Json() : Json(verdict.technique)},
            {"reason", verdict.reason},
            {"residual_seconds", Json()},
            {"attempts", attempts}};
  if (verdict.verdict == KeywordVerdict::kStateful) {
    for (const Attempt& a : k.attempts) {
      if (a.recovered_after) j["residual_seconds"] = *a.recovered_after;
    }
  }
  if (e.IsCombination()) {
    Json alone = Json::array();
    std::vector<KeywordVerdict> verdicts;
    for (const auto& [component, tries] : k.components) {
      const AttemptResult r = CombineAttempts(Judge(tries, messages));
      verdicts.push_back(r.verdict);
      alone.push_back({{"component", component},
                       {"verdict", KeywordVerdictName(r.verdict)},
                       {"technique", r.technique.empty() ? Json() : Json(r.technique)}});
    }
    j["components_alone"] = alone;
    j["trigger"] = nullptr;
    j["triggering_components"] = Json::array();
    if (Lost(verdict) && !k.components.empty()) {
      const TriggerResult t = JudgeTrigger(e.components, verdicts);
      j["trigger"] = t.trigger;
      j["triggering_components"] = t.components;
    }
  }
  // The run's status: blocked beats inconclusive beats ok.
  if (Lost(verdict)) {
    *status = "blocked";
  } else if (verdict.verdict == KeywordVerdict::kInconclusive && *status == "ok") {
    *status = "inconclusive";
  }
  return j;
}

Result<std::vector<const KeywordEntry*>> SelectTests(const KeywordList& list, const Json& input) {
  if (input.is_null()) {
    auto tests = list.Tests();
    if (tests.empty()) return Error{"delivery: the keyword lists have no test rows"};
    return tests;
  }
  if (!input.is_string()) return Error{"delivery: the input must be a keyword id"};
  const KeywordEntry* e = list.Find(input.get<std::string>());
  if (e == nullptr || e->IsControl()) {
    return Error{"delivery: no test keyword '" + input.get<std::string>() +
                 "' in the keyword lists"};
  }
  return std::vector<const KeywordEntry*>{e};
}

}  // namespace

RunVerdict DeliveryVerdict(const Json& k) {
  const std::string status = k.value("delivery_status", "");
  if (status == "blocked") return RunVerdict::kBlocked;
  if (status == "ok") return RunVerdict::kOk;
  return RunVerdict::kError;
}

asio::awaitable<Result<Measurement>> DeliveryExperiment::Run(const ExperimentContext& context,
                                                             const Json& input) const {
  const DeliveryOptions& options = context.delivery;
  if (!options.enabled) {
    co_return Error{
        "delivery: not enabled. It sends politically sensitive words across this network; "
        "enable it in the config (\"delivery\": {\"enabled\": true, \"acknowledged\": ...}, "
        "see `vigil onboard --delivery`)"};
  }
  const std::string source =
      options.keywords_file.empty() ? KeywordListDir(context.data_dir) : options.keywords_file;
  auto list = ReadKeywordListPath(source);
  if (!list.ok()) co_return Error{"delivery: " + list.error()};
  auto tests = SelectTests(*list, input);
  if (!tests.ok()) co_return Error{tests.error()};

  const auto zero = Clock::now();
  auto transport = MakeDeliveryTransport(context, options, zero);
  if (!transport.ok()) co_return Error{transport.error()};
  Measurement m = NewMeasurement(kDeliveryName, kDeliveryVersion, input);
  Json keys = Json::object();
  keys["transport"] = options.transport;
  keys["delivery_wait_ms"] = options.delivery_wait.count();
  keys["stateful_wait_ms"] =
      std::chrono::duration_cast<milliseconds>(options.stateful_wait).count();

  DeliveryTransport& t = **transport;
  const std::optional<std::string> open_failure = co_await t.Open();
  keys["transport_failure"] = OptionalString(open_failure);
  DeliveryRun run(t, options, zero);
  std::vector<KeywordRecord> records;
  for (const KeywordEntry* e : *tests) records.push_back({e, {}, {}});
  // Random order, so that a filter that learns from a sequence meets no pattern.
  std::shuffle(records.begin(), records.end(), std::mt19937(std::random_device{}()));

  auto subject_of = [&](const KeywordEntry& e, const std::string& id, const std::string& text) {
    const KeywordEntry* control = list->ControlOf(e);
    return Subject{id, text, control ? control->id : "", control ? control->text : ""};
  };
  if (!open_failure) {
    // The first pass, then a confirmation of each loss, then the components of the
    // combinations lost twice.
    for (auto& k : records) {
      k.attempts.push_back(co_await run.Frame(subject_of(*k.entry, k.entry->id, k.entry->text), 1));
    }
    for (auto& k : records) {
      if (run.channel_lost()) break;
      if (!Lost(JudgeAttempt(k.attempts.front(), run.messages()))) continue;
      k.attempts.push_back(co_await run.Frame(subject_of(*k.entry, k.entry->id, k.entry->text), 2));
    }
    for (auto& k : records) {
      if (run.channel_lost() || !k.entry->IsCombination()) continue;
      if (!Lost(CombineAttempts(Judge(k.attempts, run.messages())))) continue;
      for (size_t c = 0; c < k.entry->components.size(); ++c) {
        const std::string& component = k.entry->components[c];
        const std::string id = k.entry->id + "/" + std::to_string(c + 1);
        Attempt a = co_await run.Frame(subject_of(*k.entry, id, component), 3);
        k.components.push_back({component, {a}});
      }
    }
    co_await run.Finish();
  }
  co_await t.Close();

  std::string status = open_failure ? "transport_failure" : "ok";
  Json keywords = Json::array();
  for (const auto& k : records) keywords.push_back(KeywordJson(k, run.messages(), &status));
  if (open_failure) status = "transport_failure";
  Json messages = Json::array();
  for (const auto& msg : run.messages()) messages.push_back(MessageJson(msg));
  keys["messages"] = std::move(messages);
  keys["keywords"] = std::move(keywords);
  keys["delivery_status"] = status;
  keys["x_transport_events"] = t.Events();
  keys["x_unmatched_received"] = run.unmatched();
  m.test_runtime = Seconds(Clock::now() - zero);
  m.test_keys.extra = std::move(keys);
  co_return m;
}

RunSummary DeliveryExperiment::Summarize(const Measurement& measurement) const {
  const Json& k = measurement.test_keys.extra;
  RunSummary s;
  s.service = "delivery over " + k.value("transport", std::string("?"));
  s.verdict = DeliveryVerdict(k);
  s.blocking = s.verdict == RunVerdict::kBlocked ? "delivery" : "";
  size_t total = 0, lost = 0, unsure = 0;
  for (const Json& w : k.value("keywords", Json::array())) {
    ++total;
    const std::string verdict = w.value("verdict", "");
    if (verdict == "blocked" || verdict == "stateful") ++lost;
    if (verdict == "inconclusive") ++unsure;
    if (verdict == "delivered") continue;
    std::string line = w.value("id", "") + " " + w.value("text", "") + ": " + verdict;
    if (w.contains("technique") && w["technique"].is_string()) {
      line += " (" + w["technique"].get<std::string>() + ")";
    }
    if (w.contains("trigger") && w["trigger"].is_string()) {
      line += ", trigger " + w["trigger"].get<std::string>();
      const Json& parts = w["triggering_components"];
      for (size_t i = 0; i < parts.size(); ++i) {
        line += (i == 0 ? ": " : " + ") + parts[i].get<std::string>();
      }
    }
    if (w.contains("residual_seconds") && w["residual_seconds"].is_number()) {
      line += ", channel blocked for up to " +
              std::to_string(std::lround(w["residual_seconds"].get<double>())) + " s";
    }
    s.details.push_back(line);
  }
  if (k.contains("transport_failure") && k["transport_failure"].is_string()) {
    s.evidence = "the transport did not open: " + k["transport_failure"].get<std::string>();
  } else {
    s.evidence = std::to_string(lost) + " of " + std::to_string(total) + " keywords lost";
    if (unsure > 0) s.evidence += ", " + std::to_string(unsure) + " inconclusive";
  }
  return s;
}

// How the registry makes one: experiments.def lists it.
std::unique_ptr<Experiment> MakeDeliveryExperiment() {
  return std::make_unique<DeliveryExperiment>();
}

}  // namespace vigil
