// Must not compile: analysis/ may not include probe/ (tests/layering/CMakeLists.txt).
#include "probe/measurement/measurement.h"
