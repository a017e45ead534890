// Durable files: what "on disk" means before vigil acknowledges or forgets anything.
// A file is written to a temporary name beside its destination, fsync'd, renamed over
// the destination and its directory fsync'd, so a crash leaves either the old file or
// the whole new one, never a torn one. Thread-safe (no shared state).
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace vigil {

/// Writes `bytes` to `path` durably (temp file, fsync, rename, fsync of the directory).
/// Creates missing parent directories. The error names the path and the system's reason.
Result<void> WriteFileDurably(const std::string& path, std::string_view bytes);

/// fsync of a directory, so that a rename or a new entry in it survives a crash.
Result<void> SyncDirectory(const std::string& dir);

/// Creates `dir` and its missing parents (mode 0700 for new ones: what vigil keeps is
/// the volunteer's alone). The error names the directory that could not be made.
Result<void> MakeDirectories(const std::string& dir);

}  // namespace vigil
