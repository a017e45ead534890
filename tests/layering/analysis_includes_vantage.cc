// Must not compile: analysis/ may not include vantage/ (tests/layering/CMakeLists.txt).
#include "vantage/spool/spool.h"
