// Where the test suites find the repository, the vigil binary and the reference
// data; compiled into vigil_test_support so that library always has a source.
#include <cstdlib>
#include <string>

namespace vigil::test_support {

std::string SourceDir() { return VIGIL_SOURCE_DIR; }

std::string VigilBinary() { return VIGIL_BINARY; }

std::string ReferenceDir() {
  if (const char* env = std::getenv("VIGIL_REFERENCE_DIR"); env && *env) return env;
  return std::string(VIGIL_SOURCE_DIR) + "/../shared/reference";
}

}  // namespace vigil::test_support
