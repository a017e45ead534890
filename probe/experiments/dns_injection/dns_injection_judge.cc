#include "probe/experiments/dns_injection/dns_injection_judge.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <set>
#include <utility>

#include "probe/experiments/common/ip_prefix_set.h"

namespace vigil {

namespace {

constexpr const char* kMultipleAnswers = "multiple_answers";
constexpr const char* kNonResolver = "answer_from_non_resolver";
constexpr const char* kTeredo = "teredo_answer";
constexpr const char* kKnownForged = "known_forged_ip";

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

const IpPrefixSet& Teredo() {
  static const IpPrefixSet set = [] {
    IpPrefixSet s;
    (void)s.Add("2001::/32");
    return s;
  }();
  return set;
}

std::string Seconds(double s) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f", s);
  return text;
}

std::string Plural(int n, const std::string& one, const std::string& many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

void AddOnce(std::vector<std::string>& list, const std::string& value) {
  if (std::find(list.begin(), list.end(), value) == list.end()) list.push_back(value);
}

// The addresses a reply's answers carry (A and AAAA).
std::vector<std::string> Addresses(const DnsResponse& message) {
  std::vector<std::string> out;
  for (const auto& a : message.answers) {
    if (a.ipv4) out.push_back(*a.ipv4);
    if (a.ipv6) out.push_back(*a.ipv6);
  }
  return out;
}

bool Silent(const DnsProbeObservation& p, const DnsProbeJudgement& j) {
  return j.replies.empty() &&
         (p.failure == "generic_timeout_error" || p.failure == "connection_refused");
}

}  // namespace

const char* DnsNameVerdictName(DnsNameVerdict verdict) {
  switch (verdict) {
    case DnsNameVerdict::kInjected:
      return "injected";
    case DnsNameVerdict::kClean:
      return "clean";
    case DnsNameVerdict::kInconclusive:
      break;
  }
  return "inconclusive";
}

bool ProvesInjection(const std::vector<std::string>& flags) {
  for (const auto& f : flags) {
    if (f == kMultipleAnswers || f == kNonResolver || f == kKnownForged) return true;
  }
  return false;
}

DnsProbeJudgement JudgeDnsProbe(const DnsProbeObservation& probe, const ForgedAddressPool& pool) {
  DnsProbeJudgement j;
  const std::string name = Lower(probe.hostname);
  std::set<std::pair<std::string, std::string>> seen;  // (source, payload) of answering ones
  std::vector<std::string> in_pool, sink_answers, teredo, strangers;
  double first = -1, last = -1;
  for (const auto& d : probe.datagrams) {
    DnsReply r;
    r.datagram = d;
    auto parsed = ParseDnsResponse(d.payload);
    if (parsed.ok()) {
      r.message = std::move(*parsed);
      r.answers_query = r.message->id == probe.id && Lower(r.message->question_name) == name &&
                        r.message->question_type == probe.qtype;
    } else {
      r.parse_error = parsed.error();
    }
    if (r.answers_query) {
      r.accepted = j.answering == 0;
      if (seen.insert({d.source, d.payload}).second) {
        ++j.answering;
        if (first < 0) first = d.t;
        last = d.t;
      }
      if (d.source != probe.address) AddOnce(strangers, d.source);
      for (const auto& ip : Addresses(*r.message)) {
        if (pool.Contains(ip)) AddOnce(in_pool, ip);
        if (probe.kind == DnsProbeKind::kSink) AddOnce(sink_answers, ip);
      }
      for (const auto& a : r.message->answers) {
        if (a.ipv6 && Teredo().Contains(*a.ipv6)) AddOnce(teredo, *a.ipv6);
      }
    }
    j.replies.push_back(std::move(r));
  }

  std::vector<std::string> because;
  if (j.answering > probe.queries_sent) {
    j.flags.push_back(kMultipleAnswers);
    because.push_back(Plural(j.answering, "reply", "replies") + " to " +
                      Plural(probe.queries_sent, "query", "queries") + " within " +
                      Seconds(last - first) + " s");
  }
  if (probe.kind == DnsProbeKind::kSink && j.answering > 0) {
    j.flags.push_back(kNonResolver);
    because.push_back("the sink " + probe.address + ", which runs no DNS server, answered");
  } else if (!strangers.empty()) {
    j.flags.push_back(kNonResolver);
    because.push_back("an answer from " + strangers.front() + ", to which no query went");
  }
  if (!teredo.empty()) j.flags.push_back(kTeredo);
  if (!in_pool.empty()) {
    j.flags.push_back(kKnownForged);
    std::string list;
    for (const auto& ip : in_pool) list += (list.empty() ? "" : ", ") + ip;
    because.push_back(list + (in_pool.size() == 1 ? " is a known forged address"
                                                  : " are known forged addresses"));
  }
  for (const auto& ip : sink_answers) AddOnce(j.forged_addresses, ip);
  for (const auto& ip : in_pool) AddOnce(j.forged_addresses, ip);
  if (ProvesInjection(j.flags)) {
    for (const auto& b : because) j.reason += (j.reason.empty() ? "" : "; ") + b;
  }
  return j;
}

DnsNameJudgement JudgeDnsName(const std::vector<DnsProbeObservation>& probes,
                              const std::vector<DnsProbeJudgement>& judgements) {
  DnsNameJudgement out;
  std::vector<std::string> proof, doubts;
  bool sink_seen = false, sink_silent = false;
  int resolvers = 0;
  for (size_t i = 0; i < probes.size() && i < judgements.size(); ++i) {
    const DnsProbeObservation& p = probes[i];
    const DnsProbeJudgement& j = judgements[i];
    if (!p.skipped.empty()) continue;
    if (ProvesInjection(j.flags)) {
      proof.push_back(j.reason);
      continue;
    }
    const std::string who =
        (p.kind == DnsProbeKind::kSink ? "the sink " : "the resolver ") + p.address;
    const bool odd_datagram = std::any_of(j.replies.begin(), j.replies.end(),
                                          [](const DnsReply& r) { return !r.answers_query; });
    if (!j.flags.empty()) {
      doubts.push_back(who +
                       " answered with a Teredo address (teredo_answer), which alone "
                       "proves nothing");
    } else if (odd_datagram) {
      doubts.push_back(who + " sent a datagram that does not answer the query");
    }
    if (p.kind == DnsProbeKind::kSink) {
      sink_seen = true;
      if (Silent(p, j)) {
        sink_silent = true;
      } else if (j.replies.empty()) {
        doubts.push_back(who + " could not be reached: " + p.failure);
      }
      continue;
    }
    ++resolvers;
    if (j.answering == 0) {
      doubts.push_back(who + " did not answer: " +
                       (p.failure.empty() ? std::string("no reply to the query") : p.failure));
    }
  }
  if (!proof.empty()) {
    out.verdict = DnsNameVerdict::kInjected;
    out.reasons = std::move(proof);
    return out;
  }
  if (!sink_seen) doubts.insert(doubts.begin(), "no sink was queried");
  if (resolvers == 0) doubts.push_back("no resolver was measured");
  if (doubts.empty() && sink_silent) {
    out.verdict = DnsNameVerdict::kClean;
    out.reasons.push_back("the sink stayed silent and every resolver answered once");
    return out;
  }
  out.verdict = DnsNameVerdict::kInconclusive;
  out.reasons = std::move(doubts);
  return out;
}

Json DnsProbeJson(const DnsProbeObservation& probe, const DnsProbeJudgement& judgement) {
  Json replies = Json::array();
  for (const auto& r : judgement.replies) {
    Json reply = {{"t", r.datagram.t},
                  {"source", r.datagram.source},
                  {"ip_ttl", r.datagram.ip_ttl ? Json(*r.datagram.ip_ttl) : Json()},
                  {"ip_id", nullptr},
                  {"df", nullptr}};
    if (r.message) {
      char flags[8];
      std::snprintf(flags, sizeof flags, "0x%04x", r.message->flags);
      reply["dns_flags"] = flags;
      reply["rcode"] = DnsRcodeName(r.message->rcode);
      Json answers = Json::array();
      for (const auto& a : r.message->answers) {
        Json answer = {{"answer_type", a.answer_type}};
        if (a.ipv4) answer["ipv4"] = *a.ipv4;
        if (a.ipv6) answer["ipv6"] = *a.ipv6;
        if (a.hostname) answer["hostname"] = *a.hostname;
        answer["ttl"] = a.ttl ? Json(*a.ttl) : Json();
        answers.push_back(std::move(answer));
      }
      reply["answers"] = std::move(answers);
    } else {
      reply["dns_flags"] = nullptr;
      reply["rcode"] = nullptr;
      reply["answers"] = Json::array();
      reply["x_parse_error"] = r.parse_error;
    }
    reply["accepted"] = r.accepted;
    replies.push_back(std::move(reply));
  }
  const std::string& failure = probe.skipped.empty() ? probe.failure : probe.skipped;
  return {{"kind", probe.kind == DnsProbeKind::kSink ? "sink" : "resolver"},
          {"address", probe.address},
          {"queries_sent", probe.queries_sent},
          {"replies", std::move(replies)},
          {"flags", judgement.flags},
          {"failure", failure.empty() ? Json() : Json(failure)}};
}

Json DnsInjectionEntry(const DnsProbeObservation& probe, const DnsProbeJudgement& judgement,
                       int transaction_id) {
  return {{"layer", "dns"},
          {"technique", "dns_injection"},
          {"injector", ""},
          {"hostname", probe.hostname},
          {"address", probe.address},
          {"flags", judgement.flags},
          {"forged_addresses", judgement.forged_addresses},
          {"reason", judgement.reason},
          {"transaction_id", transaction_id}};
}

RunVerdict DnsInjectionVerdict(const Json& k) {
  const Json names = k.value("names", Json::array());
  if (!names.is_array() || names.empty()) return RunVerdict::kError;
  bool injected = false, all_clean = true, odd = false;
  for (const auto& n : names) {
    const std::string verdict = n.value("verdict", "");
    injected = injected || verdict == "injected";
    all_clean = all_clean && verdict == "clean";
    if (verdict != "inconclusive") continue;
    for (const auto& p : n.value("probes", Json::array())) {
      if (!p.value("flags", Json::array()).empty()) odd = true;
      for (const auto& r : p.value("replies", Json::array())) {
        if (r.contains("x_parse_error")) odd = true;
      }
    }
  }
  if (injected) return RunVerdict::kBlocked;
  if (all_clean) return RunVerdict::kOk;
  return odd ? RunVerdict::kAnomaly : RunVerdict::kError;
}

}  // namespace vigil
