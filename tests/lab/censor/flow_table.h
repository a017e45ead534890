// FlowTable: per-connection state of the censor (TCP and UDP), keyed by the flow as
// seen from the client side, with idle expiry and hard caps on the number of flows
// and on the bytes buffered for classification. Not thread-safe: one owner.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "tests/lab/censor/ip_prefix.h"
#include "tests/lab/censor/tls_records.h"

namespace vigil::lab {

struct Rule;

struct FlowKey {
  uint8_t proto = 0;
  IpAddress client, server;
  uint16_t client_port = 0, server_port = 0;
  bool operator==(const FlowKey&) const = default;
};

struct FlowKeyHash {
  size_t operator()(const FlowKey& k) const;
};

/// What the censor knows and has done about one flow.
struct FlowState {
  int64_t last_seen_ns = 0;

  // The client's first bytes, in order, until the flow is classified.
  bool have_next_seq = false;
  uint32_t next_seq = 0;
  std::string stream;
  /// The client's data segments that went into `stream` (1: the first bytes came in
  /// one segment, as a censor that does not reassemble needs them).
  uint16_t stream_segments = 0;
  bool classified = false;
  bool tls = false;
  std::string sni;  // empty when none
  bool http = false;
  std::string http_host;
  std::string http_path;
  /// The client's TLS records, to find its first application data (rules `at: app_data`).
  TlsRecordCursor tls_records;
  /// Whether the server has sent data yet (rules `at: response`).
  bool server_data_seen = false;

  // Keywords: which of the scenario's words the client has sent so far, and the
  // last bytes of its stream so a word split across segments is still found.
  std::vector<bool> words_seen;
  std::string tail;

  /// Set once a terminating action (RST, block page) fired: later packets vanish.
  bool killed = false;
  /// Rules already written to the ground truth for this flow (once-per-flow actions).
  std::vector<const Rule*> logged;
  /// On-path rules (trigger: pass) that already injected on this flow: they act once,
  /// and the flow's later packets pass.
  std::vector<const Rule*> injected;

  /// Departure time of the last frame sent each way (0 up, 1 down), so frames of a
  /// flow never overtake each other when delays or rates change.
  int64_t last_departure_ns[2] = {0, 0};
  /// Throttle state per direction: theoretical arrival time (GCRA).
  int64_t throttle_tat_ns[2] = {0, 0};

  // keyword_drop on TCP: byte ranges cut out of the client's stream (original
  // sequence numbers) so later segments are renumbered and the flow continues.
  std::vector<std::pair<uint32_t, uint32_t>> cuts;
  uint16_t server_window = 65535;
  /// The sequence number after the server's last segment seen (valid when
  /// have_server_next_seq): a RST forged from the server must carry it, for a client
  /// that has read more than its last ACK said (TLS 1.3's session tickets arrive after
  /// the client's request went out) drops any other as out of sequence (RFC 5961).
  bool have_server_next_seq = false;
  uint32_t server_next_seq = 0;
};

class FlowTable {
 public:
  FlowTable(size_t max_flows, int64_t idle_ns, size_t max_stream_bytes);

  /// The state of `key`, created if absent (evicting the stalest flow when full).
  FlowState* Get(const FlowKey& key, int64_t now_ns);
  /// Drops flows idle for longer than the idle timeout.
  void Expire(int64_t now_ns);
  /// Appends to flow->stream if the global buffer budget allows; false otherwise.
  bool AppendStream(FlowState* flow, const uint8_t* data, size_t n);
  /// Frees flow->stream.
  void ReleaseStream(FlowState* flow);
  /// Forgets everything about a flow (a new connection reusing its ports).
  void Reset(FlowState* flow);

  size_t size() const { return flows_.size(); }
  size_t stream_bytes() const { return stream_bytes_; }

 private:
  size_t max_flows_;
  int64_t idle_ns_;
  size_t max_stream_bytes_;
  size_t stream_bytes_ = 0;
  std::unordered_map<FlowKey, FlowState, FlowKeyHash> flows_;
};

}  // namespace vigil::lab
