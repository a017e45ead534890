// icmp_unreachable's parameter keys: which unreachable error, and from where.
#include <string>
#include <vector>

#include "tests/lab/censor/action_params.h"

namespace vigil::lab {

bool ReadIcmpParam(FieldReader* r, const std::string& k, const YAML::Node& kn, const YAML::Node& v,
                   Rule* rule, ParamKeysSeen* seen) {
  IcmpParams& p = rule->icmp;
  if (k == "unreachable") {
    seen->unreachable = true;
    std::string code;
    if (!r->String(kn, k, v, &code)) return true;
    for (Unreachable u :
         {Unreachable::kNet, Unreachable::kHost, Unreachable::kPort, Unreachable::kAdmin}) {
      if (code == UnreachableName(u)) {
        p.code = u;
        return true;
      }
    }
    r->Fail(v, k, "must be net, host, port or admin, got \"" + code + "\"");
  } else if (k == "from") {
    std::vector<ScalarItem> items;
    if (!r->ScalarList(kn, k, v, &items)) return true;
    for (const auto& [text, node] : items) {
      auto a = IpAddress::Parse(text);
      if (!a) {
        r->Fail(node, k, "not an IP address: \"" + text + "\"");
        continue;
      }
      std::optional<IpAddress>& slot = a->v6 ? p.from6 : p.from4;
      if (slot) r->Fail(node, k, "one address per IP version");
      slot = a;
    }
  } else {
    return false;
  }
  return true;
}

void CheckIcmpUnreachable(FieldReader* r, const YAML::Node& rule_node, const ParamKeysSeen& seen,
                          Rule*) {
  if (!seen.unreachable) r->Fail(rule_node, "unreachable", "missing (net, host, port or admin)");
}

}  // namespace vigil::lab
