#include "vantage/helper/whoami_dns.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <asio/io_context.hpp>
#include <asio/ip/udp.hpp>
#include <cctype>
#include <chrono>
#include <random>

#include "probe/dns/dns_message.h"

namespace vigil {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  while (!out.empty() && out.back() == '.') out.pop_back();
  return out;
}

void Put16(std::string& out, uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v & 0xff));
}

// The question section of a message: from byte 12 to the end of its QTYPE/QCLASS.
std::optional<size_t> QuestionEnd(std::string_view m) {
  size_t at = 12;
  while (at < m.size()) {
    const auto len = static_cast<unsigned char>(m[at]);
    if (len == 0) {
      at += 1;
      return at + 4 <= m.size() ? std::optional(at + 4) : std::nullopt;
    }
    if (len > 63) return std::nullopt;  // no compression in a question we accept
    at += 1 + len;
  }
  return std::nullopt;
}

}  // namespace

std::string WhoamiQuery(uint16_t id, std::string_view name) {
  std::string q;
  Put16(q, id);
  Put16(q, 0x0100);  // RD
  Put16(q, 1);
  Put16(q, 0);
  Put16(q, 0);
  Put16(q, 0);
  size_t start = 0;
  const std::string n = Lower(name);
  while (start <= n.size()) {
    size_t dot = n.find('.', start);
    if (dot == std::string::npos) dot = n.size();
    const size_t len = std::min<size_t>(dot - start, 63);
    if (len > 0) {
      q.push_back(static_cast<char>(len));
      q.append(n, start, len);
    }
    start = dot + 1;
  }
  q.push_back('\0');
  Put16(q, 1);  // A
  Put16(q, 1);  // IN
  return q;
}

std::string WhoamiAnswer(std::string_view query, std::string_view zone,
                         std::string_view source_ip) {
  if (query.size() < 12 || query.size() > 512) return "";
  if (static_cast<unsigned char>(query[2]) & 0x80) return "";  // a response, not a query
  if (query[4] != 0 || query[5] != 1) return "";               // exactly one question
  auto end = QuestionEnd(query);
  if (!end) return "";
  // The question, read here (a query is not a response: ParseDnsResponse refuses it).
  std::string qname;
  for (size_t at = 12; static_cast<unsigned char>(query[at]) != 0;) {
    const auto len = static_cast<unsigned char>(query[at]);
    if (!qname.empty()) qname.push_back('.');
    qname.append(query.substr(at + 1, len));
    at += 1 + len;
  }
  const std::string name = Lower(qname);
  const std::string suffix = Lower(zone);
  const bool inside =
      name == suffix || (name.size() > suffix.size() &&
                         name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0 &&
                         name[name.size() - suffix.size() - 1] == '.');
  in_addr v4{};
  in6_addr v6{};
  const std::string source(source_ip);
  const bool is_v4 = inet_pton(AF_INET, source.c_str(), &v4) == 1;
  const bool is_v6 = !is_v4 && inet_pton(AF_INET6, source.c_str(), &v6) == 1;
  const uint16_t qtype = static_cast<uint16_t>((static_cast<unsigned char>(query[*end - 4]) << 8) |
                                               static_cast<unsigned char>(query[*end - 3]));
  std::string out(query.substr(0, 2));  // the id
  const uint16_t rd = static_cast<uint16_t>((static_cast<unsigned char>(query[2]) & 0x01) << 8);
  // ANY is answered with the source's own type, and not at all when the source is
  // no address (an AAAA of zeros would be a lie).
  const bool answer = inside && ((qtype == 1 && is_v4) || (qtype == 28 && is_v6) ||
                                 (qtype == 255 && (is_v4 || is_v6)));
  // QR, AA, RD as asked; REFUSED outside the zone; NOERROR (maybe no data) inside.
  Put16(out, static_cast<uint16_t>(0x8400 | rd | (inside ? 0 : 5)));
  Put16(out, 1);
  Put16(out, answer ? 1 : 0);
  Put16(out, 0);
  Put16(out, 0);
  out.append(query.substr(12, *end - 12));
  if (answer) {
    Put16(out, 0xc00c);  // the question's name
    Put16(out, is_v4 ? 1 : 28);
    Put16(out, 1);
    Put16(out, 0);
    Put16(out, 0);  // TTL 0
    if (is_v4) {
      Put16(out, 4);
      out.append(reinterpret_cast<const char*>(&v4), 4);
    } else {
      Put16(out, 16);
      out.append(reinterpret_cast<const char*>(&v6), 16);
    }
  }
  return out;
}

