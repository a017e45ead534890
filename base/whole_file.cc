#include "base/whole_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace vigil {

Result<std::string> ReadWholeFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error{path + ": cannot open: " + std::strerror(errno)};
  auto fail = [&](const char* what) {
    const std::string reason = std::strerror(errno);
    ::close(fd);
    return Error{path + ": " + what + ": " + reason};
  };
  struct stat st {};
  if (::fstat(fd, &st) != 0) return fail("cannot stat");
  if (S_ISDIR(st.st_mode)) {
    ::close(fd);
    return Error{path + ": is a directory, not a file"};
  }
  std::string out;
  // The size is a hint only: the file may grow or shrink while it is read.
  out.reserve(st.st_size > 0 ? static_cast<size_t>(st.st_size) : 0);
  char buffer[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail("read error");
    }
    out.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

}  // namespace vigil
