#include "probe/experiments/common/step_failure.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <tuple>

namespace vigil {

namespace {

// Layers bottom-up, for breaking ties towards the cause that happened first.
int LayerRank(std::string_view type) {
  if (type == "dns") return 0;
  if (type == "tcp_ip") return 1;
  if (type == "tls") return 2;
  return 3;
}

// "e12.whatsapp.net" → {"e", 12, ".whatsapp.net"}; false unless a run of letters
// is followed by a number (so IP literals stay whole).
bool SplitNumbered(const std::string& host, std::string* prefix, long* number,
                   std::string* suffix) {
  size_t i = 0;
  while (i < host.size() && std::isalpha(static_cast<unsigned char>(host[i]))) ++i;
  size_t j = i;
  while (j < host.size() && std::isdigit(static_cast<unsigned char>(host[j]))) ++j;
  if (i == 0 || j == i || j - i > 6) return false;
  *prefix = host.substr(0, i);
  *number = std::stol(host.substr(i, j - i));
  *suffix = host.substr(j);
  return true;
}

}  // namespace

Json ToJson(const StepFailure& f) {
  return Json{
      {"host", f.host}, {"port", f.port}, {"operation", f.operation}, {"failure", f.failure}};
}

std::vector<StepFailure> StepFailuresFromJson(const Json& j) {
  std::vector<StepFailure> out;
  if (!j.is_array()) return out;
  for (const Json& e : j) {
    if (!e.is_object()) continue;
    auto str = [&e](const char* key) {
      auto it = e.find(key);
      return it != e.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    StepFailure f{str("host"), 0, str("operation"), str("failure")};
    if (auto it = e.find("port"); it != e.end() && it->is_number_unsigned()) {
      f.port = static_cast<uint16_t>(it->get<uint64_t>());
    }
    if (!f.host.empty() && !f.failure.empty()) out.push_back(std::move(f));
  }
  return out;
}

std::string BlockingTypeOf(std::string_view operation) {
  if (operation == "resolve" || operation == "dns_round_trip") return "dns";
  if (operation == "connect") return "tcp_ip";
  if (operation == "tls_handshake") return "tls";
  return "http-failure";
}

std::string CompressHostNames(std::vector<std::string> hosts) {
  std::sort(hosts.begin(), hosts.end());
  hosts.erase(std::unique(hosts.begin(), hosts.end()), hosts.end());
  // (prefix, suffix) → numbers; names without a number stay as they are.
  std::map<std::pair<std::string, std::string>, std::set<long>> numbered;
  std::vector<std::string> parts, plain;
  for (const auto& h : hosts) {
    std::string prefix, suffix;
    long n = 0;
    if (SplitNumbered(h, &prefix, &n, &suffix)) {
      numbered[{prefix, suffix}].insert(n);
    } else {
      plain.push_back(h.find(':') == std::string::npos ? h : "[" + h + "]");
    }
  }
  for (const auto& [key, numbers] : numbered) {
    const auto& [prefix, suffix] = key;
    std::vector<std::string> runs;
    for (auto it = numbers.begin(); it != numbers.end();) {
      long first = *it, last = *it;
      for (++it; it != numbers.end() && *it == last + 1; ++it) last = *it;
      runs.push_back(first == last
                         ? prefix + std::to_string(first)
                         : prefix + std::to_string(first) + "-" + prefix + std::to_string(last));
    }
    std::string joined;
    for (const auto& r : runs) joined += (joined.empty() ? "" : ",") + r;
    parts.push_back(joined + suffix);
  }
  // Numbered runs first: they are usually the bulk of a list.
  parts.insert(parts.end(), plain.begin(), plain.end());
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : ",") + p;
  return out;
}

RunSummary SummarizeFailures(std::string service, RunVerdict verdict,
                             const std::vector<StepFailure>& failures) {
  RunSummary s;
  s.service = std::move(service);
  s.verdict = verdict;
  if (failures.empty()) return s;

  // A host whose lookup failed or lied fails every later step because of it: all
  // its failures count as DNS ones.
  std::set<std::string> dns_hosts;
  for (const auto& f : failures) {
    if (BlockingTypeOf(f.operation) == "dns") dns_hosts.insert(f.host);
  }
  std::map<std::string, int> by_type;
  for (const auto& f : failures) {
    ++by_type[dns_hosts.count(f.host) ? std::string("dns") : BlockingTypeOf(f.operation)];
  }
  auto best = std::max_element(by_type.begin(), by_type.end(), [](const auto& a, const auto& b) {
    return std::make_tuple(a.second, -LayerRank(a.first)) <
           std::make_tuple(b.second, -LayerRank(b.first));
  });
  // A server down for the control too is no blocking, whatever layer it failed at.
  if (s.verdict != RunVerdict::kOk && s.verdict != RunVerdict::kDown) s.blocking = best->first;

  // (operation, failure) → hosts and ports, in order of first appearance.
  struct Group {
    std::vector<std::string> hosts;
    std::set<uint16_t> ports;
  };
  std::vector<std::pair<std::pair<std::string, std::string>, Group>> groups;
  // Lower layers first: the evidence leads with the cause.
  std::vector<StepFailure> ordered = failures;
  std::stable_sort(ordered.begin(), ordered.end(), [](const StepFailure& a, const StepFailure& b) {
    return LayerRank(BlockingTypeOf(a.operation)) < LayerRank(BlockingTypeOf(b.operation));
  });
  for (const auto& f : ordered) {
    auto key = std::make_pair(f.operation, f.failure);
    auto it = std::find_if(groups.begin(), groups.end(),
                           [&key](const auto& g) { return g.first == key; });
    if (it == groups.end()) it = groups.insert(groups.end(), {key, Group{}});
    it->second.hosts.push_back(f.host);
    if (f.port != 0) it->second.ports.insert(f.port);
  }
  constexpr size_t kMaxGroups = 3;
  for (size_t i = 0; i < groups.size() && i < kMaxGroups; ++i) {
    const auto& [key, group] = groups[i];
    std::string ports;
    for (uint16_t p : group.ports) ports += (ports.empty() ? ":" : "/") + std::to_string(p);
    if (!s.evidence.empty()) s.evidence += "; ";
    s.evidence += CompressHostNames(group.hosts) + ports + " " + key.first + " " + key.second;
  }
  if (groups.size() > kMaxGroups) {
    s.evidence += "; +" + std::to_string(groups.size() - kMaxGroups) + " more";
  }
  return s;
}

}  // namespace vigil
