// Must not compile: probe/ may not include vantage/ (tests/layering/CMakeLists.txt).
#include "vantage/spool/spool.h"
