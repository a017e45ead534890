// The parameter keys of each rule kind — dns_inject's pools and fingerprint,
// rst_inject's type and (for type custom) its packets, http_blockpage's page,
// icmp_unreachable's error, throttle's rate and delay's milliseconds — and each kind's checks
// across a rule's keys once all are read. rule_parser.cc's table of rule kinds says which kind
// takes which. Stateless functions over the caller's FieldReader; not thread-safe on a shared one.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>

#include "tests/lab/censor/field_reader.h"
#include "tests/lab/censor/scenario.h"

namespace vigil::lab {

/// What a rule's keys said beyond the values they set, for the checks across keys.
struct ParamKeysSeen {
  bool ip_ttl = false;       // dns_inject
  bool copy_ttl = false;     // dns_inject: copy_ttl: true
  bool body = false;         // http_blockpage: body or body_file
  bool status = false;       // http_blockpage
  bool rate = false;         // throttle
  bool ms = false;           // delay
  bool up_down = false;      // delay: up_ms or down_ms
  bool unreachable = false;  // icmp_unreachable
};

/// Reads what must be known before the rule's other keys (rst_inject's type).
using PrepareRuleFn = void (*)(FieldReader* r, const YAML::Node& rule_node, Rule* rule);
/// Reads parameter key `k` (key node `kn`, value `v`) into `rule`; false for a key
/// the kind does not take.
using ReadParamFn = bool (*)(FieldReader* r, const std::string& k, const YAML::Node& kn,
                             const YAML::Node& v, Rule* rule, ParamKeysSeen* seen);
/// Checks across the keys of `rule` (read from `rule_node`), filling defaults.
using CheckRuleFn = void (*)(FieldReader* r, const YAML::Node& rule_node, const ParamKeysSeen& seen,
                             Rule* rule);

// dns_inject, dns_nxdomain, dns_drop (dns_params.cc).
bool ReadDnsInjectParam(FieldReader* r, const std::string& k, const YAML::Node& kn,
                        const YAML::Node& v, Rule* rule, ParamKeysSeen* seen);
void CheckDnsInject(FieldReader* r, const YAML::Node& rule_node, const ParamKeysSeen& seen,
                    Rule* rule);
void CheckDnsRule(FieldReader* r, const YAML::Node& rule_node, const ParamKeysSeen& seen,
                  Rule* rule);

// rst_inject (rst_params.cc).
void ReadRstType(FieldReader* r, const YAML::Node& rule_node, Rule* rule);
bool ReadRstParam(FieldReader* r, const std::string& k, const YAML::Node& kn, const YAML::Node& v,
                  Rule* rule, ParamKeysSeen* seen);
void CheckRstInject(FieldReader* r, const YAML::Node& rule_node, const ParamKeysSeen& seen,
                    Rule* rule);

/// Reads `trigger: drop|pass` (rst_inject and http_blockpage) into `*pass`.
void ReadTrigger(FieldReader* r, const std::string& k, const YAML::Node& kn, const YAML::Node& v,
                 bool* pass);

// http_blockpage (blockpage_params.cc).
bool ReadBlockpageParam(FieldReader* r, const std::string& k, const YAML::Node& kn,
                        const YAML::Node& v, Rule* rule, ParamKeysSeen* seen);
void CheckBlockpage(FieldReader* r, const YAML::Node& rule_node, const ParamKeysSeen& seen,
                    Rule* rule);

// icmp_unreachable (icmp_params.cc).
bool ReadIcmpParam(FieldReader* r, const std::string& k, const YAML::Node& kn, const YAML::Node& v,
                   Rule* rule, ParamKeysSeen* seen);
void CheckIcmpUnreachable(FieldReader* r, const YAML::Node& rule_node, const ParamKeysSeen& seen,
                          Rule* rule);

// throttle and delay (pacing_params.cc).
bool ReadThrottleParam(FieldReader* r, const std::string& k, const YAML::Node& kn,
                       const YAML::Node& v, Rule* rule, ParamKeysSeen* seen);
void CheckThrottle(FieldReader* r, const YAML::Node& rule_node, const ParamKeysSeen& seen,
                   Rule* rule);
bool ReadDelayParam(FieldReader* r, const std::string& k, const YAML::Node& kn, const YAML::Node& v,
                    Rule* rule, ParamKeysSeen* seen);
void CheckDelay(FieldReader* r, const YAML::Node& rule_node, const ParamKeysSeen& seen, Rule* rule);

}  // namespace vigil::lab
