#include "tests/support/read_file.h"

#include <gtest/gtest.h>

#include "base/whole_file.h"

namespace vigil::test_support {

std::string ReadFileOrFail(const std::string& path) {
  Result<std::string> text = ReadWholeFile(path);
  if (!text.ok()) {
    ADD_FAILURE() << text.error();
    return "";
  }
  return std::move(*text);
}

}  // namespace vigil::test_support
