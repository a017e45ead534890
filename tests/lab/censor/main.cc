// lab_censor: the interference lab's programmable censor, a userspace L2 bridge that
// applies a scenario file to every frame between two interfaces and writes ground
// truth as JSON lines. Usage in tests/lab/scenarios/README.md.
#include <csignal>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>

#include "tests/lab/censor/bridge.h"
#include "tests/lab/censor/censor.h"
#include "tests/lab/censor/lab_settings.h"
#include "tests/lab/censor/scenario_parser.h"
#include "tests/lab/censor/truth_log.h"

namespace {

volatile std::sig_atomic_t g_stop = 0;

void OnSignal(int) { g_stop = 1; }

int Usage() {
  std::fprintf(stderr,
               "usage: lab_censor --in IFACE --out IFACE --scenario FILE --truth FILE "
               "[--seed N]\n"
               "       lab_censor --scenario FILE --check\n"
               "       lab_censor --scenario FILE --lab-settings\n"
               "Bridges frames between IFACE in (clients) and out (servers), applying the\n"
               "scenario; --check only validates the scenario (exit 0, or 2 with errors);\n"
               "--lab-settings validates it and prints what lab.sh applies besides the censor.\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string in, out, scenario_path, truth_path;
  bool check = false, lab_settings = false;
  uint64_t seed = std::random_device()();
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](std::string* dst) {
      if (i + 1 >= argc) return false;
      *dst = argv[++i];
      return true;
    };
    std::string seed_text;
    if (arg == "--check") {
      check = true;
    } else if (arg == "--lab-settings") {
      lab_settings = true;
    } else if ((arg == "--in" && value(&in)) || (arg == "--out" && value(&out)) ||
               (arg == "--scenario" && value(&scenario_path)) ||
               (arg == "--truth" && value(&truth_path))) {
    } else if (arg == "--seed" && value(&seed_text)) {
      seed = std::strtoull(seed_text.c_str(), nullptr, 10);
    } else {
      std::fprintf(stderr, "lab_censor: bad argument \"%s\"\n", arg.c_str());
      return Usage();
    }
  }
  if (scenario_path.empty()) return Usage();
  vigil::lab::ScenarioLoad load = vigil::lab::LoadScenarioFile(scenario_path);
  for (const auto& e : load.errors) std::fprintf(stderr, "%s\n", e.c_str());
  if (!load.scenario) return 2;
  if (lab_settings) {
    std::fputs(vigil::lab::LabSettingsText(load.scenario->lab).c_str(), stdout);
    return 0;
  }
  if (check) {
    size_t rules = 0;
    for (const auto& p : load.scenario->phases) rules += p.rules.size();
    std::printf("%s: ok (%zu phases, %zu rules)\n", scenario_path.c_str(),
                load.scenario->phases.size(), rules);
    return 0;
  }
  if (in.empty() || out.empty() || truth_path.empty()) return Usage();

  vigil::lab::FileTruthSink truth(truth_path);
  if (!truth.ok()) {
    std::fprintf(stderr, "lab_censor: cannot write %s: %s\n", truth_path.c_str(),
                 std::strerror(errno));
    return 1;
  }
  std::string error;
  auto bridge = vigil::lab::Bridge::Open(in, out, &error);
  if (!bridge) {
    std::fprintf(stderr, "lab_censor: %s\n", error.c_str());
    return 1;
  }
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  vigil::lab::Censor censor(std::move(*load.scenario), &truth, seed);
  std::fprintf(stderr, "lab_censor: bridging %s <-> %s with %s\n", in.c_str(), out.c_str(),
               scenario_path.c_str());
  return bridge->Run(&censor, &g_stop);
}
