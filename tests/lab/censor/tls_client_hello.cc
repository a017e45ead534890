#include "tests/lab/censor/tls_client_hello.h"

#include <vector>

namespace vigil::lab {
namespace {

constexpr size_t kMaxHandshake = 16 * 1024;

// A cursor that fails (and stays failed) instead of reading out of bounds.
class Reader {
 public:
  explicit Reader(std::span<const uint8_t> d) : d_(d) {}
  bool ok() const { return ok_; }
  size_t left() const { return d_.size() - pos_; }
  uint32_t U8() { return Take(1) ? d_[pos_ - 1] : 0; }
  uint32_t U16() { return Take(2) ? static_cast<uint32_t>(d_[pos_ - 2] << 8 | d_[pos_ - 1]) : 0; }
  uint32_t U24() {
    return Take(3) ? static_cast<uint32_t>(d_[pos_ - 3] << 16 | d_[pos_ - 2] << 8 | d_[pos_ - 1])
                   : 0;
  }
  std::span<const uint8_t> Bytes(size_t n) {
    return Take(n) ? d_.subspan(pos_ - n, n) : std::span<const uint8_t>();
  }

 private:
  bool Take(size_t n) {
    if (!ok_ || n > left()) {
      ok_ = false;
      return false;
    }
    pos_ += n;
    return true;
  }
  std::span<const uint8_t> d_;
  size_t pos_ = 0;
  bool ok_ = true;
};

HelloResult ParseBody(std::span<const uint8_t> body) {
  Reader r(body);
  r.Bytes(2 + 32);   // legacy_version, random
  r.Bytes(r.U8());   // session id
  r.Bytes(r.U16());  // cipher suites
  r.Bytes(r.U8());   // compression methods
  if (!r.ok()) return {HelloStatus::kNotTls, ""};
  if (r.left() == 0) return {HelloStatus::kNoSni, ""};
  Reader ext(r.Bytes(r.U16()));
  if (!r.ok()) return {HelloStatus::kNotTls, ""};
  while (ext.ok() && ext.left() >= 4) {
    uint32_t type = ext.U16();
    Reader data(ext.Bytes(ext.U16()));
    if (!ext.ok()) break;
    if (type != 0) continue;
    Reader list(data.Bytes(data.U16()));
    while (list.ok() && list.left() >= 3) {
      uint32_t name_type = list.U8();
      std::span<const uint8_t> name = list.Bytes(list.U16());
      if (list.ok() && name_type == 0 && !name.empty()) {
        return {HelloStatus::kFound, std::string(name.begin(), name.end())};
      }
    }
    return {HelloStatus::kNotTls, ""};
  }
  return {HelloStatus::kNoSni, ""};
}

}  // namespace

HelloResult ParseClientHelloSni(std::span<const uint8_t> stream) {
  std::vector<uint8_t> handshake;
  size_t pos = 0;
  while (true) {
    if (handshake.size() >= 4) {
      if (handshake[0] != 1) return {HelloStatus::kNotTls, ""};
      size_t len = static_cast<size_t>(handshake[1]) << 16 | handshake[2] << 8 | handshake[3];
      if (len > kMaxHandshake) return {HelloStatus::kNotTls, ""};
      if (handshake.size() >= 4 + len) {
        return ParseBody(std::span<const uint8_t>(handshake).subspan(4, len));
      }
    }
    if (pos >= stream.size()) return {HelloStatus::kNeedMore, ""};
    if (stream[pos] != 0x16) return {HelloStatus::kNotTls, ""};
    if (stream.size() - pos < 5) {
      if (stream.size() - pos >= 2 && stream[pos + 1] != 3) return {HelloStatus::kNotTls, ""};
      return {HelloStatus::kNeedMore, ""};
    }
    size_t rec_len = static_cast<size_t>(stream[pos + 3] << 8 | stream[pos + 4]);
    if (stream[pos + 1] != 3 || rec_len == 0 || rec_len > 16384 + 2048) {
      return {HelloStatus::kNotTls, ""};
    }
    size_t have = std::min(rec_len, stream.size() - pos - 5);
    const uint8_t* frag = stream.data() + pos + 5;
    handshake.insert(handshake.end(), frag, frag + have);
    if (handshake.size() > kMaxHandshake + 4) return {HelloStatus::kNotTls, ""};
    if (have < rec_len) {
      // A partial record: the handshake may still be complete inside it.
      if (handshake.size() >= 4) {
        size_t len = static_cast<size_t>(handshake[1]) << 16 | handshake[2] << 8 | handshake[3];
        if (handshake[0] == 1 && len <= kMaxHandshake && handshake.size() >= 4 + len) {
          return ParseBody(std::span<const uint8_t>(handshake).subspan(4, len));
        }
        if (handshake[0] != 1) return {HelloStatus::kNotTls, ""};
      }
      return {HelloStatus::kNeedMore, ""};
    }
    pos += 5 + rec_len;
  }
}

}  // namespace vigil::lab
