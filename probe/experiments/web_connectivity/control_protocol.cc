#include "probe/experiments/web_connectivity/control_protocol.h"

#include <algorithm>

#include "base/host_port.h"
#include "base/json_depth.h"
#include "probe/http/url.h"
#include "probe/measurement/measurement_json.h"

namespace vigil {

namespace {

Json FailureJson(const FailureString& f) { return f ? Json(*f) : Json(); }

std::string TypeOf(const Json& j) { return j.is_number() ? "number" : j.type_name(); }

Error WrongType(const std::string& key, const char* expected, const Json& got) {
  return Error{key + ": expected " + expected + ", got " + TypeOf(got)};
}

// Lenient readers for answers: null or absent reads as the default.
bool ReadFailure(const Json& obj, const char* key, const std::string& path, FailureString* out,
                 std::string* error) {
  if (!obj.contains(key) || obj[key].is_null()) return true;
  if (!obj[key].is_string()) {
    *error = WrongType(path + "." + key, "a string or null", obj[key]).message;
    return false;
  }
  *out = obj[key].get<std::string>();
  return true;
}

bool ReadString(const Json& obj, const char* key, const std::string& path, std::string* out,
                std::string* error) {
  if (!obj.contains(key) || obj[key].is_null()) return true;
  if (!obj[key].is_string()) {
    *error = WrongType(path + "." + key, "a string", obj[key]).message;
    return false;
  }
  *out = obj[key].get<std::string>();
  return true;
}

bool ReadInt(const Json& obj, const char* key, const std::string& path, int64_t* out,
             std::string* error) {
  if (!obj.contains(key) || obj[key].is_null()) return true;
  if (!obj[key].is_number()) {
    *error = WrongType(path + "." + key, "a number", obj[key]).message;
    return false;
  }
  *out = obj[key].is_number_float() ? static_cast<int64_t>(obj[key].get<double>())
                                    : obj[key].get<int64_t>();
  return true;
}

bool ReadBool(const Json& obj, const char* key, const std::string& path, bool* out,
              std::string* error) {
  if (!obj.contains(key) || obj[key].is_null()) return true;
  if (!obj[key].is_boolean()) {
    *error = WrongType(path + "." + key, "a boolean", obj[key]).message;
    return false;
  }
  *out = obj[key].get<bool>();
  return true;
}

// An object member that may be absent or null (read as empty).
const Json* ObjectOrNull(const Json& obj, const char* key, const std::string& path,
                         std::string* error) {
  static const Json kEmpty = Json::object();
  if (!obj.contains(key) || obj[key].is_null()) return &kEmpty;
  if (!obj[key].is_object()) {
    *error = WrongType(path + key, "an object", obj[key]).message;
    return nullptr;
  }
  return &obj[key];
}

// A name we may look up: letters, digits, '-' and '_' in dot-separated labels.
bool IsHostName(const std::string& s) {
  if (s.empty() || s.size() > 253) return false;
  size_t label = 0;
  for (char c : s) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
      continue;
    }
    const bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                         (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!allowed || ++label > 63) return false;
  }
  return label > 0;
}

// A list of at most `max` port numbers (1..65535), each once.
Result<std::vector<uint16_t>> PortsFromJson(const Json& j, const std::string& path, size_t max) {
  std::vector<uint16_t> out;
  if (j.is_null()) return out;
  if (!j.is_array()) return WrongType(path, "a list of port numbers", j);
  if (j.size() > max) {
    return Error{path + ": at most " + std::to_string(max) + " ports, got " +
                 std::to_string(j.size())};
  }
  for (size_t i = 0; i < j.size(); ++i) {
    const std::string at = path + "[" + std::to_string(i) + "]";
    if (!j[i].is_number_integer()) return WrongType(at, "a port number", j[i]);
    const int64_t port = j[i].get<int64_t>();
    if (port < 1 || port > 65535) {
      return Error{at + ": " + std::to_string(port) + " is not a port number (1 to 65535)"};
    }
    if (std::find(out.begin(), out.end(), port) != out.end()) {
      return Error{at + ": port " + std::to_string(port) + " is listed twice"};
    }
    out.push_back(static_cast<uint16_t>(port));
  }
  return out;
}

