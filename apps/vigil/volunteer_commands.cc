// The volunteer's commands besides `vigil run`: `vigil onboard` (informed consent, the
// upload choice), `vigil upload` (everything pending, with progress and each failure's
// reason) and `vigil autorun enable|disable|status` (an hourly systemd timer, or the
// cron line where there is no systemd).
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <random>

#include "apps/vigil/commands.h"
#include "apps/vigil/volunteer.h"
#include "vantage/base/durable_file.h"
#include "vantage/runner/informed_consent.h"
#include "vantage/upload/upload_pending.h"

namespace vigil::cli {

int UploadSpool(const Volunteer& volunteer, const std::vector<std::string>& collectors_flag,
                size_t limit, bool quiet,
                std::optional<std::chrono::steady_clock::time_point> deadline) {
  auto spool = Spool::Open(volunteer.spool_dir);
  if (!spool.ok()) {
    std::fprintf(stderr, "vigil upload: %s\n", spool.error().c_str());
    return 2;
  }
  auto db = ResultsDb::Open(volunteer.results_db);
  if (!db.ok())
    std::fprintf(stderr, "vigil upload: %s (uploading without it)\n", db.error().c_str());
  UploadPendingOptions options;
  options.upload.collectors =
      collectors_flag.empty() ? volunteer.config.collectors : collectors_flag;
  options.limit = limit;
  options.deadline = deadline;
  if (options.upload.collectors.empty()) {
    std::fprintf(
        stderr,
        "vigil upload: no collector configured (--collector URL, or \"collectors\" in %s)\n",
        volunteer.config_path.c_str());
    return 2;
  }
  auto report = UploadPending(*spool, db.ok() ? db->get() : nullptr, options,
                              [quiet](const UploadProgress& p) { PrintUploadProgress(p, quiet); });
  return PrintUploadReport(report, volunteer, quiet, deadline);
}

void PrintUploadProgress(const UploadProgress& p, bool quiet) {
  if (quiet && p.result->ok) return;
  const bool tty = isatty(STDERR_FILENO) == 1;
  const std::string what =
      p.result->ok ? "uploaded as " + p.result->measurement_uid : "FAILED: " + p.result->error;
  if (tty && p.result->ok) {
    std::fprintf(stderr, "\r\033[K[%zu/%zu] %s %s", p.done, p.total, p.uid.c_str(), what.c_str());
  } else {
    std::fprintf(stderr, "%s[%zu/%zu] %s %s\n", tty ? "\r\033[K" : "", p.done, p.total,
                 p.uid.c_str(), what.c_str());
  }
  std::fflush(stderr);
}

int PrintUploadReport(const UploadReport& report, const Volunteer& volunteer, bool quiet,
                      std::optional<std::chrono::steady_clock::time_point> deadline) {
  if (isatty(STDERR_FILENO) == 1 && !quiet) std::fputc('\n', stderr);
  if (!report.error.empty()) {
    std::fprintf(stderr, "vigil upload: %s\n", report.error.c_str());
    return 2;
  }
  std::fprintf(stderr, "vigil upload: %zu uploaded, %zu failed, %zu left pending (of %zu)\n",
               report.uploaded, report.failed, report.pending - report.uploaded, report.pending);
  if (report.left > 0) {
    std::fprintf(stderr, "vigil upload: stopped early (%s); the rest stays in %s for next time\n",
                 deadline && std::chrono::steady_clock::now() >= *deadline
                     ? "time is up"
                     : "the collectors are not answering",
                 (volunteer.spool_dir + "/pending").c_str());
  }
  return report.failed > 0 || report.left > 0 ? 1 : 0;
}

namespace {

struct OnboardFlags {
  std::string config;
  bool yes = false;
  bool upload = false;
  bool no_upload = false;
  bool delivery = false;
  bool no_delivery = false;
  std::vector<std::string> collectors;
};

struct UploadFlags {
  std::string config;
  std::vector<std::string> collectors;
  size_t limit = 0;
  bool quiet = false;
};

struct AutorunFlags {
  std::string action;
  std::string config;
  std::string target = "im";
  std::string unit_dir;  // default: ~/.config/systemd/user (root: /etc/systemd/system)
  bool capture = false;  // enable: also let the binary capture packets (setcap)
  bool yes = false;      // ... without asking
};

bool HaveSystemd() {
  struct stat st {};
  return ::stat("/run/systemd/system", &st) == 0 && S_ISDIR(st.st_mode);
}

std::string SelfPath() {
  char buf[4096];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "vigil";
}

// Lets the vigil binary capture its own measurements' packets (CAP_NET_RAW, a file
// capability) so that hourly runs gather packet evidence without running as root: said
// what it means, asked for, then done with setcap (Debian's libcap2-bin).
int InstallCaptureCapability(bool yes) {
  const std::string self = SelfPath();
  std::printf(
      "autorun --capture: vigil will be allowed to capture network packets (CAP_NET_RAW on\n"
      "%s). Each run then records the packets of its own measurements -- the\n"
      "server's SYN-ACK, resets, DNS replies -- as evidence of injection. Packets are filtered\n"
      "to those kinds; reports never carry this machine's address. Any user who can run this\n"
      "binary gains the capability: undo with `setcap -r %s`.\n",
      self.c_str(), self.c_str());
  if (!yes) {
    std::printf("Type yes to allow it: ");
    std::fflush(stdout);
    std::string answer;
    if (!std::getline(std::cin, answer) || answer != "yes") {
      std::printf("autorun: capture not allowed; runs go on without packet evidence\n");
      return 0;
    }
  }
  if (::geteuid() != 0) {
    std::printf("autorun: only root can set it; run:\n  sudo setcap cap_net_raw+ep %s\n",
                self.c_str());
    return 0;
  }
  const std::string command = "setcap cap_net_raw+ep '" + self + "'";
  if (std::system(command.c_str()) != 0) {
    std::fprintf(stderr, "vigil autorun: `%s` failed (is libcap2-bin installed?)\n",
                 command.c_str());
    return 1;
  }
  std::printf("autorun: %s may now capture packets\n", self.c_str());
  return 0;
}

int Autorun(const AutorunFlags& flags) {
  const bool root = ::geteuid() == 0;
  std::string unit_dir = flags.unit_dir;
  if (unit_dir.empty()) {
    const char* home = std::getenv("HOME");
    unit_dir =
        root ? "/etc/systemd/system" : std::string(home ? home : ".") + "/.config/systemd/user";
  }
  const std::string service = unit_dir + "/vigil-autorun.service";
  const std::string timer = unit_dir + "/vigil-autorun.timer";
  const std::string command = SelfPath() + " run " + flags.target +
                              (flags.config.empty() ? "" : " --config " + flags.config) +
                              " --unattended";
  const std::string systemctl = root ? "systemctl" : "systemctl --user";
  struct stat st {};
  const bool installed = ::stat(timer.c_str(), &st) == 0;
  if (flags.action == "status") {
    std::printf("autorun: %s (%s)\n", installed ? "enabled" : "disabled", timer.c_str());
    if (installed && HaveSystemd()) {
      std::fflush(stdout);
      if (std::system((systemctl + " list-timers vigil-autorun.timer --no-pager").c_str()) != 0) {
        std::printf("autorun: systemctl could not list the timer\n");
      }
    }
    return 0;
  }
  if (flags.action == "disable") {
    if (HaveSystemd() && installed &&
        std::system((systemctl + " disable --now vigil-autorun.timer 2>/dev/null").c_str()) != 0) {
      std::printf("autorun: systemctl could not disable the timer (removing its files anyway)\n");
    }
    ::unlink(timer.c_str());
    ::unlink(service.c_str());
    std::printf("autorun: disabled (removed %s and %s)\n", timer.c_str(), service.c_str());
    return 0;
  }
  // enable: consent first, as for any run.
  auto volunteer = LoadVolunteer(flags.config, /*need_consent=*/true);
  if (!volunteer.ok()) {
    std::fprintf(stderr, "vigil autorun: %s\n", volunteer.error().c_str());
    return 2;
  }
  if (!HaveSystemd() && flags.unit_dir.empty()) {
    std::printf(
        "autorun: systemd is not running here; add this line to your crontab (crontab -e)\n"
        "instead, for a run every hour at a random minute:\n\n"
        "%d * * * * %s >/dev/null 2>&1\n",
        static_cast<int>(std::random_device{}() % 60), command.c_str());
    return flags.capture ? InstallCaptureCapability(flags.yes) : 0;
  }
  const std::string service_text =
      "[Unit]\nDescription=vigil: measure network interference (" + flags.target +
      ")\nAfter=network-online.target\n\n[Service]\nType=oneshot\nExecStart=" + command +
      "\nNice=10\n";
  const std::string timer_text =
      "[Unit]\nDescription=vigil: hourly measurements\n\n[Timer]\nOnCalendar=hourly\n"
      "RandomizedDelaySec=3600\nPersistent=true\n\n[Install]\nWantedBy=timers.target\n";
  for (const auto& [path, text] :
       {std::pair{service, service_text}, std::pair{timer, timer_text}}) {
    auto written = WriteFileDurably(path, text);
    if (!written.ok()) {
      std::fprintf(stderr, "vigil autorun: %s\n", written.error().c_str());
      return 1;
    }
    ::chmod(path.c_str(), 0644);
  }
  std::printf("autorun: wrote %s and %s (hourly, randomised delay up to an hour)\n",
              service.c_str(), timer.c_str());
  if (HaveSystemd() && flags.unit_dir.empty()) {
    const int rc = std::system(
        (systemctl + " daemon-reload && " + systemctl + " enable --now vigil-autorun.timer")
            .c_str());
    if (rc != 0) {
      std::fprintf(stderr, "vigil autorun: `%s enable --now vigil-autorun.timer` failed\n",
                   systemctl.c_str());
      return 1;
    }
    std::printf("autorun: enabled\n");
  }
  if (flags.capture) return InstallCaptureCapability(flags.yes);
  return 0;
}

}  // namespace

void AddOnboardCommand(CLI::App& app) {
  auto flags = std::make_shared<OnboardFlags>();
  CLI::App* c =
      app.add_subcommand("onboard", "Informed consent, a short quiz and the upload choice");
  c->add_option("--config", flags->config, "The config file to write (default: XDG path)");
  c->add_flag("--yes", flags->yes,
              "Accept without the quiz, for unattended installs (says what it accepted)");
  auto* up = c->add_flag("--upload", flags->upload, "Upload measurements (opt-in)");
  c->add_flag("--no-upload", flags->no_upload, "Keep measurements on this machine")->excludes(up);
  c->add_option("--collector", flags->collectors, "A collector URL (repeatable; tried in order)");
  auto* delivery = c->add_flag("--delivery", flags->delivery,
                               "Enable the delivery tests (explains what they send; asks to "
                               "acknowledge it)");
  c->add_flag("--no-delivery", flags->no_delivery, "Turn the delivery tests off")
      ->excludes(delivery);
  c->callback([flags] {
    OnboardOptions options;
    options.config_path = flags->config.empty() ? DefaultConfigPath() : flags->config;
    options.yes = flags->yes;
    if (flags->upload) options.upload = true;
    if (flags->no_upload) options.upload = false;
    if (flags->delivery) options.delivery = true;
    if (flags->no_delivery) options.delivery = false;
    options.collectors = flags->collectors;
    SetExitCode(RunOnboard(options, std::cin, std::cout, std::cerr));
  });
}

void AddUploadCommand(CLI::App& app) {
  auto flags = std::make_shared<UploadFlags>();
  CLI::App* c =
      app.add_subcommand("upload", "Upload every pending measurement, saying what failed and why");
  c->add_option("--config", flags->config, "The volunteer's config file (default: XDG path)");
  c->add_option("--collector", flags->collectors,
                "Use this collector instead of the config's (repeatable)");
  c->add_option("--limit", flags->limit, "At most this many measurements (0: all)");
  c->add_flag("--quiet", flags->quiet, "Only failures and the summary");
  c->callback([flags] {
    auto volunteer = LoadVolunteer(flags->config, /*need_consent=*/true);
    if (!volunteer.ok()) {
      Fail("upload", volunteer.error());
      return;
    }
    if (!volunteer->config.upload && flags->collectors.empty()) {
      Fail("upload", "uploading is off in " + volunteer->config_path +
                         " (`vigil onboard --upload` turns it on, or name a --collector to upload "
                         "this once)");
      return;
    }
    SetExitCode(
        UploadSpool(*volunteer, flags->collectors, flags->limit, flags->quiet, std::nullopt));
  });
}

void AddAutorunCommand(CLI::App& app) {
  auto flags = std::make_shared<AutorunFlags>();
  CLI::App* c =
      app.add_subcommand("autorun", "Run vigil every hour (systemd timer, or a cron line)");
  c->add_option("ACTION", flags->action, "enable, disable or status")
      ->required()
      ->check(CLI::IsMember({"enable", "disable", "status"}));
  c->add_option("--config", flags->config, "The volunteer's config file (default: XDG path)");
  c->add_option("--target", flags->target, "What each run measures (default: im)");
  c->add_option("--unit-dir", flags->unit_dir,
                "Write the systemd units here instead (no systemctl)");
  c->add_flag("--capture", flags->capture,
              "enable: also let vigil capture its measurements' packets (setcap "
              "cap_net_raw; explains and asks first)");
  c->add_flag("--yes", flags->yes, "With --capture: do not ask");
  c->callback([flags] { SetExitCode(Autorun(*flags)); });
}

}  // namespace vigil::cli
