// gzip for request bodies (zlib): the uploader compresses measurements, the collector
// inflates them with a bound on the output, so a small body that expands to gigabytes
// (a "gzip bomb") is refused after the bound instead of filling memory. Thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "base/result.h"

namespace vigil {

/// `bytes` as one gzip member.
std::string GzipCompress(std::string_view bytes, int level = 6);

/// The content of gzip (or zlib) data, concatenated members included. Errors: corrupt
/// or truncated data, or output over `max_output` bytes ("inflates to more than N bytes").
Result<std::string> InflateBounded(std::string_view compressed, size_t max_output);

/// Whether `bytes` start with gzip's magic number.
bool LooksGzipped(std::string_view bytes);

}  // namespace vigil
