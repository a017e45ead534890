// FUZZ_CHECK: how a fuzz target states a parser's invariant. A broken one prints the
// condition and its line, then aborts: libFuzzer saves the input as a crash, and the
// corpus replay of the normal build fails on it. Unlike assert() it stays on in
// release builds (the fuzz preset defines NDEBUG).
#pragma once

#include <cstdio>
#include <cstdlib>

namespace vigil::fuzz {

[[noreturn]] inline void InvariantBroken(const char* condition, const char* file, int line) {
  std::fprintf(stderr, "%s:%d: fuzz invariant broken: %s\n", file, line, condition);
  std::abort();
}

}  // namespace vigil::fuzz

#define FUZZ_CHECK(condition) \
  ((condition) ? void(0) : ::vigil::fuzz::InvariantBroken(#condition, __FILE__, __LINE__))
