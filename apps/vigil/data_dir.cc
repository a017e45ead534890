#include "apps/vigil/commands.h"

#include <cstdlib>
#include <filesystem>
#include <system_error>
#include <vector>

namespace vigil::cli {

// testlists/ beside an installed binary, in the source tree of a build, or in the
// working directory.
std::string DefaultDataDir() {
  if (const char* env = std::getenv("VIGIL_DATA_DIR"); env && *env) return env;
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  std::vector<std::filesystem::path> candidates;
  if (!ec) {
    const auto dir = exe.parent_path();
    candidates.push_back(dir / "../share/vigil/testlists");
    candidates.push_back(dir / "../../../../testlists");  // build/<preset>/apps/vigil/vigil
  }
  candidates.push_back("testlists");
  for (const auto& c : candidates) {
    if (std::filesystem::is_directory(c / "lists", ec)) {
      return std::filesystem::weakly_canonical(c, ec).string();
    }
  }
  return "testlists";
}

}  // namespace vigil::cli
