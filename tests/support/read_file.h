// ReadFileOrFail: a whole file a test needs (a fixture, a list, what a server wrote),
// read with base's ReadWholeFile; a file that cannot be read is a test failure that
// names it and says why, not an empty string that fails later and elsewhere.
// Thread-safe as GoogleTest's assertions are.
#pragma once

#include <string>

namespace vigil::test_support {

/// The file's bytes; "" after reporting a non-fatal failure when it cannot be read.
std::string ReadFileOrFail(const std::string& path);

}  // namespace vigil::test_support