Result<ControlEndpoint> EndpointFromJson(const Json& j, const std::string& path) {
  if (!j.is_object()) return WrongType(path, "an object", j);
  ControlEndpoint e;
  if (!j.contains("host")) return Error{path + ".host: missing"};
  if (!j["host"].is_string()) return WrongType(path + ".host", "a string", j["host"]);
  e.host = j["host"].get<std::string>();
  if (!IsIpLiteral(e.host) && !IsHostName(e.host)) {
    return Error{path + ".host: '" + e.host + "' is neither a host name nor an IP address"};
  }
  if (j.contains("addrs") && !j["addrs"].is_null()) {
    const Json& a = j["addrs"];
    if (!a.is_array()) return WrongType(path + ".addrs", "a list of IP addresses", a);
    if (a.size() > kMaxControlEndpointAddrs) {
      return Error{path + ".addrs: at most " + std::to_string(kMaxControlEndpointAddrs) +
                   " addresses, got " + std::to_string(a.size())};
    }
    for (size_t i = 0; i < a.size(); ++i) {
      const std::string at = path + ".addrs[" + std::to_string(i) + "]";
      if (!a[i].is_string()) return WrongType(at, "an IP address", a[i]);
      const std::string ip = a[i].get<std::string>();
      if (!IsIpLiteral(ip)) return Error{at + ": '" + ip + "' is not an IP address"};
      e.addrs.push_back(ip);
    }
  }
  auto ports = PortsFromJson(j.value("ports", Json()), path + ".ports", kMaxControlEndpointPorts);
  if (!ports.ok()) return Error{ports.error()};
  e.ports = std::move(*ports);
  auto tls =
      PortsFromJson(j.value("tls_ports", Json()), path + ".tls_ports", kMaxControlEndpointPorts);
  if (!tls.ok()) return Error{tls.error()};
  for (size_t i = 0; i < tls->size(); ++i) {
    if (std::find(e.ports.begin(), e.ports.end(), (*tls)[i]) == e.ports.end()) {
      return Error{path + ".tls_ports[" + std::to_string(i) + "]: " + std::to_string((*tls)[i]) +
                   " is not among ports"};
    }
  }
  e.tls_ports = std::move(*tls);
  if (j.contains("sni") && !j["sni"].is_null()) {
    if (!j["sni"].is_string()) return WrongType(path + ".sni", "a string", j["sni"]);
    e.sni = j["sni"].get<std::string>();
    if (!IsIpLiteral(e.sni) && !IsHostName(e.sni)) {
      return Error{path + ".sni: '" + e.sni + "' is neither a host name nor an IP address"};
    }
  }
  return e;
}

Json ToJson(const ControlEndpoint& e) {
  Json j{{"host", e.host}, {"addrs", e.addrs}, {"ports", e.ports}};
  if (!e.tls_ports.empty()) j["tls_ports"] = e.tls_ports;
  if (!e.sni.empty()) j["sni"] = e.sni;
  return j;
}

bool ReadDns(const Json& value, const std::string& path, ControlDns* out, std::string* error) {
  if (!ReadFailure(value, "failure", path, &out->failure, error)) return false;
  if (value.contains("addrs") && !value["addrs"].is_null()) {
    const Json& addrs = value["addrs"];
    if (!addrs.is_array()) {
      *error = WrongType(path + ".addrs", "a list of strings", addrs).message;
      return false;
    }
    for (const auto& a : addrs) {
      if (!a.is_string()) {
        *error = WrongType(path + ".addrs[]", "a string", a).message;
        return false;
      }
      out->addrs.push_back(a.get<std::string>());
    }
  }
  return true;
}

