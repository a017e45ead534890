// Reads one rule of a scenario phase: its id, action, match block, residual block,
// reassemble flag and when it acts (`at`: rst_inject and drop only), and the parameter
// keys its action takes. Which keys each action takes, and what is checked across
// them, is the table of rule kinds in rule_parser.cc:
//
//   action          parameter keys (action_params.h)            checked across keys
//   dns_inject      pool pool6 random copies ip_ttl copy_ttl    pool given; ip_ttl or
//                   ip_id df dns_flags answer_ttl delay_ms      copy_ttl; udp match
//   dns_nxdomain    -                                           udp match
//   dns_drop        -                                           udp match
//   rst_inject      type direction trigger; custom: count flags tcp match
//                   df ip_id ttl payload_hex
//   drop            -                                           -
//   http_blockpage  status body body_file location then         tcp match; default page;
//                   trigger                                     3xx iff location
//   throttle        rate burst_bytes queue_bytes                rate given
//   delay           ms up_ms down_ms                            ms or up_ms/down_ms
//   keyword_drop    -                                           match.keywords given
//   icmp_unreachable
//                   unreachable from                            unreachable given
//
// A stateless function over the caller's FieldReader; not thread-safe on a shared one.
#pragma once

#include <yaml-cpp/yaml.h>

#include "tests/lab/censor/field_reader.h"
#include "tests/lab/censor/scenario.h"

namespace vigil::lab {

/// Reads the rule mapping `node` into `rule`, reporting errors to `r`; false when it
/// reported any.
bool ParseRule(FieldReader* r, const YAML::Node& node, Rule* rule);

}  // namespace vigil::lab
