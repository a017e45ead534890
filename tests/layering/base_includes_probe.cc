// Must not compile: base/ may not include probe/ (tests/layering/CMakeLists.txt).
#include "probe/net/failure.h"
