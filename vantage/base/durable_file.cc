#include "vantage/base/durable_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>

namespace vigil {
namespace {

std::string Reason() { return std::strerror(errno); }

std::string ParentOf(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

Result<void> MakeDirectories(const std::string& dir) {
  if (dir.empty()) return {};
  struct stat st {};
  if (::stat(dir.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return {};
    return Error{dir + ": exists and is not a directory"};
  }
  const std::string parent = ParentOf(dir);
  if (parent != dir) {
    auto made = MakeDirectories(parent);
    if (!made.ok()) return made;
  }
  if (::mkdir(dir.c_str(), 0700) != 0) {
    if (errno == EEXIST) return {};
    return Error{dir + ": cannot create directory: " + Reason()};
  }
  // The new entry survives a crash only once its parent is synced.
  return SyncDirectory(parent);
}

Result<void> SyncDirectory(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Error{dir + ": cannot open directory: " + Reason()};
  const int rc = ::fsync(fd);
  const std::string reason = rc != 0 ? Reason() : "";
  ::close(fd);
  if (rc != 0) return Error{dir + ": fsync: " + reason};
  return {};
}

Result<void> WriteFileDurably(const std::string& path, std::string_view bytes) {
  const std::string dir = ParentOf(path);
  auto made = MakeDirectories(dir);
  if (!made.ok()) return made;
  // A name no other writer of the same path uses at the same time.
  thread_local std::mt19937_64 rng{std::random_device{}()};
  const std::string temp =
      path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(rng());
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Error{temp + ": cannot create: " + Reason()};
  auto fail = [&](const std::string& what) {
    const std::string reason = Reason();
    ::close(fd);
    ::unlink(temp.c_str());
    return Error{path + ": " + what + ": " + reason};
  };
  for (size_t done = 0; done < bytes.size();) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail("write");
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) return fail("fsync");
  if (::close(fd) != 0) {
    const std::string reason = Reason();
    ::unlink(temp.c_str());
    return Error{path + ": close: " + reason};
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    const std::string reason = Reason();
    ::unlink(temp.c_str());
    return Error{path + ": rename: " + reason};
  }
  return SyncDirectory(dir);
}

}  // namespace vigil
