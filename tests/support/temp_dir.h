// TempDir: a private directory under $TMPDIR (or /tmp) for one test server's config,
// data and logs, removed with everything in it when the object is destroyed.
// Not thread-safe; paths it returns may be shared freely once written.
#pragma once

#include <string>
#include <string_view>

namespace vigil::test_support {

class TempDir {
 public:
  /// Creates "<tmp>/<prefix>XXXXXX"; on failure ok() is false and error() says why.
  explicit TempDir(std::string_view prefix);
  ~TempDir();

  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  bool ok() const { return !path_.empty(); }
  const std::string& error() const { return error_; }
  const std::string& path() const { return path_; }

  /// The absolute path of `name` inside the directory.
  std::string Join(std::string_view name) const;

  /// Writes `content` to Join(name), creating parent directories; false with
  /// *error set on failure.
  bool WriteFile(std::string_view name, std::string_view content, std::string* error) const;

 private:
  std::string path_;
  std::string error_;
};

/// The whole content of `path`, or an empty string when it cannot be read.
std::string ReadFileOrEmpty(const std::string& path);

}  // namespace vigil::test_support
