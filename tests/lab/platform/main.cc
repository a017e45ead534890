// lab_platform: the interference lab's stand-in for mp.weixin.qq.com's public-account
// articles. Serves the posts of a scenario's platform section at /s/<id> over plain HTTP
// on a local port (nginx in vgl-server terminates TLS for mp.weixin.qq.com and passes
// /s/ on to it), moves them through the section's phases counted from its own start, and
// writes what each post shows, and from when, as JSON lines. Usage in
// tests/lab/scenarios/README.md ("The stand-in platform").
#include <httplib.h>
#include <pthread.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>

#include "tests/lab/censor/scenario_parser.h"
#include "tests/lab/censor/truth_log.h"
#include "tests/lab/platform/platform_truth.h"
#include "tests/lab/platform/post_board.h"
#include "tests/lab/platform/post_pages.h"

namespace {

using vigil::lab::PostBoard;
using vigil::lab::PostChange;

int Usage() {
  std::fprintf(stderr,
               "usage: lab_platform --scenario FILE --listen HOST:PORT --truth FILE\n"
               "Serves the scenario's platform posts at http://HOST:PORT/s/<id>, applies its\n"
               "platform phases from its own start, and writes each post's status to FILE.\n");
  return 2;
}

double WallNow() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// The board, its truth and the wake-up of the phase thread, under one mutex: a page is
// served with the status the truth already records.
struct PlatformState {
  std::mutex mu{};
  std::condition_variable wake{};
  bool stop = false;
  PostBoard board;
  vigil::lab::FileTruthSink* truth;

  void Record(const std::vector<PostChange>& changes) {
    const double now = WallNow();
    for (const auto& change : changes) {
      truth->Record(vigil::lab::PostStatusRecord(now, change, *board.Find(change.post)));
    }
  }
};

}  // namespace

int main(int argc, char** argv) {
  std::string scenario_path, listen, truth_path;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i + 1 >= argc) return Usage();
    if (arg == "--scenario") {
      scenario_path = argv[++i];
    } else if (arg == "--listen") {
      listen = argv[++i];
    } else if (arg == "--truth") {
      truth_path = argv[++i];
    } else {
      std::fprintf(stderr, "lab_platform: bad argument \"%s\"\n", arg.c_str());
      return Usage();
    }
  }
  const size_t colon = listen.rfind(':');
  if (scenario_path.empty() || truth_path.empty() || colon == std::string::npos) return Usage();
  const std::string host = listen.substr(0, colon);
  const int port = std::atoi(listen.c_str() + colon + 1);
  if (port <= 0 || port > 65535) return Usage();

  vigil::lab::ScenarioLoad load = vigil::lab::LoadScenarioFile(scenario_path);
  for (const auto& e : load.errors) std::fprintf(stderr, "%s\n", e.c_str());
  if (!load.scenario) return 2;
  if (load.scenario->lab.platform.posts.empty()) {
    std::fprintf(stderr, "lab_platform: %s has no platform section\n", scenario_path.c_str());
    return 2;
  }
  vigil::lab::FileTruthSink truth(truth_path);
  if (!truth.ok()) {
    std::fprintf(stderr, "lab_platform: cannot write %s: %s\n", truth_path.c_str(),
                 std::strerror(errno));
    return 1;
  }

  // Signals go to one thread that waits for them; every other thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  for (int sig : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&signals, sig);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  PlatformState platform{.board = PostBoard(std::move(load.scenario->lab.platform)),
                         .truth = &truth};
  const auto start = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(platform.mu);
    platform.Record(platform.board.Initial());
    platform.Record(platform.board.AdvanceTo(0));
  }

  httplib::Server server;
  server.Get("/", [&](const httplib::Request&, httplib::Response& res) {
    std::lock_guard lock(platform.mu);
    res.set_content("vigil lab platform: " +
                        std::to_string(platform.board.platform().posts.size()) + " posts\n",
                    "text/plain");
  });
  server.Get(R"(/s/([A-Za-z0-9_-]+))", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(platform.mu);
    const vigil::lab::PlatformPost* post = platform.board.Find(req.matches[1].str());
    if (post == nullptr) {
      res.status = 404;
      res.set_content(vigil::lab::MissingPostPage(), "text/html; charset=utf-8");
      return;
    }
    res.set_content(vigil::lab::PostPage(*post, platform.board.StatusOf(*post)),
                    "text/html; charset=utf-8");
  });

  std::thread phases([&] {
    std::unique_lock lock(platform.mu);
    while (!platform.stop) {
      const auto next = platform.board.NextPhaseMs();
      if (!next) {
        platform.wake.wait(lock, [&] { return platform.stop; });
        break;
      }
      platform.wake.wait_until(lock, start + std::chrono::milliseconds(*next),
                               [&] { return platform.stop; });
      if (platform.stop) break;
      const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::steady_clock::now() - start)
                               .count();
      platform.Record(platform.board.AdvanceTo(elapsed));
    }
  });
  std::thread waiter([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    server.stop();
  });
  waiter.detach();

  std::fprintf(stderr, "lab_platform: serving %zu posts of %s at http://%s/s/<id>\n",
               platform.board.platform().posts.size(), scenario_path.c_str(), listen.c_str());
  const bool served = server.listen(host.c_str(), port);
  {
    std::lock_guard lock(platform.mu);
    platform.stop = true;
  }
  platform.wake.notify_all();
  phases.join();
  if (!served) {
    std::fprintf(stderr, "lab_platform: cannot listen on %s\n", listen.c_str());
    return 1;
  }
  return 0;
}
