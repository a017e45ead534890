#include "tests/lab/censor/rule_parser.h"

#include <string>

#include "tests/lab/censor/action_params.h"
#include "tests/lab/censor/match_parser.h"

namespace vigil::lab {
namespace {

void CheckKeywordDrop(FieldReader* r, const YAML::Node& rule_node, const ParamKeysSeen&,
                      Rule* rule) {
  if (rule->match.keywords.empty()) {
    r->Fail(rule_node, "keywords", "keyword_drop needs match.keywords");
  }
}

// A rule kind: its action (named by ActionName), what is read before the other keys,
// the parameter keys it takes and the checks across them; null for none.
struct RuleKind {
  ActionKind action;
  PrepareRuleFn prepare;
  ReadParamFn read;
  CheckRuleFn check;
};

constexpr RuleKind kRuleKinds[] = {
    {ActionKind::kDnsInject, nullptr, ReadDnsInjectParam, CheckDnsInject},
    {ActionKind::kDnsNxdomain, nullptr, nullptr, CheckDnsRule},
    {ActionKind::kDnsDrop, nullptr, nullptr, CheckDnsRule},
    {ActionKind::kRstInject, ReadRstType, ReadRstParam, CheckRstInject},
    {ActionKind::kDrop, nullptr, nullptr, nullptr},
    {ActionKind::kHttpBlockpage, nullptr, ReadBlockpageParam, CheckBlockpage},
    {ActionKind::kThrottle, nullptr, ReadThrottleParam, CheckThrottle},
    {ActionKind::kDelay, nullptr, ReadDelayParam, CheckDelay},
    {ActionKind::kKeywordDrop, nullptr, nullptr, CheckKeywordDrop},
    {ActionKind::kIcmpUnreachable, nullptr, ReadIcmpParam, CheckIcmpUnreachable},
};

// The rule's kind from its action key, or null (reported) when missing or unknown.
// The action decides which parameter keys are valid, so it is read first.
const RuleKind* ReadAction(FieldReader* r, const YAML::Node& node, std::string* name) {
  YAML::Node action_key;
  YAML::Node action = FieldReader::Find(node, "action", &action_key);
  if (!action.IsDefined()) {
    r->Fail(node, "action", "missing");
    return nullptr;
  }
  if (!r->String(action_key, "action", action, name)) return nullptr;
  for (const RuleKind& kind : kRuleKinds) {
    if (*name == ActionName(kind.action)) return &kind;
  }
  r->Fail(action, "action", "unknown action \"" + *name + "\"");
  return nullptr;
}

void ReadResidual(FieldReader* r, const std::string& k, const YAML::Node& kn, const YAML::Node& v,
                  Rule* rule) {
  if (!r->Map(kn, k, v)) return;
  bool have_seconds = false;
  r->ForEachKey(v, [&](const std::string& rk, const YAML::Node& rkn, const YAML::Node& rv) {
    if (rk != "seconds") return false;
    have_seconds = r->UintAs(rkn, rk, rv, 1, 86400, &rule->residual_seconds);
    return true;
  });
  if (!have_seconds && !FieldReader::Has(v, "seconds")) r->Fail(v, "seconds", "missing");
}

void ReadAt(FieldReader* r, const std::string& k, const YAML::Node& kn, const YAML::Node& v,
            Rule* rule) {
  std::string at;
  if (!r->String(kn, k, v, &at)) return;
  for (ActAt a : {ActAt::kMatch, ActAt::kAppData, ActAt::kResponse}) {
    if (at == ActAtName(a)) {
      rule->at = a;
      return;
    }
  }
  r->Fail(v, k, "must be match, app_data or response, got \"" + at + "\"");
}

// `at` later than the match: what can act then, and on what.
void CheckAt(FieldReader* r, const YAML::Node& node, const Rule& rule) {
  if (rule.at == ActAt::kMatch) return;
  if (rule.action != ActionKind::kRstInject && rule.action != ActionKind::kDrop) {
    r->Fail(node, "at",
            std::string("only rst_inject and drop act after the match, not ") +
                ActionName(rule.action));
  } else if (rule.match.proto == Proto::kUdp) {
    r->Fail(node, "at", std::string(ActAtName(rule.at)) + " needs tcp or any");
  } else if (rule.at == ActAt::kResponse && rule.rst.pass_trigger) {
    r->Fail(node, "at", "response cannot be combined with trigger: pass");
  }
}

}  // namespace

bool ParseRule(FieldReader* r, const YAML::Node& node, Rule* rule) {
  if (!node.IsMap()) {
    r->Fail(node, "rules", std::string("expected a mapping, got ") + YamlTypeName(node));
    return false;
  }
  rule->line = static_cast<int>(node.Mark().line) + 1;
  size_t errors_before = r->error_count();
  std::string action_name;
  const RuleKind* kind = ReadAction(r, node, &action_name);
  if (kind != nullptr) {
    rule->action = kind->action;
    if (kind->prepare != nullptr) kind->prepare(r, node, rule);
  }
  bool have_id = false;
  ParamKeysSeen seen;
  r->ForEachKey(
      node,
      [&](const std::string& k, const YAML::Node& kn, const YAML::Node& v) {
        if (k == "id") {
          have_id = r->String(kn, k, v, &rule->id);
          if (have_id && rule->id.empty()) r->Fail(v, k, "must not be empty");
        } else if (k == "match") {
          if (r->Map(kn, k, v)) ParseMatch(r, v, &rule->match);
        } else if (k == "residual") {
          ReadResidual(r, k, kn, v, rule);
        } else if (k == "reassemble") {
          r->Bool(kn, k, v, &rule->reassemble);
        } else if (k == "at") {
          ReadAt(r, k, kn, v, rule);
        } else if (k != "action" && kind != nullptr) {
          return kind->read != nullptr && kind->read(r, k, kn, v, rule, &seen);
        }
        // The action itself, or a key of a rule whose action is wrong (that is reported).
        return true;
      },
      kind != nullptr ? "unknown key for action " + action_name : "unknown key");
  if (!have_id && !FieldReader::Has(node, "id")) r->Fail(node, "id", "missing");
  if (kind != nullptr) {
    if (kind->check != nullptr) kind->check(r, node, seen, rule);
    if (rule->residual_seconds > 0 && rule->match.proto == Proto::kUdp) {
      r->Fail(node, "residual", "only applies to tcp rules");
    }
    CheckAt(r, node, *rule);
    const Match& m = rule->match;
    if (!rule->reassemble && !m.sni && !m.http_host && !m.http_path) {
      r->Fail(node, "reassemble", "false needs an sni, http_host or http_path match");
    }
  }
  return r->error_count() == errors_before;
}

}  // namespace vigil::lab
