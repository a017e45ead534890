// Must not compile: vantage/ may not include analysis/ (tests/layering/CMakeLists.txt).
#include "analysis/verdict/rules.h"
