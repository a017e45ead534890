// Reading a whole file into memory: lists, rules, configs, fingerprints and stored
// measurements are small enough to hold at once, and every reader wants the same
// precise error ("path: cannot open: No such file or directory"). Thread-safe (no
// shared state).
#pragma once

#include <string>

#include "base/result.h"

namespace vigil {

/// The whole content of the file at `path`, bytes as stored. The error names the path
/// and the system's reason; a directory is an error, not an empty file.
Result<std::string> ReadWholeFile(const std::string& path);

}  // namespace vigil
