// Fuzz target for ParseStunMessage, which reads datagrams from anyone on the path of
// a stunreachability measurement. Besides crashes and sanitizer reports, it traps
// when an accepted message breaks the header's promises or an address does not
// print as an IP literal, and when a refusal comes without a one-line reason.
#include <arpa/inet.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "probe/stun/stun_message.h"

namespace vigil {
namespace {

void Check(bool condition) {
  if (!condition) __builtin_trap();
}

void CheckAddress(const std::optional<StunAddress>& address) {
  if (!address) return;
  unsigned char bytes[16];
  Check(inet_pton(AF_INET, address->ip.c_str(), bytes) == 1 ||
        inet_pton(AF_INET6, address->ip.c_str(), bytes) == 1);
}

}  // namespace
}  // namespace vigil

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  vigil::Result<vigil::StunMessage> m = vigil::ParseStunMessage(input);
  if (!m.ok()) {
    vigil::Check(!m.error().empty() && m.error().find('\n') == std::string::npos);
    return 0;
  }
  vigil::Check(size >= vigil::kStunHeaderSize && size % 4 == 0);
  vigil::Check((m->type & 0xC000) == 0);
  vigil::Check(std::string_view(reinterpret_cast<const char*>(m->transaction_id.data()), 12) ==
               input.substr(8, 12));
  vigil::CheckAddress(m->xor_mapped_address);
  vigil::CheckAddress(m->mapped_address);
  if (m->error_code) vigil::Check(*m->error_code >= 300 && *m->error_code <= 699);
  vigil::Check(m->error_reason.size() <= 128);
  return 0;
}
