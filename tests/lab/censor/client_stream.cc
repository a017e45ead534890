#include "tests/lab/censor/client_stream.h"

#include <algorithm>

#include "tests/lab/censor/http_request.h"
#include "tests/lab/censor/tls_client_hello.h"

namespace vigil::lab {
namespace {

constexpr size_t kMaxStreamPerFlow = 16 * 1024;

// Looks for a ClientHello or an HTTP request in the bytes buffered so far; once the
// flow is known (or can no longer be), frees the buffer.
void Classify(FlowState* flow, FlowTable* flows) {
  auto bytes = std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(flow->stream.data()),
                                        flow->stream.size());
  HelloResult hello = ParseClientHelloSni(bytes);
  bool done = false;
  if (hello.status == HelloStatus::kFound || hello.status == HelloStatus::kNoSni) {
    flow->tls = true;
    flow->sni = hello.sni;
    done = true;
  } else if (hello.status == HelloStatus::kNotTls) {
    HttpRequestInfo http = ParseHttpRequest(bytes);
    if (http.status == HttpStatus::kFound) {
      flow->http = true;
      flow->http_host = http.host;
      flow->http_path = http.path;
      done = true;
    } else if (http.status == HttpStatus::kNotHttp) {
      done = true;
    }
  }
  if (!done && flow->stream.size() >= kMaxStreamPerFlow) done = true;
  if (done) {
    flow->classified = true;
    flows->ReleaseStream(flow);
  }
}

}  // namespace

std::span<const uint8_t> AdvanceClientStream(const Frame& f, FlowState* flow, FlowTable* flows) {
  if ((f.tcp_flags & kTcpSyn) != 0) {
    flow->have_next_seq = true;
    flow->next_seq = f.seq + 1;
    return {};
  }
  if (!flow->have_next_seq) {
    // Joined mid-connection (e.g. the censor restarted): start from here.
    flow->have_next_seq = true;
    flow->next_seq = f.seq;
  }
  if (f.payload_len == 0) return {};
  int32_t rel = static_cast<int32_t>(f.seq - flow->next_seq);
  if (rel > 0) return {};  // a gap: wait for the retransmission that fills it
  size_t skip = static_cast<size_t>(-static_cast<int64_t>(rel));
  if (skip >= f.payload_len) return {};  // nothing new
  const uint8_t* data = f.bytes.data() + f.payload_offset + skip;
  size_t n = f.payload_len - skip;
  flow->next_seq += static_cast<uint32_t>(n);
  if (!flow->classified) {
    ++flow->stream_segments;
    size_t room = kMaxStreamPerFlow - flow->stream.size();
    if (!flows->AppendStream(flow, data, std::min(n, room))) {
      flow->classified = true;  // over the global budget: give up on this flow
      flows->ReleaseStream(flow);
    } else {
      Classify(flow, flows);
    }
  }
  return {data, n};
}

}  // namespace vigil::lab
