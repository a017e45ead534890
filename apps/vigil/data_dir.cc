#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <system_error>
#include <vector>

#include "apps/vigil/commands.h"

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

std::vector<std::string> TestListFiles(const std::string& data_dir) {
  std::vector<std::string> lists;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(data_dir + "/lists", ec)) {
    const auto name = entry.path().filename().string();
    if (entry.path().extension() == ".csv" && name.rfind("00-", 0) != 0) {
      lists.push_back(entry.path().string());
    }
  }
  std::sort(lists.begin(), lists.end());
  return lists;
}

}  // namespace vigil::cli