struct WhoamiDnsServer::Impl {
  std::string zone, ip;
  uint16_t port;
  asio::io_context io{1};
  std::optional<asio::ip::udp::socket> socket;
};

WhoamiDnsServer::WhoamiDnsServer(std::string zone, std::string listen_ip, uint16_t port)
    : impl_(std::make_unique<Impl>()) {
  impl_->zone = std::move(zone);
  impl_->ip = std::move(listen_ip);
  impl_->port = port;
}

WhoamiDnsServer::~WhoamiDnsServer() { Stop(); }

Result<uint16_t> WhoamiDnsServer::Bind() {
  asio::error_code ec;
  const auto address = asio::ip::make_address(impl_->ip, ec);
  if (ec) return Error{"whoami DNS: '" + impl_->ip + "' is not an IP address"};
  asio::ip::udp::socket s(impl_->io);
  const asio::ip::udp::endpoint endpoint(address, impl_->port);
  s.open(endpoint.protocol(), ec);
  if (!ec) s.bind(endpoint, ec);
  if (ec)
    return Error{"whoami DNS: cannot listen on " + impl_->ip + ":" + std::to_string(impl_->port) +
                 ": " + ec.message()};
  const uint16_t port = s.local_endpoint(ec).port();
  impl_->socket.emplace(std::move(s));
  return port;
}

void WhoamiDnsServer::Serve() {
  if (!impl_->socket) return;
  auto buffer = std::make_shared<std::array<char, 1500>>();
  auto from = std::make_shared<asio::ip::udp::endpoint>();
  std::function<void()> receive;
  receive = [this, buffer, from, &receive] {
    impl_->socket->async_receive_from(
        asio::buffer(*buffer), *from,
        [this, buffer, from, &receive](asio::error_code ec, size_t n) {
          if (ec == asio::error::operation_aborted) return;
          if (!ec) {
            auto address = from->address();
            if (address.is_v6() && address.to_v6().is_v4_mapped()) {
              address = asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
            }
            const std::string reply =
                WhoamiAnswer(std::string_view(buffer->data(), n), impl_->zone, address.to_string());
            asio::error_code ignored;
            if (!reply.empty()) impl_->socket->send_to(asio::buffer(reply), *from, 0, ignored);
          }
          receive();
        });
  };
  receive();
  impl_->io.run();
}

void WhoamiDnsServer::Stop() { impl_->io.stop(); }

Result<std::string> LookupWhoami(const std::string& resolver_ip, uint16_t port,
                                 const std::string& name, int timeout_ms) {
  sockaddr_storage addr{};
  socklen_t len = 0;
  auto* a4 = reinterpret_cast<sockaddr_in*>(&addr);
  auto* a6 = reinterpret_cast<sockaddr_in6*>(&addr);
  if (inet_pton(AF_INET, resolver_ip.c_str(), &a4->sin_addr) == 1) {
    a4->sin_family = AF_INET;
    a4->sin_port = htons(port);
    len = sizeof(sockaddr_in);
  } else if (inet_pton(AF_INET6, resolver_ip.c_str(), &a6->sin6_addr) == 1) {
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons(port);
    len = sizeof(sockaddr_in6);
  } else {
    return Error{"resolver '" + resolver_ip + "' is not an IP address"};
  }
  const int fd = ::socket(addr.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Error{"socket: cannot create"};
  std::random_device rd;
  const auto id = static_cast<uint16_t>(rd());
  const std::string query = WhoamiQuery(id, name);
  // Connected: the kernel drops datagrams from anyone but the resolver.
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
      ::send(fd, query.data(), query.size(), 0) < 0) {
    ::close(fd);
    return Error{"resolver " + resolver_ip + ": cannot send"};
  }
  char buf[1500];
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd p{fd, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
      ::close(fd);
      return Error{"resolver " + resolver_ip + ": no answer for " + name +
                   " (generic_timeout_error)"};
    }
    const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) continue;
    auto response = ParseDnsResponse(std::string_view(buf, static_cast<size_t>(n)));
    if (!response.ok() || response->id != id || Lower(response->question_name) != Lower(name)) {
      continue;  // not the answer to our question: keep waiting, until the deadline
    }
    ::close(fd);
    if (response->rcode != 0) {
      return Error{"resolver " + resolver_ip + ": " + name + " answered with rcode " +
                   std::to_string(response->rcode)};
    }
    for (const auto& a : response->answers) {
      if (a.ipv4) return *a.ipv4;
      if (a.ipv6) return *a.ipv6;
    }
    return Error{"resolver " + resolver_ip + ": no address for " + name};
  }
}

}  // namespace vigil