Result<ControlEndpointsAnswer> EndpointsAnswerFromJson(const Json& j) {
  if (!j.is_object()) return WrongType("x_endpoints", "an object", j);
  ControlEndpointsAnswer a;
  std::string error;
  const Json* dns = ObjectOrNull(j, "dns", "x_endpoints.", &error);
  if (!dns) return Error{error};
  for (const auto& [name, value] : dns->items()) {
    const std::string path = "x_endpoints.dns." + name;
    if (!value.is_object()) return WrongType(path, "an object", value);
    if (!ReadDns(value, path, &a.dns[name], &error)) return Error{error};
  }
  const Json* tcp = ObjectOrNull(j, "tcp_connect", "x_endpoints.", &error);
  if (!tcp) return Error{error};
  for (const auto& [endpoint, value] : tcp->items()) {
    const std::string path = "x_endpoints.tcp_connect." + endpoint;
    if (!value.is_object()) return WrongType(path, "an object", value);
    ControlTcpConnect& c = a.tcp_connect[endpoint];
    if (!ReadBool(value, "status", path, &c.status, &error) ||
        !ReadFailure(value, "failure", path, &c.failure, &error)) {
      return Error{error};
    }
  }
  const Json* tls = ObjectOrNull(j, "tls_handshake", "x_endpoints.", &error);
  if (!tls) return Error{error};
  for (const auto& [endpoint, by_name] : tls->items()) {
    const std::string path = "x_endpoints.tls_handshake." + endpoint;
    if (!by_name.is_object()) return WrongType(path, "an object", by_name);
    for (const auto& [name, value] : by_name.items()) {
      const std::string at = path + "." + name;
      if (!value.is_object()) return WrongType(at, "an object", value);
      ControlTlsHandshake& h = a.tls_handshake[endpoint][name];
      h.server_name = name;
      if (!ReadBool(value, "status", at, &h.status, &error) ||
          !ReadFailure(value, "failure", at, &h.failure, &error)) {
        return Error{error};
      }
    }
  }
  const Json* skipped = ObjectOrNull(j, "not_measured", "x_endpoints.", &error);
  if (!skipped) return Error{error};
  for (const auto& [endpoint, why] : skipped->items()) {
    if (!why.is_string()) {
      return WrongType("x_endpoints.not_measured." + endpoint, "a string", why);
    }
    a.not_measured[endpoint] = why.get<std::string>();
  }
  return a;
}

}  // namespace

Result<Json> ParseControlJson(std::string_view text) {
  if (auto offset = JsonNestedDeeperThan(text, kMaxControlJsonDepth)) {
    return Error{"byte offset " + std::to_string(*offset) + ": JSON nested deeper than " +
                 std::to_string(kMaxControlJsonDepth) + " levels"};
  }
  try {
    return Json::parse(text);
  } catch (const Json::exception& e) {
    // Not only parse_error: a number too large for a double ("1e999") is out_of_range.
    std::string what = e.what();
    // Drop nlohmann's "[json.exception.parse_error.101] " prefix.
    if (size_t space = what.find("] "); space != std::string::npos) what.erase(0, space + 2);
    return Error{what};
  }
}

Json ToJson(const ControlRequest& r) {
  Json j = Json::object();
  if (!r.http_request.empty() || r.x_endpoints.empty()) {
    Json headers = Json::object();
    for (const auto& [name, values] : r.http_request_headers) headers[name] = values;
    j = Json{{"http_request", r.http_request},
             {"http_request_headers", headers},
             {"tcp_connect", r.tcp_connect},
             {"x_quic_enabled", r.x_quic_enabled}};
  }
  if (!r.x_endpoints.empty()) {
    Json endpoints = Json::array();
    for (const auto& e : r.x_endpoints) endpoints.push_back(ToJson(e));
    j["x_endpoints"] = endpoints;
  }
  return j;
}

Json ToJson(const ControlEndpointsAnswer& a) {
  Json dns = Json::object();
  for (const auto& [name, d] : a.dns) {
    dns[name] = Json{{"failure", FailureJson(d.failure)}, {"addrs", d.addrs}};
  }
  Json tcp = Json::object();
  for (const auto& [endpoint, c] : a.tcp_connect) {
    tcp[endpoint] = Json{{"status", c.status}, {"failure", FailureJson(c.failure)}};
  }
  Json tls = Json::object();
  for (const auto& [endpoint, by_name] : a.tls_handshake) {
    Json& e = tls[endpoint] = Json::object();
    for (const auto& [name, h] : by_name) {
      e[name] = Json{{"status", h.status}, {"failure", FailureJson(h.failure)}};
    }
  }
  Json skipped = Json::object();
  for (const auto& [endpoint, why] : a.not_measured) skipped[endpoint] = why;
  return Json{
      {"dns", dns}, {"tcp_connect", tcp}, {"tls_handshake", tls}, {"not_measured", skipped}};
}

