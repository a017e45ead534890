#include "tests/lab/censor/tls_records.h"

#include <algorithm>

namespace vigil::lab {
namespace {

constexpr uint8_t kChangeCipherSpec = 20;
constexpr uint8_t kAlert = 21;
constexpr uint8_t kApplicationData = 23;

// A record starts: whether it is the first application data after the handshake.
bool RecordStarts(uint8_t type, TlsRecordCursor* c) {
  if (type == kChangeCipherSpec) {
    c->saw_ccs = true;
    c->records_after_ccs = 0;
    return false;
  }
  if (c->saw_ccs) return ++c->records_after_ccs == 2;
  return type == kApplicationData && ++c->app_data_records == 2;
}

}  // namespace

bool AdvanceTlsRecords(std::span<const uint8_t> data, TlsRecordCursor* c) {
  size_t i = 0;
  while (!c->done && i < data.size()) {
    if (c->body_left > 0) {
      size_t skip = std::min<size_t>(c->body_left, data.size() - i);
      c->body_left -= static_cast<uint32_t>(skip);
      i += skip;
      continue;
    }
    c->header[c->header_len++] = data[i++];
    if (c->header_len < 5) continue;
    c->header_len = 0;
    const uint8_t type = c->header[0];
    // Content types 20..23 and a 3.x version, else this is no TLS stream.
    if (type < kChangeCipherSpec || type > kApplicationData || c->header[1] != 3) {
      c->done = true;
      return false;
    }
    c->body_left = static_cast<uint32_t>(c->header[3] << 8 | c->header[4]);
    if (type != kAlert && RecordStarts(type, c)) {
      c->done = true;
      return true;
    }
  }
  return false;
}

}  // namespace vigil::lab
