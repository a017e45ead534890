#include "tests/lab/platform/platform_truth.h"

namespace vigil::lab {

nlohmann::json PostStatusRecord(double wall, const PostChange& change, const PlatformPost& post) {
  return {{"t", wall},
          {"post", change.post},
          {"account", post.account},
          {"status", PostStatusName(change.status)},
          {"phase", change.phase}};
}

}  // namespace vigil::lab
