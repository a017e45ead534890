#include "tests/lab/censor/residual_table.h"

#include "tests/lab/censor/scenario.h"

namespace vigil::lab {

namespace {
// A bound on the table so a scan over many 3-tuples cannot exhaust memory; the
// oldest-expiring block goes first.
constexpr size_t kMaxBlocks = 65536;
}  // namespace

void ResidualTable::Add(const IpAddress& client, const IpAddress& server, uint16_t port,
                        const Rule* rule, int phase, int64_t now_ns) {
  int64_t until = now_ns + static_cast<int64_t>(rule->residual_seconds) * 1'000'000'000;
  Key key{client, server, port};
  auto it = blocks_.find(key);
  if (it != blocks_.end()) {
    if (until > it->second.until_ns) it->second = {rule, phase, until};
    return;
  }
  if (blocks_.size() >= kMaxBlocks) {
    auto victim = blocks_.begin();
    for (auto i = blocks_.begin(); i != blocks_.end(); ++i) {
      if (i->second.until_ns < victim->second.until_ns) victim = i;
    }
    blocks_.erase(victim);
  }
  blocks_.emplace(key, ResidualBlock{rule, phase, until});
}

const ResidualBlock* ResidualTable::Find(const IpAddress& client, const IpAddress& server,
                                         uint16_t port, int64_t now_ns) {
  auto it = blocks_.find(Key{client, server, port});
  if (it == blocks_.end()) return nullptr;
  if (it->second.until_ns <= now_ns) {
    blocks_.erase(it);
    return nullptr;
  }
  return &it->second;
}

}  // namespace vigil::lab
