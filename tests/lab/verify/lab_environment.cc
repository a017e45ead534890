#include "tests/lab/verify/lab_environment.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>

#include "tests/support_paths.h"

namespace vigil::test_support {

namespace {

std::string CensorBinary() {
  if (const char* env = std::getenv("VIGIL_LAB_CENSOR"); env && *env) return env;
  // The censor is built beside the test binary (build/<preset>/tests/lab/).
  return std::string(VIGIL_LAB_CENSOR_BINARY);
}

// `bash lab.sh down --state DIR`, prepared before any signal can arrive: the
// handler below may only fork, exec and wait.
std::string g_bash, g_lab_sh, g_state;
char* g_down_argv[6] = {};

// SIGINT, SIGTERM or SIGHUP (ctest's timeout, Ctrl-C, a closed terminal): bring the
// lab down before dying, so no namespace, process or interface outlives the test.
void TearDownOnSignal(int sig) {
  const pid_t pid = fork();
  if (pid == 0) {
    execve(g_down_argv[0], g_down_argv, environ);
    _exit(127);
  }
  if (pid > 0) {
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
  signal(sig, SIG_DFL);
  raise(sig);
}

void InstallTearDownOnSignal(const std::string& lab_sh, const std::string& state) {
  g_bash = FindExecutable("bash");
  g_lab_sh = lab_sh;
  g_state = state;
  static char down[] = "down", flag[] = "--state";
  g_down_argv[0] = g_bash.data();
  g_down_argv[1] = g_lab_sh.data();
  g_down_argv[2] = down;
  g_down_argv[3] = flag;
  g_down_argv[4] = g_state.data();
  g_down_argv[5] = nullptr;
  struct sigaction sa {};
  sa.sa_handler = TearDownOnSignal;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaction(sig, &sa, nullptr);
}

}  // namespace

std::optional<std::string> LabEnvironment::Unavailable() {
  if (geteuid() != 0) return "the lab needs root (network namespaces); run the suite as root";
  auto probe = RunCommand({"ip", "netns", "list"}, std::chrono::seconds(5));
  if (probe.exit_code != 0) return "`ip netns` does not work here: " + probe.output;
  if (!IsExecutable(CensorBinary())) return "lab_censor not built at " + CensorBinary();
  return std::nullopt;
}

LabEnvironment::LabEnvironment(const std::string& scenario)
    : lab_sh_(SourceDir() + "/tests/lab/lab.sh"),
      state_("/tmp/vigil-lab-test-" + std::to_string(getpid())) {
  setenv("VIGIL_LAB_CENSOR", CensorBinary().c_str(), 0);
  setenv("VIGIL_LAB_STATE", state_.c_str(), 1);
  InstallTearDownOnSignal(lab_sh_, state_);
  auto r = RunCommand({"bash", lab_sh_, "up", "--scenario", scenario, "--state", state_},
                      std::chrono::seconds(60));
  if (r.exit_code != 0)
    error_ = "lab.sh up failed (" + std::to_string(r.exit_code) + "):\n" + r.output;
}

LabEnvironment::~LabEnvironment() {
  RunCommand({"bash", lab_sh_, "down", "--state", state_}, std::chrono::seconds(60));
  // The state (certificates, logs, captures) goes too, unless asked to keep it.
  const char* keep = std::getenv("VIGIL_LAB_KEEP");
  if (!keep || std::string(keep) != "1") {
    std::error_code ignored;
    std::filesystem::remove_all(state_, ignored);
  }
}

bool LabEnvironment::SwitchScenario(const std::string& scenario, std::string* error) {
  auto r = RunCommand({"bash", lab_sh_, "scenario", scenario, "--state", state_},
                      std::chrono::seconds(30));
  if (r.exit_code != 0 && error) *error = r.output;
  return r.exit_code == 0;
}

CommandResult LabEnvironment::Exec(const std::string& ns, std::vector<std::string> argv,
                                   std::chrono::milliseconds timeout) const {
  argv.insert(argv.begin(), {"ip", "netns", "exec", "vgl-" + ns});
  return RunCommand(argv, timeout);
}

nlohmann::json LabEnvironment::Measure(const std::string& ns, std::vector<std::string> args) const {
  args.insert(args.begin(), {VigilBinary(), "measure"});
  auto r = Exec(ns, args, std::chrono::seconds(60));
  auto j = nlohmann::json::parse(r.output, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return nullptr;
  return j;
}

std::vector<nlohmann::json> LabEnvironment::Truth() const {
  std::vector<nlohmann::json> lines;
  std::ifstream in(state_ + "/truth.jsonl");
  std::string line;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_discarded()) lines.push_back(std::move(j));
  }
  return lines;
}

std::vector<nlohmann::json> LabEnvironment::Actions() const {
  std::vector<nlohmann::json> actions;
  for (auto& j : Truth()) {
    if (j.contains("action")) actions.push_back(j);
  }
  return actions;
}

std::unique_ptr<ChildProcess> LabEnvironment::StartHelper(std::vector<std::string> extra) const {
  auto helper = std::make_unique<ChildProcess>();
  std::vector<std::string> argv = {"ip",          "netns",   "exec",     "vgl-control",
                                   VigilBinary(), "helper",  "--listen", "198.18.30.2:8090",
                                   "--ca-file",   ca_file(), "--asn-db", state_ + "/asn.mmdb",
                                   "--quiet"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  std::string error;
  if (!helper->Start(argv, state_ + "/helper.log", &error)) {
    ADD_FAILURE() << "vigil helper: " << error;
  }
  // Ready once it accepts connections.
  for (int i = 0; i < 50; ++i) {
    if (Exec("control", {"curl", "-s", "-o", "/dev/null", kHelperUrl}).exit_code == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return helper;
}

}  // namespace vigil::test_support
