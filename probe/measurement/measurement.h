// The OONI measurement model: the df-000 base envelope and the extensions that
// observers fill (dnst queries, tcpconnect, tlshandshake, httpt requests,
// netevents), as plain C++ values with JSON conversion in measurement_json.h.
// Unknown keys are kept in `extra` and known keys' odd spellings in `spellings`, so
// a parsed document is written back unchanged. Plain value types; not synchronised.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace vigil {

using Json = nlohmann::json;

/// An OONI failure string ("connection_reset", ...) or nullopt for success.
using FailureString = std::optional<std::string>;

/// How a parsed document wrote one known key where ToJson would write something
/// else for the same value: the key left out, null for an empty string or list, false
/// for "no failure" (old probes), base64 for a UTF-8 header, ... OONI's probes and
/// their versions disagree on these, and the model keeps one value per field, so
/// the document's own spelling is remembered instead. ToJson writes `written` (or
/// leaves the key out when nullopt) for as long as the field still renders as
/// `rendered`; once the field is changed, its normal rendering takes over.
struct KeySpelling {
  std::optional<Json> written;
  std::optional<Json> rendered;
};

/// By JSON key. Filled by MeasurementFromJson; structs built in C++ leave it empty.
using KeySpellings = std::map<std::string, KeySpelling>;

/// Fields every extension entry carries: times in seconds since the measurement
/// started, and the id of the transaction (one logical exchange) it belongs to.
struct Timing {
  std::optional<double> t0;
  double t = 0;
  std::optional<int64_t> transaction_id;
  std::optional<std::vector<std::string>> tags;
};

/// One answer of a DNS query (dnst).
struct DnsAnswer {
  std::string answer_type;  // "A", "AAAA", "CNAME", ...
  std::optional<std::string> ipv4;
  std::optional<std::string> ipv6;
  std::optional<std::string> hostname;
  std::optional<int64_t> ttl;
  std::optional<int64_t> asn;
  std::optional<std::string> as_org_name;
  Json extra;  // keys of no field here; null until one is added
  KeySpellings spellings = {};
};

/// One DNS round trip or system lookup (dnst `queries[]`).
struct DnsQuery {
  std::string hostname;
  std::string query_type;  // "A", "AAAA"; "ANY" for one getaddrinfo call
  std::string engine;      // "getaddrinfo", "udp", "tcp", ...
  std::string resolver_hostname;
  std::optional<std::string> resolver_address;
  int64_t resolver_port = 0;
  FailureString failure;
  std::optional<int64_t> rcode;
  std::optional<std::string> raw_response;  // base64 of the DNS message
  std::vector<DnsAnswer> answers;
  Timing timing;
  Json extra;  // keys of no field here; null until one is added
  KeySpellings spellings = {};
};

struct TcpConnectStatus {
  bool success = false;
  FailureString failure;
  std::optional<bool> blocked;
  Json extra;  // keys of no field here; null until one is added
  KeySpellings spellings = {};
};

/// One TCP connect attempt (tcpconnect `tcp_connect[]`).
struct TcpConnect {
  std::string ip;
  int64_t port = 0;
  TcpConnectStatus status;
  Timing timing;
  Json extra;  // keys of no field here; null until one is added
  KeySpellings spellings = {};
};

/// One TLS handshake (tlshandshake `tls_handshakes[]`).
struct TlsHandshake {
  std::string network;  // "tcp"
  std::string address;  // "ip:port" or "[ipv6]:port"
  std::string server_name;
  std::string cipher_suite;
  std::string negotiated_protocol;
  std::string tls_version;
  std::vector<std::string> peer_certificates;  // DER, base64-encoded
  bool no_tls_verify = false;
  FailureString failure;
  Timing timing;
  Json extra;  // keys of no field here; null until one is added
  KeySpellings spellings = {};
};

/// An HTTP body: raw bytes. Serialised as a JSON string when valid UTF-8,
/// else as {"format":"base64","data":...}, as OONI does.
struct HttpBody {
  std::string bytes;
};

struct HttpRequest {
  std::string url;
  std::string method;
  // Names and values are raw bytes; JSON carries the non-UTF-8 ones in base64.
  std::vector<std::pair<std::string, std::string>> headers_list;  // wire order
  // One value per name (OONI's map); ToJson derives it from headers_list when empty.
  std::map<std::string, std::string> headers;
  HttpBody body;
  bool body_is_truncated = false;
  Json extra;  // keys of no field here; null until one is added
  KeySpellings spellings = {};
};

struct HttpResponse {
  int64_t code = 0;
  std::vector<std::pair<std::string, std::string>> headers_list;  // as in HttpRequest
  std::map<std::string, std::string> headers;
  HttpBody body;
  bool body_is_truncated = false;
  std::optional<std::string> x_title;  // <title> of the body, when there is one
  Json extra;                          // keys of no field here; null until one is added
  KeySpellings spellings = {};
};

/// One HTTP round trip (httpt `requests[]`, newest first in the measurement).
struct HttpTransaction {
  std::string network;  // "tcp"
  std::string address;  // "ip:port"
  std::string alpn;
  FailureString failure;
  HttpRequest request;
  HttpResponse response;
  Timing timing;
  Json extra;  // keys of no field here; null until one is added
  KeySpellings spellings = {};
};

/// One low-level I/O event (netevents `network_events[]`).
struct NetworkEvent {
  std::string operation;  // connect, read, write, resolve_start, tls_handshake_done, ...
  std::optional<std::string> address;
  std::optional<std::string> proto;
  std::optional<int64_t> num_bytes;
  FailureString failure;
  Timing timing;
  Json extra;  // keys of no field here; null until one is added
  KeySpellings spellings = {};
};

/// The observation arrays shared by all experiments; experiment-specific keys
/// (whatsapp_endpoints_status, blocking, ...) live in `extra`.
/// A TCP flow a measurement opened, for the packet capture to find its segments: never
/// serialised (the local port stays on the machine with the capture).
struct FlowNote {
  int64_t transaction_id = 0;
  std::string ip;  // the server's address as contacted
  uint16_t port = 0;
  uint16_t local_port = 0;  // 0 when the socket never got one
  double t0 = 0;            // seconds since the measurement's start
};

struct TestKeys {
  std::vector<DnsQuery> queries;
  std::vector<TcpConnect> tcp_connect;
  std::vector<TlsHandshake> tls_handshakes;
  std::vector<HttpTransaction> requests;
  std::vector<NetworkEvent> network_events;
  FailureString failure;
  std::optional<std::string> failed_operation;
  Json extra = Json::object();
  KeySpellings spellings = {};
  std::vector<FlowNote> flows = {};  // runtime only (not in the JSON): see FlowNote
};

/// The df-000 envelope.
struct Measurement {
  std::map<std::string, std::string> annotations;
  std::string data_format_version = "0.2.0";
  std::map<std::string, int64_t> extensions;
  Json input;                          // null, or a string (URL, host:port, ...)
  std::string measurement_start_time;  // "YYYY-MM-DD hh:mm:ss" UTC
  std::string test_start_time;
  std::string probe_asn = "AS0";
  std::string probe_cc = "ZZ";
  std::string probe_ip = "127.0.0.1";
  std::string probe_network_name;
  std::string report_id;
  std::string resolver_asn = "AS0";
  std::string resolver_ip;
  std::string resolver_network_name;
  std::string software_name = "vigil";
  std::string software_version;
  Json test_helpers;
  TestKeys test_keys;
  std::string test_name;
  double test_runtime = 0;
  std::string test_version;
  Json extra = Json::object();
  KeySpellings spellings = {};
};

}  // namespace vigil
