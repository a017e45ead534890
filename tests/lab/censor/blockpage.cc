#include "tests/lab/censor/blockpage.h"

#include <string>

#include "tests/lab/censor/forge.h"

namespace vigil::lab {
namespace {

const char* ReasonPhrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 303:
      return "See Other";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 451:
      return "Unavailable For Legal Reasons";
    default:
      return "Blocked";
  }
}

}  // namespace

void InjectBlockpage(const BlockpageParams& b, const Frame& trigger, size_t client_mtu,
                     uint16_t server_window, InjectionRng* rng, std::vector<Outgoing>* out,
                     nlohmann::json* detail) {
  const Frame& f = trigger;
  std::string response =
      "HTTP/1.1 " + std::to_string(b.status) + " " + ReasonPhrase(b.status) + "\r\n";
  if (!b.location.empty()) response += "Location: " + b.location + "\r\n";
  response +=
      "Content-Type: text/html; charset=utf-8\r\nContent-Length: " + std::to_string(b.body.size()) +
      "\r\nConnection: close\r\n\r\n" + b.body;
  const uint32_t ack = f.seq + f.SeqLength();
  const size_t header = f.v6 ? 60 : 40;
  const size_t mss = client_mtu - header;
  MacPair back = MacPair::Of(f, true);
  uint32_t seq = f.ack;
  for (size_t off = 0; off < response.size(); off += mss) {
    std::string chunk = response.substr(off, mss);
    bool last = off + chunk.size() == response.size();
    IpFields ip{f.dst, f.src, 64, rng->IpId({}), true};
    TcpFields tcp{
        f.dport,      f.sport, seq, ack, static_cast<uint8_t>(kTcpAck | (last ? kTcpPsh : 0)),
        server_window};
    out->push_back({Side::kClient, ForgeTcpFrame(back, ip, tcp, chunk)});
    seq += static_cast<uint32_t>(chunk.size());
  }
  IpFields ip{f.dst, f.src, 64, rng->IpId({}), true};
  TcpFields close{f.dport,
                  f.sport,
                  seq,
                  ack,
                  static_cast<uint8_t>(b.then_rst ? (kTcpRst | kTcpAck) : (kTcpFin | kTcpAck)),
                  b.then_rst ? uint16_t{0} : server_window};
  out->push_back({Side::kClient, ForgeTcpFrame(back, ip, close, "")});
  if (!b.pass_trigger) {
    // The server never saw the request; reset it so it does not hold the connection.
    IpFields sip{f.src, f.dst, 64, rng->IpId({}), true};
    TcpFields srst{f.sport, f.dport, f.seq, f.ack, static_cast<uint8_t>(kTcpRst | kTcpAck), 0};
    out->push_back({Side::kServer, ForgeTcpFrame(MacPair::Of(f, false), sip, srst, "")});
  }
  (*detail)["status"] = b.status;
  (*detail)["then"] = b.then_rst ? "rst" : "fin";
  (*detail)["body_bytes"] = b.body.size();
  if (!b.location.empty()) (*detail)["location"] = b.location;
  (*detail)["trigger"] = b.pass_trigger ? "pass" : "drop";
}

}  // namespace vigil::lab
