// Ingest + verdict throughput on one thread: reads a JSONL file (ours or OONI's) with
// the analyzer's ingest, scores every measurement with the verdict rules, and prints
// MB/s and measurements/s of the whole, of ingest alone and of verdicts alone. The file
// is read once beforehand so the page cache, not the disk, feeds the run.
//
//   vigil_ingest_bench FILE [--rules testlists/verdict/rules.json]
//                           [--fingerprints testlists/fingerprints] [--repeat N]
//                           [--store SPEC]
//
// With --store, only the whole of `vigil analyze` is timed instead: read, parse, score
// and write into the store SPEC (a SQLite file is deleted before each repeat), through
// the same ScoreAndStore, without the command line around it.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "analysis/ingest/ingest.h"
#include "analysis/store/score_and_store.h"
#include "analysis/store/store.h"
#include "analysis/verdict/rules.h"

using namespace vigil::analysis;

namespace {

int StoreRuns(const std::string& file, const VerdictEngine& engine, const std::string& spec,
              int repeat) {
  const bool sqlite = spec.find("://") == std::string::npos;
  const std::string path = spec.rfind("sqlite:", 0) == 0 ? spec.substr(7) : spec;
  double best = 1e30;
  IngestStats stats;
  for (int i = 0; i < repeat; ++i) {
    if (sqlite) {
      for (const char* suffix : {"", "-wal", "-shm"}) std::remove((path + suffix).c_str());
    }
    const auto t0 = std::chrono::steady_clock::now();
    auto store = OpenStore(spec);
    if (!store.ok()) {
      std::fprintf(stderr, "%s\n", store.error().c_str());
      return 1;
    }
    IngestOptions options;
    vigil::Result<IngestStats> st = IngestStats{};
    vigil::Result<void> committed;
    {
      ScoreAndStore feed(store->get(), engine, options);
      st = feed.IngestPaths({file}, 0, nullptr, [](const IngestError&) {});
      committed = feed.Commit();
    }
    store->reset();  // closing is part of the run (SQLite checkpoints what is left)
    if (!st.ok() || !committed.ok()) {
      std::fprintf(stderr, "%s\n", st.ok() ? committed.error().c_str() : st.error().c_str());
      return 1;
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    stats = *st;
    best = std::min(best, s);
  }
  const double mb = static_cast<double>(stats.bytes) / 1e6;
  std::printf(
      "ingest + verdict + store into %s: %.1f MB, %llu measurements: best %.2f s, %.0f "
      "MB/s, %.0f measurements/s\n",
      spec.c_str(), mb, static_cast<unsigned long long>(stats.measurements), best, mb / best,
      static_cast<double>(stats.measurements) / best);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s FILE [--rules F] [--fingerprints DIR] [--repeat N]\n", argv[0]);
    return 2;
  }
  std::string file = argv[1];
  std::string rules = VIGIL_SOURCE_DIR "/testlists/verdict/rules.json";
  std::string fingerprints = VIGIL_SOURCE_DIR "/testlists/fingerprints";
  int repeat = 3;
  std::string store_spec;
  for (int i = 2; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--store")) store_spec = argv[i + 1];
    if (!std::strcmp(argv[i], "--rules")) rules = argv[i + 1];
    if (!std::strcmp(argv[i], "--fingerprints")) fingerprints = argv[i + 1];
    if (!std::strcmp(argv[i], "--repeat")) repeat = std::atoi(argv[i + 1]);
  }
  auto engine = VerdictEngine::Load(rules, fingerprints);
  if (!engine.ok()) {
    std::fprintf(stderr, "%s\n", engine.error().c_str());
    return 1;
  }
  {  // warm the page cache
    std::ifstream in(file, std::ios::binary);
    std::vector<char> buf(1 << 20);
    while (in.read(buf.data(), static_cast<std::streamsize>(buf.size()))) {
    }
  }
  if (!store_spec.empty()) return StoreRuns(file, *engine, store_spec, repeat);
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  auto run = [&](bool score) {
    uint64_t anomalies = 0;
    const auto t0 = std::chrono::steady_clock::now();
    auto stats = IngestPath(
        file, {},
        [&](ExtractedMeasurement& m) {
          if (score) anomalies += engine->Score(m, now).anomaly;
        },
        [](const IngestError& e) {
          std::fprintf(stderr, "%s:%llu: %s\n", e.file.c_str(),
                       static_cast<unsigned long long>(e.line), e.reason.c_str());
        });
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!stats.ok()) {
      std::fprintf(stderr, "%s\n", stats.error().c_str());
      std::exit(1);
    }
    return std::make_tuple(*stats, s, anomalies);
  };
  double best_all = 1e30, best_ingest = 1e30;
  IngestStats stats;
  for (int i = 0; i < repeat; ++i) {
    auto [st, s, a] = run(true);
    (void)a;
    stats = st;
    best_all = std::min(best_all, s);
    auto [st2, s2, a2] = run(false);
    (void)st2;
    (void)a2;
    best_ingest = std::min(best_ingest, s2);
  }
  // The same on every core, as `vigil analyze` runs it (IngestAndScore).
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  double best_parallel = 1e30;
  for (int i = 0; i < repeat; ++i) {
    uint64_t anomalies = 0;
    const auto t0 = std::chrono::steady_clock::now();
    auto st = IngestAndScore(
        {file}, {}, *engine, cores,
        [&](std::vector<ScoredMeasurement>& batch) {
          for (const auto& m : batch) anomalies += m.verdict.anomaly;
        },
        [](const IngestError&) {});
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!st.ok() || st->measurements != stats.measurements) {
      std::fprintf(stderr, "parallel ingest: %s\n",
                   st.ok() ? "measurement count differs" : st.error().c_str());
      return 1;
    }
    best_parallel = std::min(best_parallel, s);
  }
  const double mb = static_cast<double>(stats.bytes) / 1e6;
  const double n = static_cast<double>(stats.measurements);
  std::printf("ingest bench: %s: %.1f MB, %.0f measurements (%.1f KB each), %llu bad lines\n",
              file.c_str(), mb, n, mb * 1e3 / n, static_cast<unsigned long long>(stats.bad_lines));
  std::printf("  %-26s %10s %16s\n", "", "MB/s", "measurements/s");
  std::printf("  %-26s %10.0f %16.0f\n", "ingest + verdict (1 core)", mb / best_all, n / best_all);
  std::printf("  %-26s %10.0f %16.0f\n", "ingest alone", mb / best_ingest, n / best_ingest);
  char label[64];
  std::snprintf(label, sizeof label, "ingest + verdict (%u cores)", cores);
  std::printf("  %-26s %10.0f %16.0f\n", label, mb / best_parallel, n / best_parallel);
  std::printf("  %-26s %10s %16.0f\n", "verdicts alone", "",
              n / std::max(best_all - best_ingest, 1e-9));
  std::printf("  target: ingest + verdict >= 300 MB/s per core (%s)\n",
              mb / best_all >= 300 ? "met" : "NOT met");
  return 0;
}
