#include "tests/support/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

extern char** environ;

namespace vigil::test_support {
namespace {

// Everything the child needs is built before fork(): between fork() and exec() a child of
// a multi-threaded process may only make async-signal-safe calls.
std::vector<char*> ArgvPointers(const std::vector<std::string>& argv) {
  std::vector<char*> pointers;
  pointers.reserve(argv.size() + 1);
  for (const std::string& arg : argv) pointers.push_back(const_cast<char*>(arg.c_str()));
  pointers.push_back(nullptr);
  return pointers;
}

// Runs in the child after fork(): wires stdin to /dev/null and stdout/stderr to out_fd,
// drops every other inherited descriptor (listening sockets of other fixtures must not
// stay open in a server), undoes signal state the test process may have changed, then
// execs. Never returns.
[[noreturn]] void ExecChild(char* const* argv, int null_fd, int out_fd, pid_t parent) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  // The parent may have died before prctl() took effect.
  if (getppid() != parent) _exit(127);
  dup2(null_fd, STDIN_FILENO);
  dup2(out_fd, STDOUT_FILENO);
  dup2(out_fd, STDERR_FILENO);
  close_range(3, UINT_MAX, 0);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  signal(SIGPIPE, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  signal(SIGINT, SIG_DFL);
  execve(argv[0], argv, environ);
  _exit(127);
}

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

}  // namespace

bool IsExecutable(const std::string& path) { return access(path.c_str(), X_OK) == 0; }

std::string FindExecutable(const std::string& name) {
  if (name.empty() || name.find('/') != std::string::npos) return name;
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    const std::string dir = end > start ? dirs.substr(start, end - start) : ".";
    const std::string candidate = dir + "/" + name;
    if (IsExecutable(candidate)) return candidate;
    start = end + 1;
  }
  return name;
}

namespace {
// argv with argv[0] resolved through PATH in the parent (the child only execs).
std::vector<std::string> Resolved(const std::vector<std::string>& argv) {
  std::vector<std::string> out = argv;
  if (!out.empty()) out[0] = FindExecutable(out[0]);
  return out;
}
}  // namespace

CommandResult RunCommand(const std::vector<std::string>& command,
                         std::chrono::milliseconds timeout) {
  const std::vector<std::string> argv = Resolved(command);
  CommandResult result;
  if (argv.empty() || !IsExecutable(argv[0])) {
    result.output = (argv.empty() ? std::string("no command") : argv[0]) + ": not executable";
    return result;
  }
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
    result.output = Errno("pipe2");
    return result;
  }
  const int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  std::vector<char*> pointers = ArgvPointers(argv);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid == 0) ExecChild(pointers.data(), null_fd, pipe_fds[1], parent);
  close(pipe_fds[1]);
  if (null_fd >= 0) close(null_fd);
  if (pid < 0) {
    close(pipe_fds[0]);
    result.output = Errno("fork");
    return result;
  }

  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool timed_out = false;
  char buffer[16384];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd pfd{pipe_fds[0], POLLIN, 0};
    const int ready = poll(&pfd, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) {
      timed_out = ready == 0;
      break;
    }
    const ssize_t n = read(pipe_fds[0], buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    result.output.append(buffer, static_cast<size_t>(n));
  }
  close(pipe_fds[0]);
  if (timed_out) kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) {
    result.output += "\n[killed after " + std::to_string(timeout.count()) + " ms]";
  } else if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  }
  return result;
}

ChildProcess::~ChildProcess() { Kill(); }

bool ChildProcess::Start(const std::vector<std::string>& command, const std::string& log_file,
                         std::string* error) {
  const std::vector<std::string> argv = Resolved(command);
  Kill();
  if (argv.empty() || !IsExecutable(argv[0])) {
    *error = (argv.empty() ? std::string("no command") : argv[0]) + ": not executable";
    return false;
  }
  const int log_fd = open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    *error = Errno("open " + log_file);
    return false;
  }
  const int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  std::vector<char*> pointers = ArgvPointers(argv);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid == 0) ExecChild(pointers.data(), null_fd, log_fd, parent);
  close(log_fd);
  if (null_fd >= 0) close(null_fd);
  if (pid < 0) {
    *error = Errno("fork");
    return false;
  }
  pid_ = pid;
  reaped_ = false;
  wait_status_ = 0;
  return true;
}

bool ChildProcess::Running() {
  if (pid_ < 0 || reaped_) return false;
  pid_t waited;
  do {
    waited = waitpid(pid_, &wait_status_, WNOHANG);
  } while (waited < 0 && errno == EINTR);
  if (waited == 0) return true;
  reaped_ = true;
  return false;
}

void ChildProcess::Kill() {
  if (pid_ < 0) return;
  if (!reaped_) {
    kill(pid_, SIGKILL);
    while (waitpid(pid_, &wait_status_, 0) < 0 && errno == EINTR) {
    }
    reaped_ = true;
  }
  pid_ = -1;
}

bool ChildProcess::Terminate(std::chrono::milliseconds grace) {
  if (pid_ < 0 || reaped_) return false;
  kill(pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!Running()) return WIFEXITED(wait_status_);
    usleep(10000);
  }
  Kill();
  return false;
}

std::string ChildProcess::ExitDescription() const {
  if (!reaped_) return "still running";
  if (WIFEXITED(wait_status_))
    return "exited with status " + std::to_string(WEXITSTATUS(wait_status_));
  if (WIFSIGNALED(wait_status_))
    return "killed by signal " + std::to_string(WTERMSIG(wait_status_));
  return "ended with wait status " + std::to_string(wait_status_);
}

}  // namespace vigil::test_support
