// How a `vigil` subcommand ends: the exit statuses every subcommand uses, the one
// status the process exits with, and Fail, which says why on stderr in one line
// ("vigil COMMAND: MESSAGE"). The version the binary reports lives here too.
// Called from the main thread (subcommands run there); not thread-safe.
#pragma once

#include <string_view>

namespace vigil::cli {

inline constexpr int kExitOk = 0;
/// The command ran, but something failed (a measurement that could not run, a write).
inline constexpr int kExitFailed = 1;
/// The command could not start: bad arguments, an unreadable file, no consent.
inline constexpr int kExitUsage = 2;

/// The version `vigil --version` prints and measurements carry.
const char* Version();

/// The exit status chosen by the subcommand that ran (kExitOk unless it set another).
int ExitCode();
void SetExitCode(int code);

/// Prints "vigil COMMAND: MESSAGE" on stderr, sets the exit status to `code` and
/// returns it.
int Fail(std::string_view command, std::string_view message, int code = kExitUsage);

}  // namespace vigil::cli
