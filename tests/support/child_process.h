// ChildProcess runs a real server binary (unbound, nginx) as a child of the test process,
// its output in a log file, killed and reaped when the object is destroyed; RunCommand runs
// a tool (openssl, dig, curl) to completion. Not thread-safe: one thread owns each child.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace vigil::test_support {

/// How a command run by RunCommand ended.
struct CommandResult {
  /// The exit status, or -1 when it could not be started, was killed, or timed out.
  int exit_code = -1;
  /// Its standard output and standard error, interleaved as written.
  std::string output;
};

/// Runs argv (argv[0] a path, or a bare name looked up in PATH) with the test's environment and
/// standard input from /dev/null. Kills it after `timeout` so that a hung tool fails a test instead
/// of hanging it.
CommandResult RunCommand(const std::vector<std::string>& argv,
                         std::chrono::milliseconds timeout = std::chrono::seconds(30));

/// True when `path` names an executable file.
bool IsExecutable(const std::string& path);

/// `name` itself when it holds a '/', else the first executable PATH entry of that
/// name (or `name` unchanged when there is none).
std::string FindExecutable(const std::string& name);

class ChildProcess {
 public:
  ChildProcess() = default;
  /// Kills and reaps the child, so that a failing test never leaves a server behind.
  ~ChildProcess();

  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  /// Starts argv with standard output and error appended to `log_file`. The kernel kills
  /// the child (PR_SET_PDEATHSIG) when the thread that called Start ends, which covers a
  /// test process killed by a signal; so start servers from the test's main thread.
  bool Start(const std::vector<std::string>& argv, const std::string& log_file, std::string* error);

  /// True while the child has not exited; reaps it when it has.
  bool Running();

  /// SIGKILL and reap; the servers keep no state worth a graceful shutdown.
  void Kill();

  /// SIGTERM, then waits up to `grace` for it to exit (SIGKILL after); true when it
  /// exited on its own.
  bool Terminate(std::chrono::milliseconds grace);

  /// "exited with status N" or "killed by signal N", once the child has been reaped.
  std::string ExitDescription() const;

 private:
  pid_t pid_ = -1;
  int wait_status_ = 0;
  bool reaped_ = false;
};

}  // namespace vigil::test_support
