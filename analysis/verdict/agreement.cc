#include "analysis/verdict/agreement.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <sstream>
#include <tuple>

#include "base/csv.h"
#include "base/whole_file.h"

namespace vigil::analysis {
namespace {

std::string BaseName(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

Result<std::vector<CsvRecord>> ReadCsv(const std::string& path) {
  auto text = ReadWholeFile(path);
  if (!text.ok()) return Error{text.error()};
  CsvText csv = ParseCsv(*text);
  if (!csv.errors.empty()) {
    const CsvSyntaxError& first = csv.errors.front();
    return Error{path + ":" + std::to_string(first.line) + ":" + std::to_string(first.column) +
                 ": " + first.message};
  }
  if (csv.records.empty()) return Error{path + ": empty file"};
  return std::move(csv.records);
}

int Column(const CsvRecord& header, std::string_view name) {
  for (size_t i = 0; i < header.fields.size(); ++i) {
    if (header.fields[i] == name) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace

Result<OoniVerdicts> LoadOoniVerdicts(const std::string& reference_dir) {
  const std::string expected_path = reference_dir + "/ooni-measurements/expected.csv";
  const std::string index_path = reference_dir + "/ooni-measurements/index.csv";
  auto expected = ReadCsv(expected_path);
  if (!expected.ok()) return Error{expected.error()};
  auto index = ReadCsv(index_path);
  if (!index.ok()) return Error{index.error()};

  const CsvRecord& eh = expected->front();
  const int e_file = Column(eh, "file"), e_line = Column(eh, "line"),
            e_field = Column(eh, "expected_field"), e_value = Column(eh, "expected_value");
  if (e_file < 0 || e_line < 0 || e_field < 0 || e_value < 0) {
    return Error{expected_path + ":1: header lacks file, line, expected_field or expected_value"};
  }
  // (file, line) -> [anomaly, confirmed, failure], -1 = not stated.
  std::map<std::pair<std::string, uint64_t>, std::array<int, 3>> flags;
  for (size_t r = 1; r < expected->size(); ++r) {
    const CsvRecord& row = (*expected)[r];
    if (row.fields.size() != eh.fields.size()) {
      if (row.fields.size() == 1 && row.fields[0].empty()) continue;
      return Error{expected_path + ":" + std::to_string(row.line) + ": expected " +
                   std::to_string(eh.fields.size()) + " fields"};
    }
    const std::string& field = row.fields[static_cast<size_t>(e_field)];
    int slot = field == "anomaly" ? 0 : field == "confirmed" ? 1 : field == "msm_failure" ? 2 : -1;
    if (slot < 0) continue;
    const std::string& value = row.fields[static_cast<size_t>(e_value)];
    if (value != "true" && value != "false") {
      return Error{expected_path + ":" + std::to_string(row.line) + ": " + field + ": \"" + value +
                   "\" is neither true nor false"};
    }
    const auto key = std::make_pair(BaseName(row.fields[static_cast<size_t>(e_file)]),
                                    std::stoull(row.fields[static_cast<size_t>(e_line)]));
    auto [it, inserted] = flags.try_emplace(key, std::array<int, 3>{-1, -1, -1});
    it->second[static_cast<size_t>(slot)] = value == "true";
  }

  const CsvRecord& ih = index->front();
  const int i_file = Column(ih, "file"), i_line = Column(ih, "line"),
            i_anomaly = Column(ih, "ooni_anomaly"), i_confirmed = Column(ih, "ooni_confirmed"),
            i_failure = Column(ih, "ooni_failure");
  if (i_file < 0 || i_line < 0 || i_anomaly < 0 || i_confirmed < 0 || i_failure < 0) {
    return Error{index_path + ":1: header lacks file, line or the ooni_ flag columns"};
  }
  for (size_t r = 1; r < index->size(); ++r) {
    const CsvRecord& row = (*index)[r];
    if (row.fields.size() != ih.fields.size()) continue;
    const auto key = std::make_pair(BaseName(row.fields[static_cast<size_t>(i_file)]),
                                    std::stoull(row.fields[static_cast<size_t>(i_line)]));
    auto it = flags.find(key);
    const std::array<int, 3> stated = {
        row.fields[static_cast<size_t>(i_anomaly)].empty()
            ? -1
            : int{row.fields[static_cast<size_t>(i_anomaly)] == "true"},
        row.fields[static_cast<size_t>(i_confirmed)].empty()
            ? -1
            : int{row.fields[static_cast<size_t>(i_confirmed)] == "true"},
        row.fields[static_cast<size_t>(i_failure)].empty()
            ? -1
            : int{row.fields[static_cast<size_t>(i_failure)] == "true"}};
    const bool any = stated[0] >= 0 || stated[1] >= 0 || stated[2] >= 0;
    if (it == flags.end()) {
      if (any) {
        return Error{index_path + ":" + std::to_string(row.line) + ": OONI flags for " + key.first +
                     ":" + std::to_string(key.second) + " that expected.csv lacks"};
      }
      continue;
    }
    if (it->second != stated) {
      return Error{index_path + ":" + std::to_string(row.line) + ": OONI flags for " + key.first +
                   ":" + std::to_string(key.second) + " differ from expected.csv's"};
    }
  }

  OoniVerdicts out;
  for (const auto& [key, f] : flags) {
    if (f[0] < 0 || f[1] < 0 || f[2] < 0) {
      return Error{expected_path + ": " + key.first + ":" + std::to_string(key.second) +
                   ": some of anomaly, confirmed, msm_failure are missing"};
    }
    out[key] = OutcomeOf(f[0] == 1, f[1] == 1, f[2] == 1);
  }
  return out;
}

AgreementReport CompareWithOoni(const VerdictEngine& engine,
                                const std::vector<ExtractedMeasurement>& measurements,
                                const OoniVerdicts& ooni) {
  AgreementReport report;
  report.rules_version = engine.version();
  std::vector<std::pair<std::string, uint64_t>> seen;
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  for (const ExtractedMeasurement& m : measurements) {
    const auto key = std::make_pair(BaseName(m.measurement.source_file), m.measurement.source_line);
    auto it = ooni.find(key);
    if (it == ooni.end()) {
      ++report.not_in_reference;
      continue;
    }
    seen.push_back(key);
    const VerdictRow row = engine.Score(m, now);
    const Outcome ours = OutcomeOf(row);
    ++report.compared;
    ++report.counts[static_cast<size_t>(ours)][static_cast<size_t>(it->second)];
    if (ours == it->second) {
      ++report.agreed;
      continue;
    }
    report.disagreements.push_back({key.first, key.second, m.measurement.test_name,
                                    m.measurement.input, ours, it->second,
                                    VerdictEngine::RulesFired(row)});
  }
  std::sort(seen.begin(), seen.end());
  for (const auto& [key, outcome] : ooni) {
    if (!std::binary_search(seen.begin(), seen.end(), key)) ++report.missing;
  }
  std::sort(report.disagreements.begin(), report.disagreements.end(),
            [](const Disagreement& a, const Disagreement& b) {
              return std::tie(a.file, a.line) < std::tie(b.file, b.line);
            });
  return report;
}

std::string AgreementReport::ToText() const {
  std::ostringstream out;
  out << "Agreement with OONI (rules " << rules_version << "): " << agreed << " of " << compared
      << " measurements";
  if (compared > 0) {
    char pct[16];
    std::snprintf(pct, sizeof pct, " (%.1f%%)", 100.0 * agreed / compared);
    out << pct;
  }
  out << "\n\n";
  out << "ours \\ OONI   ok  anomaly  confirmed  failure\n";
  for (size_t o = 0; o < 4; ++o) {
    char line[96];
    std::snprintf(line, sizeof line, "%-11s %4d %8d %10d %8d\n",
                  OutcomeName(static_cast<Outcome>(o)), counts[o][0], counts[o][1], counts[o][2],
                  counts[o][3]);
    out << line;
  }
  out << "\n"
      << not_in_reference << " measurements without OONI flags; " << missing
      << " OONI verdicts without their measurement\n";
  if (!disagreements.empty()) {
    out << "\nDisagreements:\n";
    for (const Disagreement& d : disagreements) {
      out << "  " << d.file << ":" << d.line << " " << d.test_name;
      if (!d.input.empty()) out << " " << d.input;
      out << ": ours " << OutcomeName(d.ours) << ", OONI " << OutcomeName(d.ooni) << " [" << d.rules
          << "]\n";
    }
  }
  return out.str();
}

Result<std::string> AgreementReportText(const VerdictEngine& engine,
                                        const std::vector<ExtractedMeasurement>& measurements,
                                        const std::string& reference_dir) {
  auto ooni = LoadOoniVerdicts(reference_dir);
  if (!ooni.ok()) return Error{ooni.error()};
  return CompareWithOoni(engine, measurements, *ooni).ToText();
}

}  // namespace vigil::analysis
