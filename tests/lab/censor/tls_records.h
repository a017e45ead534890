// TLS record boundaries in a client's byte stream, followed far enough to tell when
// its handshake is over: the start of the client's first application-data record.
// That is the second record after its ChangeCipherSpec (TLS 1.2: Finished, then data;
// TLS 1.3 in middlebox-compatibility mode: the encrypted Finished, then data), or,
// from a client that sends no ChangeCipherSpec, its second application_data record.
// A heuristic (a HelloRetryRequest's second ClientHello counts as a record), which is
// what a censor that waits for the handshake has to go on too. Plain data and a pure
// function; thread-compatible.
#pragma once

#include <cstdint>
#include <span>

namespace vigil::lab {

struct TlsRecordCursor {
  uint8_t header[5] = {};
  uint8_t header_len = 0;
  uint32_t body_left = 0;
  /// Not TLS, or the first application data was found: nothing more to follow.
  bool done = false;
  bool saw_ccs = false;
  uint8_t records_after_ccs = 0;
  uint8_t app_data_records = 0;
};

/// Advances `c` over `data`, the client's next bytes in stream order. True when the
/// client's first application-data record after its handshake starts within them
/// (at most once per stream).
bool AdvanceTlsRecords(std::span<const uint8_t> data, TlsRecordCursor* c);

}  // namespace vigil::lab
