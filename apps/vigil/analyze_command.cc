// `vigil analyze PATH...`: ingests measurement files and directories (JSONL, JSONL.gz,
// OONI's raw layout; ours and real OONI probes' alike), scores each measurement with the
// verdict rules, stores facts and verdicts (SQLite by default, ClickHouse with --store
// clickhouse://...) and prints how many measurements of each test came out ok, anomaly,
// confirmed and failure; `--agreement` compares those flags with OONI's own on the
// reference measurements; `--rescore` scores everything in the store again under the
// given rules; `--truth` sets each verdict beside the interference lab censor's ground
// truth (found, wrong technique, missed, false positive, ok per service and network).
// Bad lines are reported with file:line and skipped.
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "analysis/ingest/ingest.h"
#include "analysis/store/score_and_store.h"
#include "analysis/store/store.h"
#include "analysis/truth/accuracy.h"
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
  std::string store;
  bool no_store = false;
  bool rescore = false;
  unsigned threads = 0;
  std::vector<std::string> truth_files;
  std::vector<std::string> scenarios;
  std::string truth_json;
};

constexpr const char* kCommand = "analyze";

struct Tally {
  uint64_t ok = 0, anomaly = 0, confirmed = 0, failure = 0;
  // By verdict class (model/verdict_class.h), what `vigil run` and `vigil query` show.
  std::array<uint64_t, analysis::kVerdictClasses.size()> classes{};
  void Add(const VerdictRow& v) {
    ++classes[static_cast<size_t>(v.verdict)];
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

int RunRescore(const analysis::VerdictEngine& engine, analysis::Store& store) {
  auto stats = analysis::Rescore(store, engine);
  if (!stats.ok()) return Fail(kCommand, "--rescore: " + stats.error(), 1);
  auto counts = analysis::CountRows(store);
  if (!counts.ok()) return Fail(kCommand, counts.error(), 1);
  std::printf("rescored %llu measurements in %s under rules %s\n",
              static_cast<unsigned long long>(stats->measurements), store.Describe().c_str(),
              stats->rules_version.c_str());
  for (const auto& [version, n] : counts->verdicts) {
    std::printf("  rules %-10s %llu verdicts\n", version.c_str(),
                static_cast<unsigned long long>(n));
  }
  return 0;
}

// The scenario a truth file was written under: the lab's state directory names the
// scenario file beside truth.jsonl (tests/lab/lab.sh writes STATE/scenario); else the
// truth file's own name.
std::string ScenarioOf(const std::string& truth_file) {
  const std::filesystem::path path(truth_file);
  std::ifstream in(path.parent_path() / "scenario");
  std::string line;
  if (in && std::getline(in, line)) {
    const std::filesystem::path scenario(line);
    if (scenario.extension() == ".yaml" || scenario.extension() == ".yml") {
      return scenario.stem().string();
    }
  }
  return path.stem().string();
}

// Reads every --truth file; a bad line in any is a bad input.
Result<std::vector<analysis::ScenarioTruth>> ReadTruths(const AnalyzeFlags& flags) {
  if (flags.scenarios.size() > flags.truth_files.size()) {
    return Error{"--scenario names the scenario of a --truth file: give no more of them"};
  }
  std::vector<analysis::ScenarioTruth> truths;
  for (size_t i = 0; i < flags.truth_files.size(); ++i) {
    auto truth = analysis::ReadCensorTruth(flags.truth_files[i], flags.errors_shown);
    if (!truth.ok()) return Error{"--truth: " + truth.error()};
    truths.push_back(
        {i < flags.scenarios.size() ? flags.scenarios[i] : ScenarioOf(flags.truth_files[i]),
         std::move(*truth)});
  }
  return truths;
}

int RunAnalyze(AnalyzeFlags& flags) {
  if (flags.data_dir.empty()) flags.data_dir = DefaultDataDir();
  if (flags.rules.empty()) flags.rules = flags.data_dir + "/verdict/rules.json";
  if (flags.fingerprints.empty()) flags.fingerprints = flags.data_dir + "/fingerprints";
  if (flags.rescore && !flags.paths.empty()) {
    return Fail(kCommand, "--rescore scores what the store holds: give no paths with it");
  }
  if (flags.rescore && flags.no_store)
    return Fail(kCommand, "--rescore needs a store, not --no-store");
  if (flags.paths.empty() && !flags.rescore) {
    return Fail(kCommand, "give measurement files or directories to read (or --rescore)");
  }
  if (flags.rescore && !flags.truth_files.empty()) {
    return Fail(kCommand, "--truth compares the measurements read: give paths, not --rescore");
  }
  if (flags.truth_files.empty() && (!flags.scenarios.empty() || !flags.truth_json.empty())) {
    return Fail(kCommand, "--scenario and --truth-json go with --truth");
  }
  std::unique_ptr<analysis::TruthComparison> comparison;
  if (!flags.truth_files.empty()) {
    auto truths = ReadTruths(flags);
    if (!truths.ok()) return Fail(kCommand, truths.error());
    comparison = std::make_unique<analysis::TruthComparison>(std::move(*truths));
  }
  auto engine = analysis::VerdictEngine::Load(flags.rules, flags.fingerprints);
  if (!engine.ok()) return Fail(kCommand, "--rules: " + engine.error());
  std::unique_ptr<analysis::Store> store;
  if (!flags.no_store) {
    auto opened = analysis::OpenStoreOrDefault(flags.store);
    if (!opened.ok()) return Fail(kCommand, "--store: " + opened.error(), 1);
    store = std::move(*opened);
  }
  if (flags.rescore) return RunRescore(*engine, *store);
  analysis::IngestOptions options;
  auto index = analysis::LoadCategoryIndex(TestListFiles(flags.data_dir));
  if (!index.ok()) return Fail(kCommand, "test lists: " + index.error());
  options.categories = std::move(*index);

  std::vector<ExtractedMeasurement> kept;  // --agreement only: the reference data is small
  std::map<std::pair<std::string, std::string>, Tally> by_test_cc;
  uint64_t errors = 0;
  // Parsing and scoring run on every core (--threads); the store is written on a writer
  // thread of its own while the workers go on.
  analysis::ScoreAndStore feed(store.get(), *engine, options);
  auto stats = feed.IngestPaths(
      flags.paths, flags.threads,
      [&](const analysis::ScoredMeasurement& s) {
        const ExtractedMeasurement& m = s.facts;
        by_test_cc[{m.measurement.test_name, m.measurement.probe_cc}].Add(s.verdict);
        if (flags.agreement) kept.push_back(m);
        if (comparison) comparison->Add(m, s.verdict);
      },
      [&](const analysis::IngestError& e) {
        if (errors++ < flags.errors_shown) {
          std::fprintf(stderr, "%s:%llu: %s\n", e.file.c_str(),
                       static_cast<unsigned long long>(e.line), e.reason.c_str());
        }
      });
  if (!stats.ok()) return Fail(kCommand, stats.error(), 1);
  const analysis::IngestStats total = *stats;
  if (auto c = feed.Commit(); !c) return Fail(kCommand, "--store: " + c.error(), 1);
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
    if (!text.ok()) return Fail(kCommand, "--agreement: " + text.error(), 1);
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
      for (size_t i = 0; i < all.classes.size(); ++i) all.classes[i] += t.classes[i];
    }
    std::printf("%-30s %-3s %8llu %8llu %8llu %10llu %8llu\n", "all", "",
                static_cast<unsigned long long>(all.total()),
                static_cast<unsigned long long>(all.ok),
                static_cast<unsigned long long>(all.anomaly),
                static_cast<unsigned long long>(all.confirmed),
                static_cast<unsigned long long>(all.failure));
    std::string classes;
    for (analysis::VerdictClass c : analysis::kVerdictClasses) {
      classes += (classes.empty() ? "" : ", ") +
                 std::to_string(all.classes[static_cast<size_t>(c)]) + " " +
                 std::string(analysis::VerdictClassName(c));
    }
    std::printf("verdicts: %s\n", classes.c_str());
  }
  if (comparison) {
    std::fputs(("\n" + comparison->Table()).c_str(), stdout);
    if (!flags.truth_json.empty()) {
      std::ofstream out(flags.truth_json, std::ios::binary | std::ios::trunc);
      out << comparison->JsonLines();
      out.close();
      if (!out) return Fail(kCommand, "--truth-json: cannot write " + flags.truth_json, 1);
    }
  }
  std::fprintf(stderr,
               "vigil analyze: %llu measurements from %llu files (%.1f MB), %llu bad lines "
               "skipped; rules %s\n",
               static_cast<unsigned long long>(total.measurements),
               static_cast<unsigned long long>(total.files), static_cast<double>(total.bytes) / 1e6,
               static_cast<unsigned long long>(total.bad_lines), engine->version().c_str());
  if (store) {
    std::fprintf(stderr, "vigil analyze: stored in %s (`vigil query` reads it)\n",
                 store->Describe().c_str());
  }
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
  cmd->add_option("--store", flags->store,
                  "Where facts and verdicts go: a SQLite file, sqlite:PATH or "
                  "clickhouse://HOST:PORT/DB (default: $VIGIL_STORE or "
                  "$XDG_DATA_HOME/vigil/analysis.sqlite)");
  cmd->add_flag("--no-store", flags->no_store, "Only count; store nothing");
  cmd->add_option("--threads", flags->threads,
                  "Threads that parse and score (default: one per core)");
  cmd->add_flag("--rescore", flags->rescore,
                "Score every measurement in the store again under --rules (a new version is "
                "added beside the old ones; the same version is replaced)");
  cmd->add_option("--truth", flags->truth_files,
                  "The lab censor's ground truth (truth.jsonl; repeatable, one per scenario): "
                  "prints per scenario, service and network what the censor did, the verdict, "
                  "and found / wrong_technique / missed / false_positive / ok")
      ->allow_extra_args(false);
  cmd->add_option("--scenario", flags->scenarios,
                  "The scenario of each --truth file, in order (default: the scenario file "
                  "named beside it, else the truth file's name)")
      ->allow_extra_args(false);
  cmd->add_option("--truth-json", flags->truth_json,
                  "Also write the --truth comparison as JSON lines to this file");
  cmd->callback([flags] { SetExitCode(RunAnalyze(*flags)); });
}

}  // namespace vigil::cli
