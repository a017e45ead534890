// ResidualTable: the (client IP, server IP, server port) 3-tuples a rule has blocked
// for a while after it fired — the GFW's "residual censorship" — with their expiry.
// Not thread-safe: one owner.
#pragma once

#include <cstdint>
#include <map>
#include <tuple>

#include "tests/lab/censor/ip_prefix.h"

namespace vigil::lab {

struct Rule;

struct ResidualBlock {
  const Rule* rule = nullptr;
  int phase = 0;
  int64_t until_ns = 0;
};

class ResidualTable {
 public:
  /// Blocks the 3-tuple until now + rule->residual_seconds (extending, never shortening).
  void Add(const IpAddress& client, const IpAddress& server, uint16_t port, const Rule* rule,
           int phase, int64_t now_ns);
  /// The live block on the 3-tuple, or nullptr (expired blocks are removed here).
  const ResidualBlock* Find(const IpAddress& client, const IpAddress& server, uint16_t port,
                            int64_t now_ns);
  size_t size() const { return blocks_.size(); }

 private:
  using Key = std::tuple<IpAddress, IpAddress, uint16_t>;
  std::map<Key, ResidualBlock> blocks_;
};

}  // namespace vigil::lab
