#include "vantage/base/gzip.h"

#include <zlib.h>

#include <climits>

namespace vigil {

std::string GzipCompress(std::string_view bytes, int level) {
  z_stream z{};
  // 15 window bits + 16: a gzip header and trailer instead of zlib's.
  deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out;
  out.resize(deflateBound(&z, static_cast<uLong>(bytes.size())) + 32);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  z.avail_in = static_cast<uInt>(bytes.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

bool LooksGzipped(std::string_view bytes) {
  return bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x1f &&
         static_cast<unsigned char>(bytes[1]) == 0x8b;
}

Result<std::string> InflateBounded(std::string_view compressed, size_t max_output) {
  if (compressed.size() > UINT_MAX) return Error{"compressed body too large"};
  z_stream z{};
  // 15 + 32: detect gzip or zlib headers.
  if (inflateInit2(&z, 15 + 32) != Z_OK) return Error{"zlib: cannot initialise"};
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  z.avail_in = static_cast<uInt>(compressed.size());
  std::string out;
  char chunk[65536];
  for (;;) {
    z.next_out = reinterpret_cast<Bytef*>(chunk);
    z.avail_out = sizeof(chunk);
    const int rc = inflate(&z, Z_NO_FLUSH);
    const size_t produced = sizeof(chunk) - z.avail_out;
    if (out.size() + produced > max_output) {
      inflateEnd(&z);
      return Error{"inflates to more than " + std::to_string(max_output) + " bytes"};
    }
    out.append(chunk, produced);
    if (rc == Z_STREAM_END) {
      if (z.avail_in == 0) break;
      // Another member follows (concatenated gzip is valid gzip).
      if (inflateReset(&z) != Z_OK) break;
      continue;
    }
    if (rc == Z_OK) continue;
    if (rc == Z_BUF_ERROR && z.avail_in == 0) {
      inflateEnd(&z);
      return Error{"truncated gzip data"};
    }
    const std::string reason = z.msg ? z.msg : "corrupt data";
    inflateEnd(&z);
    return Error{"corrupt gzip data: " + reason};
  }
  inflateEnd(&z);
  return out;
}

}  // namespace vigil