Json ToJson(const ControlResponse& r) {
  Json tcp = Json::object();
  for (const auto& [endpoint, c] : r.tcp_connect) {
    tcp[endpoint] = Json{{"status", c.status}, {"failure", FailureJson(c.failure)}};
  }
  Json tls = Json::object();
  for (const auto& [endpoint, h] : r.tls_handshake) {
    tls[endpoint] = Json{
        {"server_name", h.server_name}, {"status", h.status}, {"failure", FailureJson(h.failure)}};
  }
  Json headers = Json::object();
  for (const auto& [name, value] : r.http_request.headers) headers[name] = value;
  Json ip_info = Json::object();
  for (const auto& [ip, info] : r.ip_info)
    ip_info[ip] = Json{{"asn", info.asn}, {"flags", info.flags}};
  Json j{
      {"tcp_connect", tcp},
      {"tls_handshake", tls},
      // We measure no QUIC: an empty map and a null HTTP/3 result, as OONI's helper
      // answers clients that do not ask for QUIC.
      {"quic_handshake", Json::object()},
      {"http_request", Json{{"body_length", r.http_request.body_length},
                            {"discovered_h3_endpoint", r.http_request.discovered_h3_endpoint},
                            {"failure", FailureJson(r.http_request.failure)},
                            {"title", r.http_request.title},
                            {"headers", headers},
                            {"status_code", r.http_request.status_code}}},
      {"http3_request", nullptr},
      {"dns", Json{{"failure", FailureJson(r.dns.failure)}, {"addrs", r.dns.addrs}}},
      {"ip_info", ip_info},
  };
  if (r.x_endpoints) j["x_endpoints"] = ToJson(*r.x_endpoints);
  return j;
}

Result<ControlRequest> ControlRequestFromJson(const Json& j) {
  if (!j.is_object()) return WrongType("request", "an object", j);
  ControlRequest r;
  const bool endpoints = j.contains("x_endpoints") && !j["x_endpoints"].is_null();
  if (endpoints) {
    const Json& x = j["x_endpoints"];
    if (!x.is_array()) return WrongType("x_endpoints", "a list of endpoints", x);
    if (x.empty() || x.size() > kMaxControlEndpoints) {
      return Error{"x_endpoints: expected 1 to " + std::to_string(kMaxControlEndpoints) +
                   " endpoints, got " + std::to_string(x.size())};
    }
    for (size_t i = 0; i < x.size(); ++i) {
      auto e = EndpointFromJson(x[i], "x_endpoints[" + std::to_string(i) + "]");
      if (!e.ok()) return Error{e.error()};
      r.x_endpoints.push_back(std::move(*e));
    }
  }
  // A messaging measurement's control asks about its endpoints alone.
  if (!j.contains("http_request") && endpoints) return r;
  if (!j.contains("http_request")) return Error{"http_request: missing"};
  if (!j["http_request"].is_string())
    return WrongType("http_request", "a string", j["http_request"]);
  r.http_request = j["http_request"].get<std::string>();
  if (auto url = ParseUrl(r.http_request); !url.ok()) {
    return Error{"http_request: " + url.error()};
  }

  if (j.contains("http_request_headers") && !j["http_request_headers"].is_null()) {
    const Json& h = j["http_request_headers"];
    if (!h.is_object()) return WrongType("http_request_headers", "an object", h);
    for (const auto& [name, values] : h.items()) {
      const std::string path = "http_request_headers." + name;
      if (values.is_string()) {
        r.http_request_headers[name].push_back(values.get<std::string>());
        continue;
      }
      if (!values.is_array()) return WrongType(path, "a list of strings", values);
      for (const auto& v : values) {
        if (!v.is_string()) return WrongType(path + "[]", "a string", v);
        r.http_request_headers[name].push_back(v.get<std::string>());
      }
    }
  }

  if (j.contains("tcp_connect") && !j["tcp_connect"].is_null()) {
    const Json& t = j["tcp_connect"];
    if (!t.is_array()) return WrongType("tcp_connect", "a list of \"ip:port\" strings", t);
    for (size_t i = 0; i < t.size(); ++i) {
      const std::string path = "tcp_connect[" + std::to_string(i) + "]";
      if (!t[i].is_string()) return WrongType(path, "an \"ip:port\" string", t[i]);
      const std::string endpoint = t[i].get<std::string>();
      auto hp = ParseHostPort(endpoint);
      if (!hp.ok()) return Error{path + ": " + hp.error()};
      if (!IsIpLiteral(hp->host)) return Error{path + ": '" + endpoint + "' is not an IP address"};
      r.tcp_connect.push_back(endpoint);
    }
  }

  std::string error;
  if (!ReadBool(j, "x_quic_enabled", "request", &r.x_quic_enabled, &error)) {
    return Error{"x_quic_enabled: expected a boolean"};
  }
  return r;
}

