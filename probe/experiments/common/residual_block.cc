#include "probe/experiments/common/residual_block.h"

#include <algorithm>
#include <utility>

#include "base/host_port.h"
#include "probe/net/trace.h"

namespace vigil {

void SniTriggerLog::Record(Trigger trigger) {
  std::lock_guard lock(mu_);
  triggers_.push_back(std::move(trigger));
}

std::vector<SniTriggerLog::Trigger> SniTriggerLog::Before(const std::string& address,
                                                          Clock::time_point at) const {
  std::vector<Trigger> out;
  std::lock_guard lock(mu_);
  for (auto it = triggers_.rbegin(); it != triggers_.rend(); ++it) {
    if (it->address == address && it->at <= at && at - it->at <= kResidualBlockWindow) {
      out.push_back(*it);
    }
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const Trigger& a, const Trigger& b) { return a.at > b.at; });
  return out;
}

ConnectionResets CollectConnectionResets(const Measurement& measurement) {
  ConnectionResets out;
  for (const auto& h : measurement.test_keys.tls_handshakes) {
    if (h.failure.value_or("") == "connection_reset") out.tls_resets.insert(h.address);
  }
  // The messaging experiments' handshakes after their connects (EndpointSweep).
  if (auto it = measurement.test_keys.extra.find("x_tls_handshakes");
      it != measurement.test_keys.extra.end() && it->is_array()) {
    for (const auto& h : *it) {
      if (h.is_object() && h.value("failure", Json()) == "connection_reset" &&
          h.contains("address") && h["address"].is_string()) {
        out.tls_resets.insert(h["address"].get<std::string>());
      }
    }
  }
  for (const auto& c : measurement.test_keys.tcp_connect) {
    const std::string f = c.status.failure.value_or("");
    if (f == "connection_refused" || f == "connection_reset") {
      out.refused_connects.insert(JoinHostPort(c.ip, static_cast<uint16_t>(c.port)));
    }
  }
  return out;
}

void AttributeResidualBlocking(std::vector<RunSummary>& summaries,
                               const std::vector<ConnectionResets>& resets) {
  std::set<std::string> reset_anywhere;
  for (const auto& r : resets) reset_anywhere.insert(r.tls_resets.begin(), r.tls_resets.end());
  const size_t n = std::min(summaries.size(), resets.size());
  for (size_t i = 0; i < n; ++i) {
    RunSummary& s = summaries[i];
    const auto& refused = resets[i].refused_connects;
    if (s.blocking != "tcp_ip" || refused.empty()) continue;
    const bool all_residual = std::all_of(
        refused.begin(), refused.end(),
        [&reset_anywhere](const std::string& a) { return reset_anywhere.count(a) > 0; });
    if (!all_residual) continue;
    s.blocking = "tls";
    s.evidence +=
        " (residual block: a TLS handshake to the same address:port was reset "
        "earlier in this run)";
  }
}

}  // namespace vigil
