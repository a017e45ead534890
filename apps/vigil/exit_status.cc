#include "apps/vigil/exit_status.h"

#include <cstdio>

#include "probe/measurement/envelope.h"

namespace vigil::cli {

namespace {
int g_exit_code = kExitOk;
}  // namespace

const char* Version() { return VigilVersion(); }
int ExitCode() { return g_exit_code; }
void SetExitCode(int code) { g_exit_code = code; }

int Fail(std::string_view command, std::string_view message, int code) {
  std::fprintf(stderr, "vigil %.*s: %.*s\n", static_cast<int>(command.size()), command.data(),
               static_cast<int>(message.size()), message.data());
  SetExitCode(code);
  return code;
}

}  // namespace vigil::cli
