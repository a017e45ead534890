// Fuzz target for FindHeadEnd, ParseRequestHead and RequestBodyLength: how the
// collector and the helper read the head of every request sent to them. Besides
// crashes and sanitizer reports, it checks that the head's end is a line end, that an
// accepted head written back out parses to the same head, and that a refusal comes
// with a one-line reason.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "tests/fuzz/fuzz_check.h"
#include "vantage/http/request_head.h"

namespace vigil {
namespace {

bool OneLine(const std::string& s) { return !s.empty() && s.find('\n') == std::string::npos; }

std::string Serialize(const RequestHead& head) {
  std::string out =
      head.method + " " + head.target + " HTTP/1." + std::to_string(head.version_minor) + "\r\n";
  for (const auto& [name, value] : head.fields) out += name + ": " + value + "\r\n";
  return out + "\r\n";
}

void CheckAccepted(const RequestHead& head) {
  FUZZ_CHECK(!head.method.empty() && !head.target.empty());
  FUZZ_CHECK(head.version_minor == 0 || head.version_minor == 1);
  for (const auto& [name, value] : head.fields) {
    FUZZ_CHECK(!name.empty());
    for (char c : name + value) FUZZ_CHECK(c != '\r' && c != '\n' && c != '\0');
    FUZZ_CHECK(value.empty() || (value.front() != ' ' && value.back() != ' '));
  }
  const std::string wire = Serialize(head);
  FUZZ_CHECK(FindHeadEnd(wire) == wire.size());
  Result<RequestHead> again = ParseRequestHead(wire);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(again->method == head.method && again->target == head.target);
  FUZZ_CHECK(again->version_minor == head.version_minor && again->fields == head.fields);
  FUZZ_CHECK(again->KeepAlive() == head.KeepAlive());
  Result<size_t> length = RequestBodyLength(head);
  Result<size_t> length_again = RequestBodyLength(*again);
  FUZZ_CHECK(length.ok() == length_again.ok());
  if (length.ok()) {
    FUZZ_CHECK(*length == *length_again);
    if (!head.Field("Content-Length")) FUZZ_CHECK(*length == 0);
  } else {
    FUZZ_CHECK(OneLine(length.error()));
  }
}

}  // namespace
}  // namespace vigil

// The input is the start of a connection's bytes: the head the server would cut at
// FindHeadEnd, and the whole input as a head too.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vigil;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  if (std::optional<size_t> end = FindHeadEnd(bytes)) {
    FUZZ_CHECK(*end >= 2 && *end <= bytes.size() && bytes[*end - 1] == '\n');
    // The first blank line: no shorter prefix holds one.
    FUZZ_CHECK(!FindHeadEnd(bytes.substr(0, *end - 1)));
    Result<RequestHead> head = ParseRequestHead(bytes.substr(0, *end));
    if (head.ok()) {
      CheckAccepted(*head);
    } else {
      FUZZ_CHECK(OneLine(head.error()));
    }
  }
  Result<RequestHead> whole = ParseRequestHead(bytes);
  if (whole.ok()) {
    CheckAccepted(*whole);
  } else {
    FUZZ_CHECK(OneLine(whole.error()));
  }
  return 0;
}
