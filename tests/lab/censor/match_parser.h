// Reads a rule's `match` block (proto, dst_ip, dst_port, dns_qname, sni, http_host,
// http_path, keywords) and checks that the match fields suit the rule's action.
// Stateless functions over the caller's FieldReader; not thread-safe on a shared one.
#pragma once

#include <yaml-cpp/yaml.h>

#include "tests/lab/censor/field_reader.h"
#include "tests/lab/censor/scenario.h"

namespace vigil::lab {

/// Reads the mapping `m` into `out`, reporting errors to `r`.
void ParseMatch(FieldReader* r, const YAML::Node& m, Match* out);

/// For DNS actions: reports a tcp-only proto or sni/http fields in `rule`'s match.
void CheckDnsActionMatch(FieldReader* r, const YAML::Node& rule_node, const Rule& rule);
/// For TCP actions (rst_inject, http_blockpage): reports a udp-only proto or dns_qname.
void CheckTcpActionMatch(FieldReader* r, const YAML::Node& rule_node, const Rule& rule);

}  // namespace vigil::lab