Result<ControlResponse> ControlResponseFromJson(const Json& j) {
  if (!j.is_object()) return WrongType("response", "an object", j);
  ControlResponse r;
  std::string error;

  const Json* tcp = ObjectOrNull(j, "tcp_connect", "", &error);
  if (!tcp) return Error{error};
  for (const auto& [endpoint, value] : tcp->items()) {
    const std::string path = "tcp_connect." + endpoint;
    if (!value.is_object()) return WrongType(path, "an object", value);
    ControlTcpConnect c;
    if (!ReadBool(value, "status", path, &c.status, &error) ||
        !ReadFailure(value, "failure", path, &c.failure, &error)) {
      return Error{error};
    }
    r.tcp_connect[endpoint] = c;
  }

  const Json* tls = ObjectOrNull(j, "tls_handshake", "", &error);
  if (!tls) return Error{error};
  for (const auto& [endpoint, value] : tls->items()) {
    const std::string path = "tls_handshake." + endpoint;
    if (!value.is_object()) return WrongType(path, "an object", value);
    ControlTlsHandshake h;
    if (!ReadString(value, "server_name", path, &h.server_name, &error) ||
        !ReadBool(value, "status", path, &h.status, &error) ||
        !ReadFailure(value, "failure", path, &h.failure, &error)) {
      return Error{error};
    }
    r.tls_handshake[endpoint] = h;
  }

  const Json* http = ObjectOrNull(j, "http_request", "", &error);
  if (!http) return Error{error};
  {
    const std::string path = "http_request";
    ControlHttpRequest& h = r.http_request;
    if (!ReadInt(*http, "body_length", path, &h.body_length, &error) ||
        !ReadString(*http, "discovered_h3_endpoint", path, &h.discovered_h3_endpoint, &error) ||
        !ReadFailure(*http, "failure", path, &h.failure, &error) ||
        !ReadString(*http, "title", path, &h.title, &error) ||
        !ReadInt(*http, "status_code", path, &h.status_code, &error)) {
      return Error{error};
    }
    const Json* headers = ObjectOrNull(*http, "headers", "http_request.", &error);
    if (!headers) return Error{error};
    for (const auto& [name, value] : headers->items()) {
      // Old helpers sent lists of values; keep the first.
      if (value.is_array() && !value.empty() && value[0].is_string()) {
        h.headers[name] = value[0].get<std::string>();
      } else if (value.is_string()) {
        h.headers[name] = value.get<std::string>();
      } else {
        return WrongType(path + ".headers." + name, "a string", value);
      }
    }
  }

  const Json* dns = ObjectOrNull(j, "dns", "", &error);
  if (!dns) return Error{error};
  if (!ReadFailure(*dns, "failure", "dns", &r.dns.failure, &error)) return Error{error};
  if (dns->contains("addrs") && !(*dns)["addrs"].is_null()) {
    const Json& addrs = (*dns)["addrs"];
    if (!addrs.is_array()) return WrongType("dns.addrs", "a list of strings", addrs);
    for (const auto& a : addrs) {
      if (!a.is_string()) return WrongType("dns.addrs[]", "a string", a);
      r.dns.addrs.push_back(a.get<std::string>());
    }
  }

  const Json* ip_info = ObjectOrNull(j, "ip_info", "", &error);
  if (!ip_info) return Error{error};
  for (const auto& [ip, value] : ip_info->items()) {
    const std::string path = "ip_info." + ip;
    if (!value.is_object()) return WrongType(path, "an object", value);
    ControlIpInfo info;
    if (!ReadInt(value, "asn", path, &info.asn, &error) ||
        !ReadInt(value, "flags", path, &info.flags, &error)) {
      return Error{error};
    }
    r.ip_info[ip] = info;
  }

  if (j.contains("x_endpoints") && !j["x_endpoints"].is_null()) {
    auto endpoints = EndpointsAnswerFromJson(j["x_endpoints"]);
    if (!endpoints.ok()) return Error{endpoints.error()};
    r.x_endpoints = std::move(*endpoints);
  }
  return r;
}

}  // namespace vigil
