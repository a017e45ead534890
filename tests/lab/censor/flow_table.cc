#include "tests/lab/censor/flow_table.h"

#include <string_view>

namespace vigil::lab {

size_t FlowKeyHash::operator()(const FlowKey& k) const {
  std::string_view c(reinterpret_cast<const char*>(k.client.bytes.data()), 16);
  std::string_view s(reinterpret_cast<const char*>(k.server.bytes.data()), 16);
  size_t h = std::hash<std::string_view>()(c);
  h = h * 31 + std::hash<std::string_view>()(s);
  h = h * 31 + (static_cast<size_t>(k.client_port) << 24 | static_cast<size_t>(k.server_port) << 8 |
                k.proto);
  return h;
}

FlowTable::FlowTable(size_t max_flows, int64_t idle_ns, size_t max_stream_bytes)
    : max_flows_(max_flows), idle_ns_(idle_ns), max_stream_bytes_(max_stream_bytes) {}

FlowState* FlowTable::Get(const FlowKey& key, int64_t now_ns) {
  auto it = flows_.find(key);
  if (it == flows_.end()) {
    if (flows_.size() >= max_flows_) {
      Expire(now_ns);
      if (flows_.size() >= max_flows_) {
        // Full of live flows: sacrifice the stalest. Linear, but only under a flood.
        auto oldest = flows_.begin();
        for (auto i = flows_.begin(); i != flows_.end(); ++i) {
          if (i->second.last_seen_ns < oldest->second.last_seen_ns) oldest = i;
        }
        stream_bytes_ -= oldest->second.stream.size();
        flows_.erase(oldest);
      }
    }
    it = flows_.emplace(key, FlowState{}).first;
  }
  it->second.last_seen_ns = now_ns;
  return &it->second;
}

void FlowTable::Expire(int64_t now_ns) {
  for (auto it = flows_.begin(); it != flows_.end();) {
    if (now_ns - it->second.last_seen_ns > idle_ns_) {
      stream_bytes_ -= it->second.stream.size();
      it = flows_.erase(it);
    } else {
      ++it;
    }
  }
}

bool FlowTable::AppendStream(FlowState* flow, const uint8_t* data, size_t n) {
  if (stream_bytes_ + n > max_stream_bytes_) return false;
  flow->stream.append(reinterpret_cast<const char*>(data), n);
  stream_bytes_ += n;
  return true;
}

void FlowTable::ReleaseStream(FlowState* flow) {
  stream_bytes_ -= flow->stream.size();
  std::string().swap(flow->stream);
}

void FlowTable::Reset(FlowState* flow) {
  ReleaseStream(flow);
  int64_t seen = flow->last_seen_ns;
  *flow = FlowState{};
  flow->last_seen_ns = seen;
}

}  // namespace vigil::lab
