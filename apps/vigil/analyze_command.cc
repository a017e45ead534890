// `vigil analyze PATH...`: ingests measurement files and directories (JSONL, JSONL.gz,
// OONI's raw layout; ours and real OONI probes' alike), scores each measurement with the
// verdict rules, and prints how many measurements of each test came out ok, anomaly,
// confirmed and failure; `--agreement` compares those flags with OONI's own on the
// reference measurements. Bad lines are reported with file:line and skipped.
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "analysis/ingest/ingest.h"
#include "analysis/verdict/agreement.h"
#include "analysis/verdict/rules.h"
#include "apps/vigil/commands.h"

namespace vigil::cli {

namespace {

using analysis::ExtractedMeasurement;
using analysis::VerdictRow;

struct AnalyzeFlags {
  std::vector<std::string> paths;
  std::string rules;
  std::string fingerprints;
  std::string data_dir;
  bool agreement = false;
  std::string reference_dir;
  size_t errors_shown = 20;
};

int Fail(const std::string& message, int code = 2) {
  std::fprintf(stderr, "vigil analyze: %s\n", message.c_str());
  return code;
}

struct Tally {
  uint64_t ok = 0, anomaly = 0, confirmed = 0, failure = 0;
  void Add(const VerdictRow& v) {
    // OONI's aggregation: each measurement counts once, failure first.
    if (v.failure) {
      ++failure;
    } else if (v.confirmed) {
      ++confirmed;
    } else if (v.anomaly) {
      ++anomaly;
    } else {
      ++ok;
    }
  }
  uint64_t total() const { return ok + anomaly + confirmed + failure; }
};

// Citizen Lab lists under DATA/lists (not the legend).
std::vector<std::string> ListFiles(const std::string& data_dir) {
  std::vector<std::string> lists;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(data_dir + "/lists", ec)) {
    const auto name = entry.path().filename().string();
    if (entry.path().extension() == ".csv" && name.rfind("00-", 0) != 0) {
      lists.push_back(entry.path().string());
    }
  }
  return lists;
}

int RunAnalyze(AnalyzeFlags& flags) {
  if (flags.data_dir.empty()) flags.data_dir = DefaultDataDir();
  if (flags.rules.empty()) flags.rules = flags.data_dir + "/verdict/rules.json";
  if (flags.fingerprints.empty()) flags.fingerprints = flags.data_dir + "/fingerprints";
  if (flags.paths.empty()) return Fail("give measurement files or directories to read");
  auto engine = analysis::VerdictEngine::Load(flags.rules, flags.fingerprints);
  if (!engine.ok()) return Fail("--rules: " + engine.error());
  analysis::IngestOptions options;
  auto index = analysis::LoadCategoryIndex(ListFiles(flags.data_dir));
  if (!index.ok()) return Fail("test lists: " + index.error());
  options.categories = std::move(*index);

  std::vector<ExtractedMeasurement> kept;  // --agreement only: the reference data is small
  std::map<std::pair<std::string, std::string>, Tally> by_test_cc;
  analysis::IngestStats total;
  uint64_t errors = 0;
  for (const auto& path : flags.paths) {
    auto stats = analysis::IngestPath(
        path, options,
        [&](ExtractedMeasurement& m) {
          by_test_cc[{m.measurement.test_name, m.measurement.probe_cc}].Add(engine->Score(m));
          if (flags.agreement) kept.push_back(std::move(m));
        },
        [&](const analysis::IngestError& e) {
          if (errors++ < flags.errors_shown) {
            std::fprintf(stderr, "%s:%llu: %s\n", e.file.c_str(),
                         static_cast<unsigned long long>(e.line), e.reason.c_str());
          }
        });
    if (!stats.ok()) return Fail(path + ": " + stats.error(), 1);
    total.files += stats->files;
    total.measurements += stats->measurements;
    total.bad_lines += stats->bad_lines;
    total.bytes += stats->bytes;
  }
  if (errors > flags.errors_shown) {
    std::fprintf(stderr, "vigil analyze: ... and %llu more bad lines\n",
                 static_cast<unsigned long long>(errors - flags.errors_shown));
  }

  if (flags.agreement) {
    if (flags.reference_dir.empty()) {
      flags.reference_dir = (std::filesystem::path(flags.data_dir) / "../../shared/reference")
                                .lexically_normal()
                                .string();
    }
    auto text = analysis::AgreementReportText(*engine, kept, flags.reference_dir);
    if (!text.ok()) return Fail("--agreement: " + text.error(), 1);
    std::fputs(text->c_str(), stdout);
    if (!text->empty() && text->back() != '\n') std::fputc('\n', stdout);
  } else {
    std::printf("%-30s %-3s %8s %8s %8s %10s %8s\n", "test", "cc", "total", "ok", "anomaly",
                "confirmed", "failure");
    Tally all;
    for (const auto& [key, t] : by_test_cc) {
      std::printf("%-30s %-3s %8llu %8llu %8llu %10llu %8llu\n", key.first.c_str(),
                  key.second.c_str(), static_cast<unsigned long long>(t.total()),
                  static_cast<unsigned long long>(t.ok), static_cast<unsigned long long>(t.anomaly),
                  static_cast<unsigned long long>(t.confirmed),
                  static_cast<unsigned long long>(t.failure));
      all.ok += t.ok;
      all.anomaly += t.anomaly;
      all.confirmed += t.confirmed;
      all.failure += t.failure;
    }
    std::printf("%-30s %-3s %8llu %8llu %8llu %10llu %8llu\n", "all", "",
                static_cast<unsigned long long>(all.total()),
                static_cast<unsigned long long>(all.ok),
                static_cast<unsigned long long>(all.anomaly),
                static_cast<unsigned long long>(all.confirmed),
                static_cast<unsigned long long>(all.failure));
  }
  std::fprintf(stderr,
               "vigil analyze: %llu measurements from %llu files (%.1f MB), %llu bad lines "
               "skipped; rules %s\n",
               static_cast<unsigned long long>(total.measurements),
               static_cast<unsigned long long>(total.files), static_cast<double>(total.bytes) / 1e6,
               static_cast<unsigned long long>(total.bad_lines), engine->version().c_str());
  return total.measurements == 0 && total.bad_lines > 0 ? 1 : 0;
}

}  // namespace

void AddAnalyzeCommand(CLI::App& app) {
  auto flags = std::make_shared<AnalyzeFlags>();
  CLI::App* cmd = app.add_subcommand(
      "analyze", "Read measurements (ours or OONI's), score them, count the verdicts");
  cmd->add_option("paths", flags->paths,
                  "JSONL / JSONL.gz / JSON files or directories (OONI's raw layout included)");
  cmd->add_option("--rules", flags->rules,
                  "Verdict rules file (default: testlists/verdict/rules.json)");
  cmd->add_option("--fingerprints", flags->fingerprints,
                  "Directory of fingerprints_dns.csv and fingerprints_http.csv");
  cmd->add_option("--data-dir", flags->data_dir, "The testlists/ directory (default: found)");
  cmd->add_flag("--agreement", flags->agreement,
                "Compare our flags with OONI's (expected.csv of the reference data)");
  cmd->add_option("--reference-dir", flags->reference_dir,
                  "Reference data for --agreement (default: ../shared/reference)");
  cmd->add_option("--errors-shown", flags->errors_shown, "Bad lines printed (all are counted)")
      ->capture_default_str();
  cmd->callback([flags] { SetExitCode(RunAnalyze(*flags)); });
}

}  // namespace vigil::cli
