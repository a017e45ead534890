// Paths the test suites need: the repository root, the vigil binary under test,
// and the reference data (../shared/reference, or $VIGIL_REFERENCE_DIR).
#pragma once

#include <string>

namespace vigil::test_support {

std::string SourceDir();
std::string VigilBinary();
std::string ReferenceDir();

}  // namespace vigil::test_support
