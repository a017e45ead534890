// Fuzz target for the lab censor's ParseClientHelloSni and ParseHttpRequest, which
// read the first bytes of every client stream the censor watches. Besides crashes and
// sanitizer reports, it checks that reading is consistent as bytes arrive: a prefix of
// the stream never contradicts the whole (only "need more" may turn into an answer),
// and a name found is not empty.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "tests/fuzz/fuzz_check.h"
#include "tests/lab/censor/http_request.h"
#include "tests/lab/censor/tls_client_hello.h"

// The input is the start of a client's byte stream; byte 0 chooses where a first TCP
// segment would have ended (as a fraction of the rest).
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vigil::lab;
  if (size < 1) return 0;
  const std::span<const uint8_t> stream(data + 1, size - 1);
  const std::span<const uint8_t> prefix = stream.first(stream.size() * data[0] / 256);

  const HelloResult whole = ParseClientHelloSni(stream);
  const HelloResult start = ParseClientHelloSni(prefix);
  if (whole.status == HelloStatus::kFound) {
    FUZZ_CHECK(!whole.sni.empty() && whole.sni.size() <= 0xffff);
  } else {
    FUZZ_CHECK(whole.sni.empty());
  }
  if (start.status != HelloStatus::kNeedMore) {
    FUZZ_CHECK(start.status == whole.status && start.sni == whole.sni);
  }

  const HttpRequestInfo request = ParseHttpRequest(stream);
  const HttpRequestInfo request_start = ParseHttpRequest(prefix);
  if (request_start.status != HttpStatus::kNeedMore) {
    FUZZ_CHECK(request_start.status == request.status && request_start.host == request.host);
    FUZZ_CHECK(request_start.path == request.path && request_start.method == request.method);
  }
  if (request.status == HttpStatus::kFound) {
    FUZZ_CHECK(!request.method.empty());
    for (char c : request.host) FUZZ_CHECK(!(c >= 'A' && c <= 'Z') && c != '\n');
  }
  return 0;
}
