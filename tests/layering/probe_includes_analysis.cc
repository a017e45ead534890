// Must not compile: probe/ may not include analysis/ (tests/layering/CMakeLists.txt).
#include "analysis/verdict/rules.h"
